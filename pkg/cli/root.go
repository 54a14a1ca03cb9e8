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

// Package cli defines the arcturus command and its subcommands. Each
// subcommand parses flags into a typed config and calls into the package
// that does the work.
package cli

import (
	"github.com/spf13/cobra"
)

// NewRootCommand returns the arcturus command.
func NewRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "arcturus",
		Short:         "Arcturus runs a multi-tenant region of containers and virtual machines",
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	root.AddCommand(
		newUpCommand(),
		newServerCommand(),
		newAgentCommand(),
		newSchedulerCommand(),
		newControllerManagerCommand(),
		newImageCommand(),
		newKubectlCommand(),
		newTenantCommand(),
		newKubeconfigCommand(),
		newBenchCommand(),
		newMetalCommand(),
	)
	return root
}
