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

package vm

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

func TestNewValidates(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("empty StateDir accepted")
	}
	if _, err := New(Config{StateDir: t.TempDir(), Accelerator: "hvf"}); err == nil {
		t.Error("unknown accelerator accepted")
	}
	if _, err := New(Config{StateDir: filepath.Join(t.TempDir(), strings.Repeat("x", 80))}); err == nil {
		t.Error("state directory too long for QMP sockets accepted")
	}
}

func TestVMResources(t *testing.T) {
	q := resource.MustParse
	cases := []struct {
		name    string
		res     corev1.ResourceRequirements
		cpus    int32
		memory  int64
		wantErr string
	}{
		{name: "defaults", cpus: 1, memory: 512 << 20},
		{name: "request rounds up", res: corev1.ResourceRequirements{Requests: corev1.ResourceList{"cpu": q("1500m"), "memory": q("1Gi")}}, cpus: 2, memory: 1 << 30},
		{name: "limit when no request", res: corev1.ResourceRequirements{Limits: corev1.ResourceList{"cpu": q("3"), "memory": q("300M")}}, cpus: 3, memory: 287 << 20},
		{name: "request wins", res: corev1.ResourceRequirements{Requests: corev1.ResourceList{"cpu": q("1")}, Limits: corev1.ResourceList{"cpu": q("4")}}, cpus: 1, memory: 512 << 20},
		{name: "tiny memory", res: corev1.ResourceRequirements{Requests: corev1.ResourceList{"memory": q("1Mi")}}, wantErr: "less than the minimum"},
		{name: "absurd memory", res: corev1.ResourceRequirements{Requests: corev1.ResourceList{"memory": q("64Pi")}}, wantErr: "more than the node"},
		{name: "absurd cpus", res: corev1.ResourceRequirements{Requests: corev1.ResourceList{"cpu": q("1000")}}, wantErr: "vCPUs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cpus, mem, err := vmResources(c.res)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("got %v, want error containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil || cpus != c.cpus || mem != c.memory {
				t.Errorf("got %d CPUs, %d bytes, %v; want %d, %d", cpus, mem, err, c.cpus, c.memory)
			}
		})
	}
}

func TestGuestMAC(t *testing.T) {
	a, b := guestMAC("uid-a"), guestMAC("uid-b")
	if a != guestMAC("uid-a") {
		t.Error("MAC not deterministic")
	}
	if a == b {
		t.Error("different pods, same MAC")
	}
	for _, m := range []string{a, b} {
		hw, err := net.ParseMAC(m)
		if err != nil {
			t.Fatal(err)
		}
		if hw[0]&0x02 == 0 || hw[0]&0x01 != 0 {
			t.Errorf("%s is not a locally administered unicast address", m)
		}
	}
}

func testNetwork() *guestNetwork {
	return &guestNetwork{
		MAC:       "02:00:00:00:00:01",
		MTU:       1450,
		Addresses: []string{"10.1.2.3/24", "fd00::3/64"},
		Routes: []guestRoute{
			{To: "0.0.0.0/0", Via: "10.1.2.1"},
			{To: "::/0", Via: "fe80::1", OnLink: true},
		},
	}
}

func TestKernelArgs(t *testing.T) {
	pod := &v1.Pod{}
	pod.Name = "web-0"
	cases := []struct {
		args string
		net  *guestNetwork
		want string
	}{
		{"", nil, "console=ttyS0"},
		{"quiet console=hvc0", nil, "quiet console=hvc0"},
		{"quiet", testNetwork(), "quiet console=ttyS0 ip=10.1.2.3::10.1.2.1:255.255.255.0:web-0::off"},
		{"ip=dhcp", testNetwork(), "ip=dhcp console=ttyS0"},
		{"", &guestNetwork{Addresses: []string{"fd00::3/64"}}, "console=ttyS0"},
	}
	for _, c := range cases {
		if got := kernelArgs(c.args, pod, c.net); got != c.want {
			t.Errorf("kernelArgs(%q) = %q, want %q", c.args, got, c.want)
		}
	}
}

func TestPullPolicy(t *testing.T) {
	cases := map[string]corev1.PullPolicy{
		"example.com/disk":             corev1.PullAlways,
		"example.com/disk:latest":      corev1.PullAlways,
		"example.com:5000/disk":        corev1.PullAlways,
		"example.com:5000/disk:1.0":    corev1.PullIfNotPresent,
		"example.com/disk@sha256:abcd": corev1.PullIfNotPresent,
	}
	for ref, want := range cases {
		if got := pullPolicy(ref, ""); got != want {
			t.Errorf("pullPolicy(%q) = %s, want %s", ref, got, want)
		}
	}
	if got := pullPolicy("x:latest", corev1.PullNever); got != corev1.PullNever {
		t.Errorf("explicit policy overridden: %s", got)
	}
}

