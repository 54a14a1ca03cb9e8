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
	"github.com/spf13/cobra"
	genericapiserver "k8s.io/apiserver/pkg/server"

	"github.com/arcturus-cloud/arcturus/pkg/scheduler"
)

func newSchedulerCommand() *cobra.Command {
	o := scheduler.NewOptions()
	cmd := &cobra.Command{
		Use:   "scheduler --kubeconfig FILE",
		Short: "Run the scheduler: place the region's pending pods, containers and VMs, on its nodes",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			setControlPlaneGCPercent()
			return o.Run(genericapiserver.SetupSignalContext())
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}
