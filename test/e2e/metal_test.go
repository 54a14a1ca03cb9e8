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

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
	"github.com/arcturus-cloud/arcturus/pkg/initramfs"
	"github.com/arcturus-cloud/arcturus/pkg/metal/lifecycle"
	"github.com/arcturus-cloud/arcturus/pkg/metal/service"
	"github.com/arcturus-cloud/arcturus/test/framework"
)

const (
	labDiskMiB = 256
	// What the test's Environment prints around the config it fetched.
	configBegin = "arcturus-e2e-config-begin"
	configEnd   = "arcturus-e2e-config-end"
	envDone     = "arcturus-e2e-env-done"
)

// member is what lab up wrote of one machine.
type member struct {
	Name, UUID, MAC, Firmware, BMC, Console string
}

// TestMetalLab runs the user story of the bare-metal plane on the lab: two
// QEMU servers, one behind Redfish with SeaBIOS and one behind IPMI with
// UEFI, network-boot into the agent and register the hardware QEMU gave
// them; once accepted they are wiped and powered off; one is bound, boots
// its Environment with its config, is released, and is wiped again.
func TestMetalLab(t *testing.T) {
	requireLab(t)
	s := framework.StartServer(t)
	bin := framework.BinaryPath(t)
	ctx := context.Background()
	c, err := client.New(s.AdminConfig(), client.Options{Scheme: service.Scheme})
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	netns := "arc-e2e-" + rand.String(5)
	labArgs := []string{"--dir", dir, "--netns", netns}
	for i := range 2 {
		dirtyDisk(t, filepath.Join(dir, fmt.Sprintf("server-%d", i), "disk.img"))
	}
	start := time.Now()
	up := exec.Command(bin, append([]string{"metal", "lab", "up", "--kubeconfig", s.AdminKubeconfigPath(), "--servers", "2",
		"--bridge", "arce2e0", "--subnet", "10.98.0.0/24", "--disk-mib", fmt.Sprint(labDiskMiB), "--boot-timeout", "4m"}, labArgs...)...)
	out, err := up.CombinedOutput()
	t.Cleanup(func() {
		down, err := exec.Command(bin, append([]string{"metal", "lab", "down"}, labArgs...)...).CombinedOutput()
		if err != nil {
			t.Errorf("lab down: %v\n%s", err, down)
		}
		if _, err := os.Stat("/run/netns/" + netns); !os.IsNotExist(err) {
			t.Errorf("lab down left network namespace %s", netns)
		}
	})
	if err != nil {
		t.Fatalf("lab up: %v\n%s", err, out)
	}
	t.Logf("lab up:\n%s", out)
	members := readMembers(t, dir)
	defer func() {
		if t.Failed() {
			for _, m := range members {
				t.Logf("console of %s:\n%s", m.Name, tail(m.Console, 40))
			}
			t.Logf("lab log:\n%s", tail(filepath.Join(dir, "lab.log"), 60))
		}
	}()

	// Registration with the hardware QEMU gave them.
	for _, m := range members {
		srv := waitServer(t, c, m.UUID, 8*time.Minute, "registered", func(s *metalv1alpha1.Server) bool {
			return s.Spec.Hardware != nil && s.Status.Agent != nil && s.Status.Agent.LastRegistrationTime != nil
		})
		t.Logf("%s (%s, %s) registered %.0f s after lab up", m.Name, m.Firmware, m.BMC, time.Since(start).Seconds())
		h := srv.Spec.Hardware
		if h.Compute.TotalThreadCount != 2 {
			t.Errorf("%s: %d threads, want 2", m.Name, h.Compute.TotalThreadCount)
		}
		if mem := h.Memory.Total.Value(); mem < 900<<20 || mem > 1024<<20 {
			t.Errorf("%s: memory %s, want about 1 GiB", m.Name, h.Memory.Total.String())
		}
		if len(h.Storage.Disks) != 1 || h.Storage.Disks[0].Size.Cmp(resource.MustParse(fmt.Sprintf("%dMi", labDiskMiB))) != 0 {
			t.Errorf("%s: disks %+v, want one of %d MiB", m.Name, h.Storage.Disks, labDiskMiB)
		}
		if len(h.Network.Interfaces) != 1 || h.Network.Interfaces[0].MAC != m.MAC {
			t.Errorf("%s: interfaces %+v, want one with MAC %s", m.Name, h.Network.Interfaces, m.MAC)
		}
		if want := map[string]metalv1alpha1.Firmware{"bios": metalv1alpha1.FirmwareBIOS, "uefi": metalv1alpha1.FirmwareUEFI}[m.Firmware]; h.System.Firmware != want {
			t.Errorf("%s: firmware %q, want %q", m.Name, h.System.Firmware, want)
		}
		if srv.Spec.Accepted || srv.Status.IsClean {
			t.Errorf("%s: accepted or clean before anyone accepted it: %+v", m.Name, srv.Status)
		}
	}

	// Accepted: wiped, powered off, available.
	accepted := time.Now()
	for _, m := range members {
		patch := client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"accepted":true}}`))
		if err := c.Patch(ctx, &metalv1alpha1.Server{ObjectMeta: metav1.ObjectMeta{Name: m.UUID}}, patch); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range members {
		waitServer(t, c, m.UUID, 5*time.Minute, "clean and powered off", cleanAndOff)
		t.Logf("%s clean and powered off %.0f s after it was accepted", m.Name, time.Since(accepted).Seconds())
		checkWiped(t, filepath.Join(dir, m.Name, "disk.img"))
	}
	waitAvailable(t, c, len(members))

	// Bound: the Environment boots with the server's config.
	m := members[0]
	kernel, err := initramfs.FindKernel()
	if err != nil {
		t.Fatal(err)
	}
	env := &metalv1alpha1.Environment{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e"},
		Spec: metalv1alpha1.EnvironmentSpec{
			Kernel: metalv1alpha1.Asset{URL: "file://" + kernel.Path},
			Initrd: &metalv1alpha1.Asset{URL: "file://" + envInitrd(t, kernel.Version)},
			Args:   []string{"console=ttyS0,115200n8", "panic=10"},
		},
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "e2e-config"},
		Data: map[string][]byte{"value": []byte("machine:\n  role: e2e\n")}}
	binding := &metalv1alpha1.ServerBinding{
		ObjectMeta: metav1.ObjectMeta{Name: m.UUID},
		Spec: metalv1alpha1.ServerBindingSpec{
			ServerClassName: metalv1alpha1.ServerClassAny,
			ClaimantRef:     corev1.ObjectReference{Kind: "E2E", Namespace: "default", Name: "claimant"},
			EnvironmentRef:  &corev1.LocalObjectReference{Name: env.Name},
			ConfigSecretRef: &corev1.SecretReference{Namespace: "default", Name: secret.Name},
		},
	}
	srv := waitServer(t, c, m.UUID, time.Minute, "readable", func(*metalv1alpha1.Server) bool { return true })
	srv.Spec.ConfigPatches = []metalv1alpha1.ConfigPatch{{Op: "add", Path: "/machine/patched", Value: &metalv1alpha1.JSON{Raw: []byte(`"by-server"`)}}}
	if err := c.Update(ctx, srv); err != nil {
		t.Fatal(err)
	}
	bound := time.Now()
	for _, obj := range []client.Object{env, secret, binding} {
		if err := c.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	config := waitConsole(t, m.Console, envDone, 5*time.Minute)
	t.Logf("%s booted its Environment %.0f s after it was bound", m.Name, time.Since(bound).Seconds())
	if !strings.Contains(config, "role: e2e") || !strings.Contains(config, "patched: by-server") {
		t.Errorf("the Environment read the config %q, want the secret's with the server's patch", config)
	}
	waitServer(t, c, m.UUID, time.Minute, "in use", func(s *metalv1alpha1.Server) bool {
		return s.Status.InUse && !s.Status.IsClean && lifecycle.EnvironmentBooted(s)
	})

	// Released: booted into the agent, wiped again, powered off.
	released := time.Now()
	if err := c.Delete(ctx, binding); err != nil {
		t.Fatal(err)
	}
	waitServer(t, c, m.UUID, 6*time.Minute, "clean and powered off after its release", cleanAndOff)
	t.Logf("%s wiped and powered off %.0f s after its release", m.Name, time.Since(released).Seconds())
	checkWiped(t, filepath.Join(dir, m.Name, "disk.img"))
	waitAvailable(t, c, len(members))
}

func requireLab(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the metal lab needs root: network namespaces, taps, DHCP")
	}
	for _, bin := range []string{"qemu-system-x86_64", "ipmi_sim", "ip"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed (hack/deps.sh metal)", bin)
		}
	}
	for _, f := range []string{"/usr/lib/ipxe/ipxe.efi", "/usr/share/OVMF/OVMF_CODE_4M.fd", "/bin/busybox"} {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("%s missing (hack/deps.sh test)", f)
		}
	}
}

// dirtyDisk creates a lab machine's disk image with data in its first and
// last MiB, for the wipe to remove.
func dirtyDisk(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	junk := bytes.Repeat([]byte{0x5a}, 1<<20)
	for _, off := range []int64{0, (labDiskMiB - 1) << 20} {
		if _, err := f.WriteAt(junk, off); err != nil {
			t.Fatal(err)
		}
	}
}

func checkWiped(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for _, off := range []int64{0, (labDiskMiB - 1) << 20} {
		if _, err := f.ReadAt(buf, off); err != nil {
			t.Fatal(err)
		}
		if i := bytes.IndexFunc(buf, func(r rune) bool { return r != 0 }); i >= 0 {
			t.Errorf("%s: byte %d of the MiB at %d is not zero after the wipe", path, i, off)
		}
	}
}

func readMembers(t *testing.T, dir string) []member {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "lab.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ Members []member }
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Members) != 2 || st.Members[0].BMC == st.Members[1].BMC || st.Members[0].Firmware == st.Members[1].Firmware {
		t.Fatalf("lab members %+v, want one Redfish and one IPMI, one BIOS and one UEFI", st.Members)
	}
	return st.Members
}

func cleanAndOff(s *metalv1alpha1.Server) bool {
	return s.Status.IsClean && s.Status.Ready && s.Status.Power == metalv1alpha1.PowerOff
}

func waitServer(t *testing.T, c client.Client, name string, timeout time.Duration, what string, cond func(*metalv1alpha1.Server) bool) *metalv1alpha1.Server {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var s metalv1alpha1.Server
	for {
		err := c.Get(context.Background(), client.ObjectKey{Name: name}, &s)
		if err == nil && cond(&s) {
			return &s
		}
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %s not %s within %v; status %+v, agent %+v", name, what, timeout, s.Status, s.Status.Agent)
		}
		time.Sleep(time.Second)
	}
}

func waitAvailable(t *testing.T, c client.Client, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var class metalv1alpha1.ServerClass
		if err := c.Get(context.Background(), client.ObjectKey{Name: metalv1alpha1.ServerClassAny}, &class); err == nil && len(class.Status.Available) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("class any does not list %d servers available: %+v", n, class.Status)
		}
		time.Sleep(time.Second)
	}
}

// waitConsole waits until the console log shows marker, and returns what
// the Environment printed between the config markers.
func waitConsole(t *testing.T, path, marker string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b, _ := os.ReadFile(path)
		if i := bytes.LastIndex(b, []byte(marker)); i >= 0 {
			s := string(b[:i])
			begin := strings.LastIndex(s, configBegin)
			end := strings.LastIndex(s, configEnd)
			if begin < 0 || end < begin {
				t.Fatalf("the Environment printed no config before %s", marker)
			}
			return strings.ReplaceAll(s[begin+len(configBegin):end], "\r", "")
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not show %s within %v", path, marker, timeout)
		}
		time.Sleep(time.Second)
	}
}

func tail(path string, lines int) string {
	b, _ := os.ReadFile(path)
	all := strings.Split(string(b), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// envInitrd builds the test's Environment: busybox as init, which loads
// the network and disk drivers, gets an address from DHCP, prints the
// config named by arcturus.config, dirties the disk for the next wipe to
// clean, and idles.
func envInitrd(t *testing.T, kernelVersion string) string {
	t.Helper()
	busybox, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	script := `#!/bin/busybox sh
