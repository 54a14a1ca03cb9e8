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

package oci

import (
	"fmt"
	"os"
	"os/exec"
	goruntime "runtime"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// BusyboxPath is where Debian's busybox-static installs its binary.
const BusyboxPath = "/bin/busybox"

// BusyboxImage is an image named name holding the static busybox at path
// with a link for every applet, so that sh, sleep, cat and the rest work.
// Tests and benchmarks run it on nodes without a registry.
func BusyboxImage(name, path string) (Image, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Image{}, fmt.Errorf("reading busybox (apt-get install busybox-static): %w", err)
	}
	out, err := exec.Command(path, "--list-full").Output()
	if err != nil {
		return Image{}, fmt.Errorf("listing busybox applets: %w", err)
	}
	files := []File{
		{Path: "bin/busybox", Mode: 0o755, Data: data},
		{Path: "etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		{Path: "etc/group", Mode: 0o644, Data: []byte("root:x:0:\nnobody:x:65534:\n")},
		{Path: "tmp/.keep", Mode: 0o644},
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet == "bin/busybox" {
			continue
		}
		files = append(files, File{Path: applet, Linkname: "/bin/busybox"})
	}
	return Image{
		Name: name, Architecture: goruntime.GOARCH, OS: "linux",
		Layers: [][]File{files},
		Config: ocispec.ImageConfig{
			Cmd: []string{"sh"},
			Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		},
	}, nil
}
