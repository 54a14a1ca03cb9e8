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

// Package vmtest builds a tiny Linux virtual machine for tests of the VM
// runtime and of the node agent: the host's kernel (/boot/vmlinuz-*) and an
// initramfs with a static busybox and an /init script that reports what it
// sees on the serial console. It also provides test implementations of the
// runtime's collaborators (images, events, sandboxes on real network
// namespaces). Everything skips the test when the host lacks what it needs.
//
// The guest's /init:
//   - mounts /proc, /sys and /dev and loads the virtio, isofs, button and
//     evdev modules of the host kernel;
//   - starts acpid once the power button's input device exists, then
//     prints BootedMarker;
//   - configures eth0 from an ip=<ip>::<gw>:<netmask>:<host>:<dev>:off kernel
//     argument, pings the gateway and prints PingOKMarker or
//     PingFailedMarker;
//   - mounts the first ISO 9660 virtio disk (a cloud-init NoCloud seed) and
//     prints its meta-data, user-data and network-config between
//     SeedBeginMarker and SeedEndMarker;
//   - powers off when the user-data holds PoweroffUserData, printing
//     PoweroffMarker, and when the ACPI power button is pressed (busybox
//     acpid), printing PowerButtonMarker;
//   - panics when the user-data holds PanicUserData.
package vmtest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/arcturus-cloud/arcturus/pkg/initramfs"
)

// Markers the guest prints on its serial console.
const (
	BootedMarker      = "arcturus-vm-booted"
	PingOKMarker      = "arcturus-vm-ping-ok"
	PingFailedMarker  = "arcturus-vm-ping-failed"
	SeedBeginMarker   = "arcturus-vm-seed-begin"
	SeedEndMarker     = "arcturus-vm-seed-end"
	PowerButtonMarker = "arcturus-vm-power-button"
	PoweroffMarker    = "arcturus-vm-poweroff"
	PanicMarker       = "arcturus-vm-panic"
)

// Lines in the user-data that make the guest act right after it printed
// the seed: PoweroffUserData powers it off, as a guest that finished its
// work does; PanicUserData makes its kernel panic (reported to QEMU through
// pvpanic), printing PanicMarker first.
const (
	PoweroffUserData = "arcturus-test-poweroff"
	PanicUserData    = "arcturus-test-panic"
)

// Kernel is a bootable kernel and initramfs.
type Kernel struct {
	Kernel string
	Initrd string
	// Args is a command line for it; the console is left to the runtime.
	Args string
	// Version is the kernel release, as in /lib/modules/<version>.
	Version string
}

// guestModules are loaded by /init, after their dependencies.
var guestModules = []string{"virtio_pci", "virtio_blk", "virtio_net", "isofs", "button", "evdev", "pvpanic_mmio"}

const initScript = `#!/bin/sh
export PATH=/bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /` + initramfs.LoadOrder + `); do insmod "/` + initramfs.ModulesDir + `/$m" 2>/dev/null; done
# acpid finds the power button only if its input device exists when it
# starts, and "booted" promises that the button works: on a loaded host
# the device node can lag behind the module.
for i in 1 2 3 4 5 6 7 8 9 10; do
	ls /dev/input/event* >/dev/null 2>&1 && break
	sleep 1
done
acpid -c /etc/acpi -l /var/log/acpid.log
echo "` + BootedMarker + ` uptime=$(cut -d' ' -f1 /proc/uptime)"
ip link set lo up
ipconf=
for a in $(cat /proc/cmdline); do
	case "$a" in ip=*) ipconf="${a#ip=}" ;; esac
done
if [ -n "$ipconf" ]; then
	IFS=: read -r cip sip gw mask host dev auto <<IPCONF
$ipconf
IPCONF
	dev=${dev:-eth0}
	ifconfig "$dev" "$cip" netmask "$mask" up
	if [ -n "$gw" ]; then
		ip route add "$gw" dev "$dev" 2>/dev/null
		ip route add default via "$gw" dev "$dev"
	fi
	echo "arcturus-vm-ip $cip gw $gw on $dev mac $(cat /sys/class/net/$dev/address)"
	if [ -n "$gw" ] && ping -c 3 -W 3 "$gw" >/dev/null 2>&1; then
		echo ` + PingOKMarker + `
	else
		echo ` + PingFailedMarker + `
	fi
fi
for d in /dev/vd?; do
	if mount -t iso9660 -o ro "$d" /mnt 2>/dev/null; then
		echo ` + SeedBeginMarker + `
		for f in meta-data user-data network-config; do
			echo "== $f"
			cat "/mnt/$f"
		done
		echo ` + SeedEndMarker + `
		if grep -q ` + PoweroffUserData + ` /mnt/user-data; then
			echo ` + PoweroffMarker + `
			poweroff -f
		fi
		if grep -q ` + PanicUserData + ` /mnt/user-data; then
			echo ` + PanicMarker + `
			echo c > /proc/sysrq-trigger
		fi
		break
	fi
done
while :; do sleep 3600; done
`

