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

package framework

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/arcturus-cloud/arcturus/pkg/oci"
)

// BusyboxPath is where Debian's busybox-static installs its binary.
const BusyboxPath = oci.BusyboxPath

// BusyboxImage is an image holding Debian's static busybox with a link
// for every applet, so that sh, sleep, cat and the rest work.
func BusyboxImage(name, busybox string) (oci.Image, error) {
	return oci.BusyboxImage(name, busybox)
}

// BusyboxArchive writes the busybox image named name as an OCI archive in
// a temporary directory and returns its path. It skips the test when
// busybox-static is not installed.
func BusyboxArchive(t testing.TB, name string) string {
	t.Helper()
	if _, err := os.Stat(BusyboxPath); err != nil {
		t.Skipf("busybox-static is not installed: %v", err)
	}
	img, err := BusyboxImage(name, BusyboxPath)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := oci.Write(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "busybox.oci.tar")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