export PATH=/bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
for m in $(cat /` + initramfs.LoadOrder + `); do insmod /` + initramfs.ModulesDir + `/$m 2>/dev/null; done
ip link set eth0 up
udhcpc -i eth0 -s /udhcpc.sh -q -n -t 10
url=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^arcturus.config=//p')
wget -q -O /config "$url"
echo ` + configBegin + `
cat /config
echo ` + configEnd + `
dd if=/dev/urandom of=/dev/vda bs=1M count=1 conv=fsync 2>/dev/null
echo ` + envDone + `
`
	udhcpc := `#!/bin/busybox sh
[ "$1" = bound ] || exit 0
ip addr add "$ip/${mask:-24}" dev "$interface"
`
	path := filepath.Join(t.TempDir(), "env.img")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = initramfs.Build(f, initramfs.Spec{
		Init: "/bin/busybox", KernelVersion: kernelVersion,
		Modules: []string{"virtio_pci", "virtio_net", "virtio_blk", "e1000"},
		Files: map[string]initramfs.File{
			"bin/busybox": {Data: busybox, Mode: 0o755},
			"etc/inittab": {Data: []byte("::sysinit:/bin/busybox sh /env.sh\n"), Mode: 0o644},
			"env.sh":      {Data: []byte(script), Mode: 0o755},
			"udhcpc.sh":   {Data: []byte(udhcpc), Mode: 0o755},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}
