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

// Package e2e runs Arcturus end to end on this machine: the API server in
// process, and node agents that run real containers through containerd and
// real VMs through QEMU. Tests skip when the machine cannot run them (not
// root, packages missing); the test command installs the packages.
package e2e

import (
	"os"
	"testing"

	"github.com/arcturus-cloud/arcturus/test/framework"
)

func TestMain(m *testing.M) { os.Exit(framework.Run(m)) }
