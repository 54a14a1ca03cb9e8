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
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
)

const mib = 1 << 20

// fakeDisk creates a file of size bytes of 0xAA.
func fakeDisk(t *testing.T, path string, size int) {
	t.Helper()
	if err := os.WriteFile(path, bytes.Repeat([]byte{0xAA}, size), 0o600); err != nil {
		t.Fatal(err)
	}
}

// checkBytes checks that bytes [start, end) of data are all b.
func checkBytes(t *testing.T, name string, data []byte, start, end int, b byte) {
	t.Helper()
	for i := start; i < end; i++ {
		if data[i] != b {
			t.Errorf("%s: byte %d is %#x, want %#x", name, i, data[i], b)
			return
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestWipeFast(t *testing.T) {
	dir := t.TempDir()
	big, small := filepath.Join(dir, "big"), filepath.Join(dir, "small")
	fakeDisk(t, big, 8*mib+512)
	fakeDisk(t, small, mib+mib/2)
	var p wipeProgress
	if err := wipe(context.Background(), []string{big, small}, metalv1alpha1.WipeFast, &p); err != nil {
		t.Fatal(err)
	}
	data := readFile(t, big)
	checkBytes(t, "big", data, 0, mib, 0)
	checkBytes(t, "big", data, mib, len(data)-mib, 0xAA)
	checkBytes(t, "big", data, len(data)-mib, len(data), 0)
	// A disk smaller than both ends is zeroed once.
	data = readFile(t, small)
	checkBytes(t, "small", data, 0, len(data), 0)
	if want := int64(2*mib + mib + mib/2); p.total.Load() != want || p.done.Load() != want || p.percent() != 100 {
		t.Errorf("progress %d/%d (%d%%), want %d/%d", p.done.Load(), p.total.Load(), p.percent(), want, want)
	}
}

func TestWipeFull(t *testing.T) {
	dir := t.TempDir()
	var disks []string
	sizes := []int{9*mib + 512, 3 * mib}
	for i, size := range sizes {
		disks = append(disks, filepath.Join(dir, string(rune('a'+i))))
		fakeDisk(t, disks[i], size)
	}
	var p wipeProgress
	if err := wipe(context.Background(), disks, metalv1alpha1.WipeFull, &p); err != nil {
		t.Fatal(err)
	}
	for i, d := range disks {
		data := readFile(t, d)
		if len(data) != sizes[i] {
			t.Errorf("%s grew to %d bytes", d, len(data))
		}
		checkBytes(t, d, data, 0, len(data), 0)
	}
	if want := int64(sizes[0] + sizes[1]); p.done.Load() != want || p.total.Load() != want {
		t.Errorf("progress %d/%d, want %d/%d", p.done.Load(), p.total.Load(), want, want)
	}
}

func TestWipeErrors(t *testing.T) {
	dir := t.TempDir()
	disk := filepath.Join(dir, "disk")
	fakeDisk(t, disk, 2*mib)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := wipe(ctx, []string{disk}, metalv1alpha1.WipeFull, &wipeProgress{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if err := wipe(context.Background(), []string{disk}, "secure", &wipeProgress{}); err == nil {
		t.Error("unknown mode: no error")
	}
	if err := wipe(context.Background(), []string{disk, filepath.Join(dir, "missing")}, metalv1alpha1.WipeFast, &wipeProgress{}); err == nil {
		t.Error("missing disk: no error")
	}
}

// TestWipeLoopDevice wipes a real block device, which has the ioctls
// (discard, buffer flush, partition re-read) that files lack.
func TestWipeLoopDevice(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("loop devices need root")
	}
	losetup, err := exec.LookPath("losetup")
	if err != nil {
		t.Skip("losetup not installed")
	}
	backing := filepath.Join(t.TempDir(), "backing")
	fakeDisk(t, backing, 8*mib)
	out, err := exec.Command(losetup, "--find", "--show", backing).Output()
	if err != nil {
		t.Skipf("cannot set up a loop device: %v", err)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if out, err := exec.Command(losetup, "--detach", dev).CombinedOutput(); err != nil {
			t.Errorf("losetup --detach %s: %v: %s", dev, err, out)
		}
	})
	for _, mode := range []metalv1alpha1.WipeMode{metalv1alpha1.WipeFast, metalv1alpha1.WipeFull} {
		fakeDisk(t, backing, 8*mib)
		if err := wipe(context.Background(), []string{dev}, mode, &wipeProgress{}); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		data := readFile(t, backing)
		checkBytes(t, string(mode), data, 0, mib, 0)
		checkBytes(t, string(mode), data, len(data)-mib, len(data), 0)
		if mode == metalv1alpha1.WipeFull {
			checkBytes(t, string(mode), data, 0, len(data), 0)
		}
	}
}
