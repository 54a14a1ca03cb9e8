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

// Command arcturus runs and operates an Arcturus region.
package main

import (
	"os"

	"k8s.io/component-base/cli"

	arccli "github.com/arcturus-cloud/arcturus/pkg/cli"
	"github.com/arcturus-cloud/arcturus/pkg/metal/agent"
)

func main() {
	root := arccli.NewRootCommand()
	// As the /init of the inventory agent's initramfs, the binary is
	// started by the kernel, with no arguments.
	if agent.IsInit() {
		root.SetArgs([]string{"metal", "agent"})
	}
	os.Exit(cli.Run(root))
}
