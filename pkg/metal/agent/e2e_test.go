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
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
	"github.com/arcturus-cloud/arcturus/pkg/initramfs"
	"github.com/arcturus-cloud/arcturus/pkg/metal/agentapi"
)

// TestEndToEnd boots the agent as /init of an initramfs built by package
// initramfs, with the host's kernel, in QEMU: it must get an address from
// QEMU's DHCP server, register the VM's hardware with the service (this
// test, reached at 10.0.2.2), wipe the VM's disk and power the VM off.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a VM")
	}
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Skip("qemu-system-x86_64 not installed (Debian: qemu-system-x86)")
	}
	kernel, err := initramfs.FindKernel()
	if err != nil {
		t.Skipf("%v (Debian: linux-image-amd64)", err)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	start := time.Now()
	bin := filepath.Join(dir, "agent")
	build := exec.CommandContext(ctx, goTool, "build", "-o", bin, "./internal/testagent")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the agent: %v\n%s", err, out)
	}
	initrd := filepath.Join(dir, "initramfs.cpio.gz")
	f, err := os.Create(initrd)
	if err != nil {
		t.Fatal(err)
	}
	err = initramfs.Build(f, initramfs.Spec{Init: bin, KernelVersion: kernel.Version, Gzip: true})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	const diskSize = 64 * mib
	disk := filepath.Join(dir, "disk.img")
	fakeDisk(t, disk, diskSize)
	t.Logf("built the agent, its initramfs and the disk in %s", time.Since(start).Round(time.Millisecond))

	s := newFakeService(t, func(path string, body any) (int, agentapi.Instruction) {
		hb, ok := body.(agentapi.Heartbeat)
		switch {
		case !ok, hb.Phase == metalv1alpha1.AgentPoweringOff:
			return http.StatusOK, agentapi.Instruction{Action: agentapi.ActionWait, HeartbeatSeconds: 1}
		case hb.Phase == metalv1alpha1.AgentWiped:
			return http.StatusOK, agentapi.Instruction{Action: agentapi.ActionPowerOff}
		default:
			return http.StatusOK, agentapi.Instruction{Action: agentapi.ActionWipe, WipeMode: metalv1alpha1.WipeFast, HeartbeatSeconds: 1}
		}
	})
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}

	const uuid = "2A0B5D1C-7F3E-4B8A-9C6D-0E1F2A3B4C5D"
	const mac = "52:54:00:12:34:56"
	console := filepath.Join(dir, "console.log")
	cmd := exec.CommandContext(ctx, qemu,
		"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-m", "512", "-smp", "2",
		"-kernel", kernel.Path, "-initrd", initrd,
		"-append", "console=ttyS0 panic=-1 "+agentapi.KernelArgURL+"=http://10.0.2.2:"+u.Port(),
		"-smbios", "type=1,manufacturer=Arcturus,product=E2E,serial=E2E-0001,uuid="+uuid,
		"-drive", "file="+disk+",format=raw,if=virtio",
		"-nic", "user,model=virtio-net-pci,mac="+mac,
		"-serial", "file:"+console)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	start = time.Now()
	err = cmd.Run()
	out, _ := os.ReadFile(console)
	if err != nil || ctx.Err() != nil {
		t.Fatalf("QEMU: %v (%v)\n%s\nconsole:\n%s", err, ctx.Err(), stderr.Bytes(), out)
	}
	t.Logf("the VM powered off after %s", time.Since(start).Round(time.Millisecond))
	if !bytes.Contains(out, []byte("reboot: Power down")) {
		t.Errorf("the VM stopped without powering off; console:\n%s", out)
	}
	defer func() {
		if t.Failed() {
			t.Logf("console:\n%s", out)
		}
	}()

	regs, _, phases := s.recorded()
	if len(regs) != 1 {
		t.Fatalf("%d registrations, want 1", len(regs))
	}
	reg := regs[0]
	hw := reg.Hardware
	if reg.UUID != strings.ToLower(uuid) {
		t.Errorf("UUID %q, want %q", reg.UUID, strings.ToLower(uuid))
	}
	if hw.System.Manufacturer != "Arcturus" || hw.System.ProductName != "E2E" || hw.System.SerialNumber != "E2E-0001" {
		t.Errorf("system %+v", hw.System)
	}
	if hw.Compute.TotalThreadCount != 2 {
		t.Errorf("%d threads, want 2", hw.Compute.TotalThreadCount)
	}
	// The kernel keeps some of the 512 MiB for itself.
	if mem := hw.Memory.Total.Value(); mem < 400*mib || mem > 512*mib {
		t.Errorf("memory %s, want about 512Mi", hw.Memory.Total.String())
	}
	if len(hw.Memory.Modules) == 0 || hw.Memory.Modules[0].Size.Cmp(resource.MustParse("512Mi")) != 0 {
		t.Errorf("memory modules %+v, want one of 512Mi", hw.Memory.Modules)
	}
	wantDisk := metalv1alpha1.Disk{Name: "vda", Size: *resource.NewQuantity(diskSize, resource.BinarySI), Type: "Virtual"}
	if len(hw.Storage.Disks) != 1 || hw.Storage.Disks[0].Name != wantDisk.Name || hw.Storage.Disks[0].Size.Cmp(wantDisk.Size) != 0 || hw.Storage.Disks[0].Type != wantDisk.Type {
		t.Errorf("disks %+v, want [%+v]", hw.Storage.Disks, wantDisk)
	}
	nics := hw.Network.Interfaces
	if len(nics) != 1 || nics[0].MAC != mac || !slices.Contains(nics[0].Addresses, "10.0.2.15/24") {
		t.Errorf("interfaces %+v, want %s with 10.0.2.15/24", nics, mac)
	}

	for _, p := range []metalv1alpha1.AgentPhase{metalv1alpha1.AgentWiping, metalv1alpha1.AgentWiped, metalv1alpha1.AgentPoweringOff} {
		if !slices.Contains(phases, p) {
			t.Errorf("phases %v lack %s", phases, p)
		}
	}
	data := readFile(t, disk)
	checkBytes(t, "disk", data, 0, mib, 0)
	checkBytes(t, "disk", data, diskSize-mib, diskSize, 0)
	// QEMU ignores discards unless told otherwise: a fast wipe leaves the
	// middle as it was.
	checkBytes(t, "disk", data, mib, diskSize-mib, 0xAA)
}
