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
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/arcturus-cloud/arcturus/pkg/agent/containerd"
	"github.com/arcturus-cloud/arcturus/pkg/apiserver"
)

func newImageCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Manage the images of this node's container runtime"}
	cmd.AddCommand(newImageImportCommand())
	return cmd
}

func newImageImportCommand() *cobra.Command {
	var dataDir, socket, baseName string
	cmd := &cobra.Command{
		Use:   "import FILE...",
		Short: "Load image archives (OCI or docker save) into the node's containerd, no registry needed",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			if socket == "" {
				socket = containerd.Socket(filepath.Join(dataDir, "agent", "containerd"))
			}
			for _, file := range files {
				f, err := os.Open(file)
				if err != nil {
					return err
				}
				names, err := containerd.Import(cmd.Context(), socket, f, baseName)
				f.Close()
				if err != nil {
					return fmt.Errorf("%s: %w", file, err)
				}
				for _, n := range names {
					fmt.Fprintf(cmd.OutOrStdout(), "imported %s\n", n)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", apiserver.DefaultDataDir(), "Data directory of the node, whose managed containerd receives the images.")
	cmd.Flags().StringVar(&socket, "containerd-socket", "", "Socket of the containerd to import into (default: the node's managed one).")
	cmd.Flags().StringVar(&baseName, "base-name", "", "Repository to name images by when the archive gives only a tag (e.g. local/busybox).")
	return cmd
}
