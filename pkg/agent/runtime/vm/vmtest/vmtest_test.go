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

package vmtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/uuid"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/initramfs"
)

func TestInitramfs(t *testing.T) {
	k := Boot(t)
	if _, err := exec.LookPath("cpio"); err != nil {
		t.Skip("cpio not installed")
	}
	f, err := os.Open(k.Initrd)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command("cpio", "-it", "--quiet")
	cmd.Stdin = f
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cpio cannot read the initramfs: %v", err)
	}
	entries := strings.Fields(string(out))
	for _, want := range []string{"init", "bin/busybox", "bin/sh", "dev/console", initramfs.LoadOrder, "etc/acpi/PWRF/00000080"} {
		if !slices.Contains(entries, want) {
			t.Errorf("initramfs lacks %s: %v", want, entries)
		}
	}

	mods, _, err := initramfs.ResolveModules(filepath.Join("/lib/modules", k.Version), guestModules)
	if err != nil {
		t.Fatal(err)
	}
	index := func(name string) int {
		return slices.IndexFunc(mods, func(m string) bool { return initramfs.ModuleName(m) == name })
	}
	for _, dep := range [][2]string{{"virtio", "virtio_net"}, {"virtio_ring", "virtio_blk"}, {"cdrom", "isofs"}} {
		if i, j := index(dep[0]), index(dep[1]); i < 0 || j < 0 || i > j {
			t.Errorf("%s must load before %s: %v", dep[0], dep[1], mods)
		}
	}
}

func TestSandboxes(t *testing.T) {
	s := NewSandboxes(t)
	pod := &v1.Pod{}
	pod.Name, pod.Namespace, pod.UID = "p", "default", uuid.NewUUID()
	ctx := context.Background()
	sb, err := s.EnsureSandbox(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.EnsureSandbox(ctx, pod)
	if err != nil || again.NetNS != sb.NetNS || !slices.Equal(again.IPs, sb.IPs) {
		t.Errorf("second EnsureSandbox: %+v, %v; first %+v", again, err, sb)
	}
	if _, err := os.Stat(sb.NetNS); err != nil {
		t.Fatal(err)
	}
	// eth0 of the namespace answers from the host.
	if err := Ping(ctx, sb.IPs[0]); err != nil {
		t.Error(err)
	}
	for range 2 {
		if err := s.RemoveSandbox(ctx, pod.UID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(sb.NetNS); err == nil {
		t.Error("namespace left behind")
	}
}
