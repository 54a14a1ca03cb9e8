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

package machine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime/vm/vmtest"
)

// TestNetworkBoot powers on machines with a NIC on a tap in a network
// namespace and no kernel: their firmware must start iPXE on that NIC,
// and show it on the serial console.
func TestNetworkBoot(t *testing.T) {
	vmtest.RequireQEMU(t)
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip (iproute2) not installed")
	}
	for i, fw := range []Firmware{FirmwareBIOS, FirmwareUEFI} {
		t.Run(string(fw), func(t *testing.T) {
			t.Parallel()
			if fw == FirmwareUEFI {
				if _, err := os.Stat(ovmfCode); err != nil {
					t.Skip("OVMF not installed (Debian: ovmf)")
				}
			}
			ns := fmt.Sprintf("arcturus-lab-test-%d-%d", os.Getpid(), i)
			ip(t, "netns", "add", ns)
			t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
			ip(t, "-n", ns, "tuntap", "add", "dev", "tap0", "mode", "tap")
			ip(t, "-n", ns, "link", "set", "tap0", "up")

			mac := fmt.Sprintf("52:54:00:12:34:%02x", 0x50+i)
			const disk = 64 << 20
			m := startMachine(t, Spec{
				Name:      "pxe-" + string(fw),
				Firmware:  fw,
				NICs:      []NIC{{MAC: mac, Tap: "tap0"}},
				NetNS:     ns,
				DiskBytes: disk,
				BMC:       BMCSpec{Type: BMCRedfish, Password: "pw"},
			})
			var st syscall.Stat_t
			if err := syscall.Stat(m.path(diskFile), &st); err != nil || st.Size != disk || st.Blocks*512 >= disk {
				t.Errorf("disk image: %v, size %d, %d blocks; want a sparse file of %d bytes", err, st.Size, st.Blocks, disk)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := m.PowerOn(ctx); err != nil {
				t.Fatal(err)
			}
			qemuNS := filepath.Join("/proc", strconv.Itoa(qemuPID(m)), "ns", "net")
			if got, want := inode(t, qemuNS), inode(t, filepath.Join("/run/netns", ns)); got != want {
				t.Errorf("QEMU runs in network namespace %d, want %d", got, want)
			}
			waitConsole(t, m, "iPXE", 1)
			waitConsole(t, m, "net0: "+mac, 1)
		})
	}
}

func ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// inode identifies a file, such as a network namespace.
func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func TestSpecValidation(t *testing.T) {
	dir := shortDir(t)
	valid := func() Spec {
		return Spec{Name: "m1", Dir: dir, BMC: BMCSpec{Type: BMCRedfish, Password: "pw"}}
	}
	m, err := New(valid())
	if err != nil {
		t.Fatal(err)
	}
	s := m.Spec()
	if s.CPUs != 1 || s.MemoryMiB != 1024 || s.Firmware != FirmwareBIOS || s.Accelerator != AcceleratorTCG ||
		s.BMC.Address != "127.0.0.1:0" || s.BMC.Username != "admin" || s.UUID == "" {
		t.Errorf("defaults: %+v", s)
	}
	if m2, _ := New(valid()); m2.Spec().UUID != s.UUID {
		t.Error("the UUID derived from the name changes")
	}

	for name, change := range map[string]func(*Spec){
		"bad name":          func(s *Spec) { s.Name = "M_1" },
		"no dir":            func(s *Spec) { s.Dir = "" },
		"long dir":          func(s *Spec) { s.Dir = "/" + strings.Repeat("d", 100) },
		"bad UUID":          func(s *Spec) { s.UUID = "not-a-uuid" },
		"negative memory":   func(s *Spec) { s.MemoryMiB = -1 },
		"bad MAC":           func(s *Spec) { s.NICs = []NIC{{MAC: "52:54:00", Tap: "tap0"}} },
		"bad tap":           func(s *Spec) { s.NICs = []NIC{{MAC: "52:54:00:00:00:01", Tap: "tap0,script=/x"}} },
		"bad netns":         func(s *Spec) { s.NetNS = "../x" },
		"bad firmware":      func(s *Spec) { s.Firmware = "coreboot" },
		"bad accelerator":   func(s *Spec) { s.Accelerator = "hvf" },
		"no BMC type":       func(s *Spec) { s.BMC.Type = "" },
		"no password":       func(s *Spec) { s.BMC.Password = "" },
		"bad address":       func(s *Spec) { s.BMC.Address = "127.0.0.1" },
		"IPMI long name":    func(s *Spec) { s.BMC = BMCSpec{Type: BMCIPMI, Username: strings.Repeat("u", 17), Password: "pw"} },
		"IPMI quote":        func(s *Spec) { s.BMC = BMCSpec{Type: BMCIPMI, Password: `p"w`} },
		"IPMI space":        func(s *Spec) { s.BMC = BMCSpec{Type: BMCIPMI, Password: "p w"} },
		"IPMI long passwrd": func(s *Spec) { s.BMC = BMCSpec{Type: BMCIPMI, Password: strings.Repeat("p", 21)} },
	} {
		spec := valid()
		change(&spec)
		if _, err := New(spec); err == nil {
			t.Errorf("%s: New accepted %+v", name, spec)
		}
	}
}

