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
	"os"

	"github.com/spf13/cobra"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"

	"github.com/arcturus-cloud/arcturus/pkg/apiserver"
)

// newKubectlCommand embeds upstream kubectl. Without KUBECONFIG or
// --kubeconfig it talks to the local region as its admin.
func newKubectlCommand() *cobra.Command {
	return &cobra.Command{
		Use:                "kubectl",
		Short:              "Run kubectl against the region",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if os.Getenv("KUBECONFIG") == "" && !hasKubeconfigFlag(args) {
				o := apiserver.NewOptions()
				if _, err := os.Stat(o.AdminKubeconfigPath()); err == nil {
					os.Setenv("KUBECONFIG", o.AdminKubeconfigPath())
				}
			}
			kubectl := kubectlcmd.NewDefaultKubectlCommand()
			kubectl.SetArgs(args)
			return kubectl.Execute()
		},
	}
}

func hasKubeconfigFlag(args []string) bool {
	for _, a := range args {
		if a == "--kubeconfig" || len(a) > 13 && a[:13] == "--kubeconfig=" {
			return true
		}
	}
	return false
}
