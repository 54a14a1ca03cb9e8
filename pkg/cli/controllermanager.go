/*
Copyright 2026 The Arcturus Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package cli

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/spf13/cobra"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/arcturus-cloud/arcturus/pkg/controllers"
	"github.com/arcturus-cloud/arcturus/pkg/health"
	"github.com/arcturus-cloud/arcturus/pkg/leaderelection"
)

// newControllerManagerCommand runs the region's controllers apart from the
// API server (started with --run-controllers=false), as kube-controller-manager
// does; replicas elect a leader.
func newControllerManagerCommand() *cobra.Command {
	opts := controllers.NewOptions()
	election := leaderelection.NewOptions(controllers.LeaseName)
	var kubeconfig string
	healthAddress := "127.0.0.1:10257"
	cmd := &cobra.Command{
		Use:   "controller-manager --kubeconfig FILE",
		Short: "Run the region's controllers: tenants, namespaces, garbage collection, workloads, nodes",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if kubeconfig == "" {
				return errors.New("--kubeconfig is required")
			}
			if err := opts.Validate(); err != nil {
				return err
			}
			setControlPlaneGCPercent()
			config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
			if err != nil {
				return fmt.Errorf("loading kubeconfig %s: %w", kubeconfig, err)
			}
			ctx, cancel := context.WithCancel(genericapiserver.SetupSignalContext())
			defer cancel()
			var (
				wg        sync.WaitGroup
				healthErr error
			)
			wg.Go(func() {
				if healthErr = health.Serve(ctx, healthAddress, func() error { return nil }); healthErr != nil {
					cancel()
				}
			})
			err = controllers.RunElected(ctx, config, opts, election)
			cancel()
			wg.Wait()
			return errors.Join(err, healthErr)
		},
	}
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", kubeconfig, "Kubeconfig of a system master of the region.")
	cmd.Flags().StringVar(&healthAddress, "health-address", healthAddress, "Address serving /healthz, /readyz, /metrics and /debug/pprof over plain HTTP (keep it on loopback); empty disables it.")
	opts.AddFlags(cmd.Flags())
	election.AddFlags(cmd.Flags())
	return cmd
}
