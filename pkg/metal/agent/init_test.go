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

package agent

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/klog/v2/ktesting"

	"github.com/arcturus-cloud/arcturus/pkg/initramfs"
)

// TestLoadModules covers what needs no real module: the end-to-end test
// loads real ones.
func TestLoadModules(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	root := t.TempDir()
	// Without a load order, there is nothing to load.
	if err := loadModules(ctx, root); err != nil {
		t.Fatal(err)
	}
	// A module that cannot be loaded is skipped.
	order := filepath.Join(root, initramfs.LoadOrder)
	if err := os.MkdirAll(filepath.Dir(order), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(order, []byte("\nkernel/missing.ko\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := loadModules(ctx, root); err != nil {
		t.Fatal(err)
	}
}

func TestInitOnlyAsInit(t *testing.T) {
	if err := Init(Options{}); err == nil {
		t.Error("Init returned no error outside PID 1")
	}
}
