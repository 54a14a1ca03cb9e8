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
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

// Images is a runtime.ImageFiles that maps references to files that already
// exist, as if they had been pulled.
type Images map[string]string

// ImageFile returns the file for ref, or an error for unknown references.
func (m Images) ImageFile(_ context.Context, ref string, _ corev1.PullPolicy) (string, error) {
	if p, ok := m[ref]; ok {
		return p, nil
	}
	return "", fmt.Errorf("image %q not found", ref)
}

// Event is one event a Recorder received.
type Event struct {
	Pod                   string
	Type, Reason, Message string
}

// Recorder is a runtime.Recorder that keeps the events it receives.
type Recorder struct {
	mu     sync.Mutex
	events []Event
}

// Event records an event.
func (r *Recorder) Event(pod *v1.Pod, eventType, reason, message string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, Event{Pod: pod.Namespace + "/" + pod.Name, Type: eventType, Reason: reason, Message: message})
}

// Events returns the events so far.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// Find returns the first event with reason.
func (r *Recorder) Find(reason string) (Event, bool) {
	for _, e := range r.Events() {
		if e.Reason == reason {
			return e, true
		}
	}
	return Event{}, false
}

// DiskImage builds a bootable disk of k in format ("raw" or "qcow2"): a FAT
// file system with SYSLINUX as boot loader, booted by the BIOS like any disk
// image. It skips the test when mkfs.vfat (dosfstools), syslinux or mcopy
// (mtools) is missing.
func DiskImage(t testing.TB, k Kernel, format string) string {
	t.Helper()
	_, qemuImg := RequireQEMU(t)
	for _, tool := range []string{"mkfs.vfat", "syslinux", "mcopy"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (Debian: dosfstools, syslinux, mtools)", tool)
		}
	}
	dir := t.TempDir()
	raw := filepath.Join(dir, "disk.raw")
	cfg := filepath.Join(dir, "syslinux.cfg")
	config := "DEFAULT linux\nPROMPT 0\nTIMEOUT 0\nLABEL linux\n  KERNEL /vmlinuz\n  INITRD /initrd\n  APPEND console=ttyS0 " + k.Args + "\n"
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
		}
	}
	// A whole-disk FAT file system ("superfloppy"): SYSLINUX's boot sector
	// is the disk's first sector, so no partition table is needed.
	run("mkfs.vfat", "-C", "-n", "ARCBOOT", raw, "49152")
	run("syslinux", "--install", raw)
	run("mcopy", "-i", raw, k.Kernel, "::vmlinuz")
	run("mcopy", "-i", raw, k.Initrd, "::initrd")
	run("mcopy", "-i", raw, cfg, "::syslinux.cfg")
	switch format {
	case "raw":
		return raw
	case "qcow2":
		out := filepath.Join(dir, "disk.qcow2")
		run(qemuImg, "convert", "-f", "raw", "-O", "qcow2", raw, out)
		return out
	default:
		t.Fatalf("unknown disk format %q", format)
		return ""
	}
}