func TestQEMUArgs(t *testing.T) {
	m, err := New(Spec{
		Name: "m1", Dir: "/lab/m,1", UUID: "4C4C4544-0042-3510-8052-B4C04F4D3232", CPUs: 2, MemoryMiB: 512,
		DiskBytes: 1 << 30, Firmware: FirmwareUEFI, Accelerator: AcceleratorKVM,
		NICs:      []NIC{{MAC: "52-54-00-00-00-01", Tap: "tap-a"}, {MAC: "52:54:00:00:00:02", Tap: "tap-b"}},
		BMC:       BMCSpec{Type: BMCIPMI, Password: "pw"},
		ExtraArgs: []string{"-S"},
	})
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Join(m.qemuArgs(), " ")
	for _, want := range []string{
		"-accel kvm -cpu host -smp 2 -m 512",
		"-uuid 4c4c4544-0042-3510-8052-b4c04f4d3232",
		"-smbios type=1,manufacturer=Arcturus,product=Lab Server,version=1.0,serial=m1,uuid=4c4c4544-0042-3510-8052-b4c04f4d3232,family=Arcturus Lab",
		"-chardev socket,id=qmp,path=/lab/m,,1/qmp.sock,server=on,wait=off",
		"-chardev file,id=console,path=/lab/m,,1/console.log,append=on",
		"-drive if=pflash,format=raw,unit=1,file=/lab/m,,1/OVMF_VARS.fd",
		"-netdev tap,id=net0,ifname=tap-a,script=no,downscript=no -device virtio-net-pci,netdev=net0,mac=52:54:00:00:00:01,bootindex=1",
		"-netdev tap,id=net1,ifname=tap-b,script=no,downscript=no -device virtio-net-pci,netdev=net1,mac=52:54:00:00:00:02,bootindex=2",
		"-device virtio-blk-pci,drive=disk0,bootindex=3",
		"-chardev socket,id=ipmi0,path=/lab/m,,1/ipmi-vm.sock,reconnect=1 -device ipmi-bmc-extern,id=bmc0,chardev=ipmi0 -device isa-ipmi-kcs,bmc=bmc0",
	} {
		if !strings.Contains(args, want) {
			t.Errorf("QEMU arguments lack %q:\n%s", want, args)
		}
	}
	if !strings.HasSuffix(args, " -S") || strings.Contains(args, "-nic none") || strings.Contains(args, "sercon") {
		t.Errorf("QEMU arguments: %s", args)
	}

	m, err = New(Spec{Name: "m2", Dir: "/lab/m2", BMC: BMCSpec{Type: BMCRedfish, Password: "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	args = strings.Join(m.qemuArgs(), " ")
	for _, want := range []string{"-accel tcg -cpu max -smp 1 -m 1024", "-nic none", "-fw_cfg name=etc/sercon-port,file=/lab/m2/sercon-port"} {
		if !strings.Contains(args, want) {
			t.Errorf("QEMU arguments lack %q:\n%s", want, args)
		}
	}
	for _, unwanted := range []string{"pflash", "virtio-blk", "ipmi"} {
		if strings.Contains(args, unwanted) {
			t.Errorf("QEMU arguments have %q:\n%s", unwanted, args)
		}
	}
}

// TestNotStarted checks what a machine does before Start and after Stop.
func TestNotStarted(t *testing.T) {
	m, err := New(Spec{Name: "idle", Dir: shortDir(t), BMC: BMCSpec{Type: BMCRedfish, Password: "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := m.PowerOn(ctx); !errors.Is(err, errNotStarted) {
		t.Errorf("PowerOn before Start: %v", err)
	}
	if m.BMCEndpoint() != "" || m.PowerState() != "Off" {
		t.Errorf("before Start: endpoint %q, power %s", m.BMCEndpoint(), m.PowerState())
	}
	for range 2 {
		if err := m.Stop(ctx); err != nil {
			t.Errorf("Stop of a stopped machine: %v", err)
		}
	}
}
