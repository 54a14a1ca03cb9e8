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
	"fmt"

	"github.com/spf13/cobra"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/apiserver"
)

func newServerCommand() *cobra.Command {
	return newServeCommand("server", "Run the region API server (a tenant and resource partition)")
}

// newUpCommand starts a whole single-node region in one process. Today that
// is the API server with embedded etcd and its lifecycle controllers.
func newUpCommand() *cobra.Command {
	return newServeCommand("up", "Start a single-node region: API server with embedded etcd")
}

func newServeCommand(use, short string) *cobra.Command {
	o := apiserver.NewOptions()
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return runServer(genericapiserver.SetupSignalContext(), o)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func runServer(ctx context.Context, o *apiserver.Options) error {
	s, err := apiserver.New(ctx, o)
	if err != nil {
		return err
	}
	klog.InfoS("Serving", "url", o.ServerURL(), "kubeconfig", o.AdminKubeconfigPath())
	fmt.Printf("Arcturus is serving at %s\nAdmin kubeconfig: %s\nTry: arcturus kubectl --kubeconfig %s get namespaces\n",
		o.ServerURL(), o.AdminKubeconfigPath(), o.AdminKubeconfigPath())
	return s.Run(ctx)
}