func seedPod() *v1.Pod {
	pod := &v1.Pod{}
	pod.Name, pod.Namespace, pod.UID = "web-0", "default", "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
	pod.Spec.VirtualMachine = &v1.VirtualMachineSpec{PublicKey: "ssh-ed25519 AAAA test@example\n"}
	pod.Spec.DNSConfig = &corev1.PodDNSConfig{Nameservers: []string{"10.96.0.10"}, Searches: []string{"default.svc.cluster.local"}}
	return pod
}

func TestSeedFiles(t *testing.T) {
	pod := seedPod()
	files := map[string]string{}
	for _, f := range seedFiles(pod, testNetwork()) {
		files[f.Name] = string(f.Data)
	}
	for name, want := range map[string][]string{
		"meta-data": {`instance-id: "1b4e28ba-2fa1-11d2-883f-0016d3cca427"`, `local-hostname: "web-0"`, `- "ssh-ed25519 AAAA test@example"`},
		"user-data": {"#cloud-config\n", "ssh_authorized_keys:\n  - \"ssh-ed25519 AAAA test@example\""},
		"network-config": {"version: 2", `macaddress: "02:00:00:00:00:01"`, "mtu: 1450", `- "10.1.2.3/24"`, `- "fd00::3/64"`,
			"- to: \"0.0.0.0/0\"\n        via: \"10.1.2.1\"\n", "via: \"fe80::1\"\n        on-link: true", `- "10.96.0.10"`, `- "default.svc.cluster.local"`},
	} {
		for _, w := range want {
			if !strings.Contains(files[name], w) {
				t.Errorf("%s lacks %q:\n%s", name, w, files[name])
			}
		}
	}

	// The pod's own user-data is passed as is; without a network there is
	// no network-config.
	pod.Spec.VirtualMachine.UserData = "#!/bin/sh\necho hi\n"
	got := seedFiles(pod, nil)
	if len(got) != 2 || string(got[1].Data) != "#!/bin/sh\necho hi\n" {
		t.Errorf("seed without network: %+v", got)
	}
	if _, err := seedImage(pod, testNetwork()); err != nil {
		t.Fatal(err)
	}
}

func TestQEMUArgs(t *testing.T) {
	l := launch{
		dir: "/var/lib/vm,odd/uid", name: "ns/pod", uuid: "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
		accel: AcceleratorTCG, cpus: 2, memory: 256 << 20,
		disk: "/d/overlay.qcow2", seed: "/d/seed.iso",
		kernel: "/k/vmlinuz", initrd: "/k/initrd", cmdline: "console=ttyS0",
		net: testNetwork(), paused: true,
	}
	args := strings.Join(qemuArgs(l), " ")
	for _, want := range []string{
		"-machine q35", "-accel tcg", "-cpu max", "-smp 2", "-m 256", "-no-shutdown", "-S",
		"-action panic=pause", "-device pvpanic",
		"-pidfile /var/lib/vm,,odd/uid/qemu.pid",
		"path=/var/lib/vm,,odd/uid/qmp.sock,server=on,wait=off",
		"file,id=serial0,path=/var/lib/vm,,odd/uid/console.log,append=on",
		"file=/d/overlay.qcow2,format=qcow2", "bootindex=1", "file=/d/seed.iso,format=raw", "readonly=on",
		"-kernel /k/vmlinuz -append console=ttyS0 -initrd /k/initrd",
		"tap,id=net0,ifname=vmtap0,script=no,downscript=no", "mac=02:00:00:00:00:01", "host_mtu=1450",
		"-uuid 1b4e28ba-2fa1-11d2-883f-0016d3cca427",
	} {
		if !strings.Contains(args, want) {
			t.Errorf("args lack %q:\n%s", want, args)
		}
	}
	if strings.Contains(args, "vhost=on") {
		t.Error("vhost-net under TCG")
	}
}

func TestTailAndLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	content := "one\r\ntwo\r\nthree\r\nfour"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	for n, want := range map[int64]string{1: "four", 2: "three\r\nfour", 4: content, 10: content} {
		off, err := tailOffset(f, int64(len(content)), n)
		if err != nil || content[off:] != want {
			t.Errorf("tail %d: %q, %v; want %q", n, content[off:], err, want)
		}
	}
	// A final newline does not start a line.
	off, _ := tailOffset(f, int64(len("one\r\ntwo\r\n")), 1)
	if off != 5 {
		t.Errorf("tail 1 of a newline-terminated log starts at %d, want 5", off)
	}

	var buf bytes.Buffer
	lw := &limitWriter{w: &buf, n: 5}
	if n, err := lw.Write([]byte("abc")); n != 3 || err != nil {
		t.Errorf("write within limit: %d, %v", n, err)
	}
	if n, err := lw.Write([]byte("defg")); n != 2 || err != errLimit {
		t.Errorf("write over limit: %d, %v", n, err)
	}
	if buf.String() != "abcde" {
		t.Errorf("wrote %q", buf.String())
	}
}

// TestLogsWithoutVM covers the options of Logs on console logs written by
// hand; no QEMU is running, so Follow ends at once.
func TestLogsWithoutVM(t *testing.T) {
	r, err := New(Config{StateDir: t.TempDir(), Accelerator: AcceleratorTCG})
	if err != nil {
		t.Fatal(err)
	}
	pod := seedPod()
	dir := r.podDir(pod.UID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var buf bytes.Buffer
	if err := r.Logs(ctx, pod, "", runtime.LogOptions{}, &buf); err == nil {
		t.Error("logs of a VM that never started")
	}
	os.WriteFile(filepath.Join(dir, consoleFile), []byte("boot 2 line 1\nboot 2 line 2\n"), 0o600)
	os.WriteFile(filepath.Join(dir, prevConsoleFile), []byte("boot 1\n"), 0o600)

	logs := func(container string, opts runtime.LogOptions) (string, error) {
		var buf bytes.Buffer
		err := r.Logs(ctx, pod, container, opts, &buf)
		return buf.String(), err
	}
	for _, c := range []struct {
		opts runtime.LogOptions
		want string
	}{
		{runtime.LogOptions{}, "boot 2 line 1\nboot 2 line 2\n"},
		{runtime.LogOptions{TailLines: 1}, "boot 2 line 2\n"},
		{runtime.LogOptions{LimitBytes: 6}, "boot 2"},
		{runtime.LogOptions{Previous: true}, "boot 1\n"},
		{runtime.LogOptions{Follow: true, TailLines: 1}, "boot 2 line 2\n"},
		{runtime.LogOptions{SinceTime: ptr(time.Now().Add(time.Hour))}, ""},
		{runtime.LogOptions{SinceTime: ptr(time.Now().Add(-time.Hour)), Timestamps: true}, "boot 2 line 1\nboot 2 line 2\n"},
	} {
		got, err := logs("vm", c.opts)
		if err != nil || got != c.want {
			t.Errorf("%+v: %q, %v; want %q", c.opts, got, err, c.want)
		}
	}
	if _, err := logs("sidecar", runtime.LogOptions{}); err == nil {
		t.Error("logs of an unknown container")
	}
}

func ptr[T any](v T) *T { return &v }

func TestPodsAndRemoveWithoutVM(t *testing.T) {
	r, err := New(Config{StateDir: t.TempDir(), Accelerator: AcceleratorTCG})
	if err != nil {
		t.Fatal(err)
	}
	pod := seedPod()
	pod.Annotations = map[string]string{"arcturus.io/tenant": "acme"}
	if err := r.ensurePodDir(pod); err != nil {
		t.Fatal(err)
	}
	// A directory without a record, as a crash right after mkdir leaves.
	os.Mkdir(filepath.Join(r.cfg.StateDir, "orphan-uid"), 0o700)
	refs, err := r.Pods(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []runtime.PodRef{
		{UID: pod.UID, Tenant: "acme", Namespace: "default", Name: "web-0"},
		{UID: "orphan-uid"},
	}
	if !slices.Equal(refs, want) {
		t.Errorf("Pods() = %+v, want %+v", refs, want)
	}
	for _, uid := range []types.UID{pod.UID, "orphan-uid", pod.UID} {
		if err := r.RemovePod(context.Background(), uid); err != nil {
			t.Errorf("RemovePod(%s): %v", uid, err)
		}
	}
	if refs, _ := r.Pods(context.Background()); len(refs) != 0 {
		t.Errorf("pods left: %+v", refs)
	}
	if err := r.RemovePod(context.Background(), "../etc"); err == nil {
		t.Error("RemovePod accepted a path as UID")
	}
}