// powerButtonScript is what busybox acpid runs for the power button
// (/etc/acpi/PWRF/00000080). It uses poweroff -f because /init is a shell,
// not an init that handles poweroff's signal.
const powerButtonScript = `#!/bin/sh
echo ` + PowerButtonMarker + ` > /dev/console
sync
poweroff -f
`

// RequireQEMU returns the paths of qemu-system-x86_64 and qemu-img, or
// skips the test.
func RequireQEMU(t testing.TB) (qemu, qemuImg string) {
	t.Helper()
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Skip("qemu-system-x86_64 not installed (Debian: qemu-system-x86)")
	}
	qemuImg, err = exec.LookPath("qemu-img")
	if err != nil {
		t.Skip("qemu-img not installed (Debian: qemu-utils)")
	}
	return qemu, qemuImg
}

// Boot returns the host's kernel with a freshly built test initramfs, or
// skips the test when QEMU, a kernel with its modules, or a static busybox
// is missing.
func Boot(t testing.TB) Kernel {
	t.Helper()
	RequireQEMU(t)
	kernel, err := initramfs.FindKernel()
	if err != nil {
		t.Skipf("%v (Debian: linux-image-amd64)", err)
	}
	busybox := findBusybox(t)

	a := initramfs.NewArchive()
	for _, d := range []string{"proc", "sys", "dev", "mnt", "tmp", "run", "var/log", "var/run", "etc"} {
		a.Dir(d)
	}
	a.File("bin/busybox", 0o755, busybox)
	a.Symlink("bin/sh", "busybox")
	a.File("init", 0o755, []byte(initScript))
	a.File("etc/acpi/PWRF/00000080", 0o755, []byte(powerButtonScript))
	// The kernel opens /dev/console for /init before devtmpfs is mounted.
	a.CharDev("dev/console", 5, 1)

	modDir := filepath.Join("/lib/modules", kernel.Version)
	mods, missing, err := initramfs.ResolveModules(modDir, guestModules)
	if err != nil {
		t.Skipf("kernel modules: %v", err)
	}
	if len(missing) > 0 {
		t.Skipf("kernel modules %v not found in %s", missing, modDir)
	}
	if err := a.AddModules(modDir, mods); err != nil {
		t.Skipf("kernel modules: %v", err)
	}

	var buf bytes.Buffer
	if err := a.Write(&buf); err != nil {
		t.Fatalf("writing initramfs: %v", err)
	}
	initrd := filepath.Join(t.TempDir(), "initramfs.cpio")
	if err := os.WriteFile(initrd, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return Kernel{
		Kernel:  kernel.Path,
		Initrd:  initrd,
		Args:    "quiet",
		Version: kernel.Version,
	}
}

// findBusybox returns a statically linked busybox, which runs in an
// initramfs without a C library.
func findBusybox(t testing.TB) []byte {
	t.Helper()
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		if initramfs.CheckStatic(p) != nil {
			continue
		}
		if data, err := os.ReadFile(p); err == nil {
			return data
		}
	}
	t.Skip("no statically linked busybox (Debian: busybox-static)")
	return nil
}
