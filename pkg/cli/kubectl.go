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
	"strings"

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
			if !hasKubeconfigFlag(args) {
				if _, err := os.Stat(localKubeconfig()); err == nil {
					os.Setenv("KUBECONFIG", localKubeconfig())
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
		if a == "--kubeconfig" || strings.HasPrefix(a, "--kubeconfig=") {
			return true
		}
	}
	return false
}

// localKubeconfig is $KUBECONFIG, or else the admin kubeconfig of the local
// region at the default data directory.
func localKubeconfig() string {
	if path := os.Getenv("KUBECONFIG"); path != "" {
		return path
	}
	return apiserver.NewOptions().AdminKubeconfigPath()
}
