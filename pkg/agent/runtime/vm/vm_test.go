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
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime"
	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime/vm/qmp"
	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime/vm/vmtest"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/internal/logtail"
)

// The tests below run real VMs under TCG: the host's kernel with the
// vmtest initramfs, which boots in a few seconds.

const bootTimeout = 90 * time.Second

type env struct {
	t   *testing.T
	cfg Config
	r   *Runtime
	rec *vmtest.Recorder
}

func newEnv(t *testing.T, mutate func(*Config)) *env {
	t.Helper()
	qemu, qemuImg := vmtest.RequireQEMU(t)
	rec := &vmtest.Recorder{}
	cfg := Config{
		StateDir:       t.TempDir(),
		QEMU:           qemu,
		QEMUImg:        qemuImg,
		Recorder:       rec,
		Accelerator:    AcceleratorTCG,
		InitialBackOff: 2 * time.Second,
		MaxBackOff:     8 * time.Second,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, cfg: cfg, r: r, rec: rec}
}

// restart replaces the Runtime with a new one on the same state, as an
// agent restart does.
func (e *env) restart() {
	r, err := New(e.cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.r = r
}

func kernelPod(k vmtest.Kernel, name string) *v1.Pod {
	pod := &v1.Pod{}
	pod.Name, pod.Namespace, pod.UID = name, "default", uuid.NewUUID()
	pod.Annotations = map[string]string{"arcturus.io/tenant": "acme"}
	pod.Spec.VirtualMachine = &v1.VirtualMachineSpec{
		Kernel: &v1.KernelBoot{Kernel: k.Kernel, Initrd: k.Initrd, Args: k.Args},
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceMemory: resource.MustParse("256Mi"),
		}},
	}
	return pod
}

// add registers the pod for removal when the test ends.
func (e *env) add(pod *v1.Pod) *v1.Pod {
	e.t.Cleanup(func() {
		if err := e.r.RemovePod(context.Background(), pod.UID); err != nil {
			e.t.Errorf("RemovePod: %v", err)
		}
	})
	return pod
}

func (e *env) sync(pod *v1.Pod) runtime.PodStatus {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := e.r.SyncPod(ctx, pod)
	if err != nil {
		e.t.Fatalf("SyncPod: %v", err)
	}
	if st.VirtualMachine == nil {
		e.t.Fatal("SyncPod returned no VM status")
	}
	return st
}

// syncUntil syncs the pod, as the agent does periodically, until ok.
func (e *env) syncUntil(pod *v1.Pod, timeout time.Duration, what string, ok func(*v1.VirtualMachineStatus) bool) runtime.PodStatus {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st := e.sync(pod)
		if ok(st.VirtualMachine) {
			return st
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("VM not %s after %s: %+v\nconsole:\n%s", what, timeout, *st.VirtualMachine, e.logs(pod, runtime.LogOptions{}))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (e *env) logs(pod *v1.Pod, opts runtime.LogOptions) string {
	var buf bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = e.r.Logs(ctx, pod, "", opts, &buf)
	return buf.String()
}

// waitLog waits for marker on the VM's serial console.
func (e *env) waitLog(pod *v1.Pod, marker string, timeout time.Duration) string {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out := e.logs(pod, runtime.LogOptions{})
		if strings.Contains(out, marker) {
			return out
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%q not on the console after %s:\n%s\nqemu.log: %s", marker, timeout, out, logtail.Last(filepath.Join(e.r.podDir(pod.UID), qemuLogFile)))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (e *env) pid(pod *v1.Pod) int {
	st, err := e.r.loadState(pod.UID)
	if err != nil {
		e.t.Fatal(err)
	}
	return findQEMU(e.r.podDir(pod.UID), st)
}

func (e *env) qmpStatus(pod *v1.Pod) string {
	e.t.Helper()
	c, err := dialQMP(context.Background(), e.r.podDir(pod.UID))
	if err != nil {
		e.t.Fatal(err)
	}
	defer c.Close()
	st, err := c.QueryStatus(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return st.Status
}

func (e *env) wantEvent(reason string) vmtest.Event {
	e.t.Helper()
	ev, ok := e.rec.Find(reason)
	if !ok {
		e.t.Fatalf("no %s event in %+v", reason, e.rec.Events())
	}
	return ev
}

func isState(s v1.VirtualMachineState) func(*v1.VirtualMachineStatus) bool {
	return func(vs *v1.VirtualMachineStatus) bool { return vs.State == s }
}

// TestKernelBootLifecycle boots a kernel and initrd under TCG and takes
// the VM through pause, resume, an agent restart, an ACPI shutdown, a new
// start, StopPod and RemovePod.
func TestKernelBootLifecycle(t *testing.T) {
	t.Parallel()
	k := vmtest.Boot(t)
	e := newEnv(t, nil)
	pod := e.add(kernelPod(k, "lifecycle"))
	pod.Spec.VirtualMachine.UserData = "#cloud-config\n# lifecycle-user-data\n"
	pod.Spec.TerminationGracePeriodSeconds = ptr(int64(30))

	start := time.Now()
	st := e.sync(pod)
	vs := st.VirtualMachine
	if vs.State != v1.VirtualMachineRunning || !vs.Ready || vs.Accelerator != AcceleratorTCG || vs.CPUs != 1 ||
		vs.Memory.Cmp(resource.MustParse("256Mi")) != 0 || vs.Name != "vm" || vs.PowerState != v1.PowerStateRunning {
		t.Fatalf("after first sync: %+v", *vs)
	}
	e.wantEvent(ReasonStarted)
	e.waitLog(pod, vmtest.BootedMarker, bootTimeout)
	t.Logf("kernel boot under TCG reached %q in %s", vmtest.BootedMarker, time.Since(start).Round(10*time.Millisecond))

	// The seed reached the guest.
	out := e.waitLog(pod, vmtest.SeedEndMarker, bootTimeout)
	for _, want := range []string{"lifecycle-user-data", "instance-id: \"" + string(pod.UID) + "\"", "local-hostname: \"lifecycle\""} {
		if !strings.Contains(out, want) {
			t.Errorf("guest did not see %q in its seed:\n%s", want, out)
		}
	}
	pid := e.pid(pod)

	// Pause and resume over QMP.
	pod.Spec.VirtualMachine.PowerState = v1.PowerStatePaused
	vs = e.sync(pod).VirtualMachine
	if vs.State != v1.VirtualMachinePaused || vs.PowerState != v1.PowerStatePaused || vs.Ready {
		t.Errorf("paused: %+v", *vs)
	}
	if s := e.qmpStatus(pod); s != qmp.StatusPaused {
		t.Errorf("QEMU run state %q, want paused", s)
	}
	e.wantEvent(ReasonPaused)
	pod.Spec.VirtualMachine.PowerState = v1.PowerStateRunning
	if vs = e.sync(pod).VirtualMachine; vs.State != v1.VirtualMachineRunning || !vs.Ready {
		t.Errorf("resumed: %+v", *vs)
	}
	e.wantEvent(ReasonResumed)

	// A new agent finds the VM again and leaves it running.
	e.restart()
	vs = e.sync(pod).VirtualMachine
	if vs.State != v1.VirtualMachineRunning || vs.RestartCount != 0 || e.pid(pod) != pid {
		t.Errorf("after an agent restart: %+v, pid %d, was %d", *vs, e.pid(pod), pid)
	}
	refs, err := e.r.Pods(context.Background())
	if err != nil || len(refs) != 1 || refs[0] != (runtime.PodRef{UID: pod.UID, Tenant: "acme", Namespace: "default", Name: "lifecycle"}) {
		t.Errorf("Pods() = %+v, %v", refs, err)
	}

	// powerState Shutdown presses the power button; the guest powers off.
	pod.Spec.VirtualMachine.PowerState = v1.PowerStateShutdown
	vs = e.sync(pod).VirtualMachine
	if vs.Reason != ReasonShuttingDown && vs.State != v1.VirtualMachineStopped {
		t.Errorf("shutting down: %+v", *vs)
	}
	vs = e.syncUntil(pod, 30*time.Second, "stopped", isState(v1.VirtualMachineStopped)).VirtualMachine
	if vs.Reason != ReasonShutdown || vs.PowerState != v1.PowerStateShutdown || vs.Ready {
		t.Errorf("after shutdown: %+v", *vs)
	}
	if !strings.Contains(e.logs(pod, runtime.LogOptions{}), vmtest.PowerButtonMarker) {
		t.Error("the guest did not see the power button")
	}
	if alive(pid, e.r.podDir(pod.UID)) {
		t.Error("QEMU still running after shutdown")
	}
	// It stays off.
	if vs = e.sync(pod).VirtualMachine; vs.State != v1.VirtualMachineStopped {
		t.Errorf("shut down VM restarted: %+v", *vs)
	}

	// Running again starts a new boot at once, with its own log.
	pod.Spec.VirtualMachine.PowerState = v1.PowerStateRunning
	vs = e.sync(pod).VirtualMachine
	if vs.State != v1.VirtualMachineRunning || vs.RestartCount != 1 {
		t.Errorf("started again: %+v", *vs)
	}
	if prev := e.logs(pod, runtime.LogOptions{Previous: true}); !strings.Contains(prev, vmtest.PowerButtonMarker) {
		t.Errorf("previous log lacks the first boot:\n%s", prev)
	}
	e.waitLog(pod, vmtest.BootedMarker, bootTimeout)
	if cur := e.logs(pod, runtime.LogOptions{}); strings.Contains(cur, vmtest.PowerButtonMarker) {
		t.Errorf("current log holds the previous boot:\n%s", cur)
	}

	// Follow streams until the VM stops.
	followed := make(chan string)
	go func() {
		var buf bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = e.r.Logs(ctx, pod, "vm", runtime.LogOptions{Follow: true, TailLines: 1}, &buf)
		followed <- buf.String()
	}()

	// StopPod powers the guest off through ACPI within the grace period.
	pid = e.pid(pod)
	if err := e.r.StopPod(context.Background(), pod, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if alive(pid, e.r.podDir(pod.UID)) {
		t.Error("QEMU still running after StopPod")
	}
	vs = e.sync(pod).VirtualMachine
	if vs.State != v1.VirtualMachineStopped || vs.Reason != ReasonStopped || vs.Message != "the guest powered off" {
		t.Errorf("after StopPod: %+v", *vs)
	}
	select {
	case out := <-followed:
		if !strings.Contains(out, vmtest.PowerButtonMarker) {
			t.Errorf("followed log lacks the power-off:\n%s", out)
		}
	case <-time.After(10 * time.Second):
		t.Error("Logs with Follow did not end when the VM stopped")
	}

	// RemovePod leaves nothing behind, and can be repeated.
	dir := e.r.podDir(pod.UID)
	for range 2 {
		if err := e.r.RemovePod(context.Background(), pod.UID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("pod directory left: %v", err)
	}
	if pids := qemuProcesses(dir); len(pids) > 0 {
		t.Errorf("QEMU processes left: %v", pids)
	}
}

// TestGuestPoweroff: a guest that powers off by itself has completed, and
// with restartPolicy OnFailure stays off.
func TestGuestPoweroff(t *testing.T) {
	t.Parallel()
	k := vmtest.Boot(t)
	e := newEnv(t, nil)
	pod := e.add(kernelPod(k, "poweroff"))
	pod.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	pod.Spec.VirtualMachine.UserData = vmtest.PoweroffUserData + "\n"

	e.sync(pod)
	pid := e.pid(pod)
	vs := e.syncUntil(pod, bootTimeout, "stopped", isState(v1.VirtualMachineStopped)).VirtualMachine
	if vs.Reason != ReasonCompleted || vs.RestartCount != 0 {
		t.Errorf("after the guest powered off: %+v", *vs)
	}
	if !strings.Contains(e.logs(pod, runtime.LogOptions{}), vmtest.PoweroffMarker) {
		t.Error("guest did not power off by itself")
	}
	if alive(pid, e.r.podDir(pod.UID)) {
		t.Error("QEMU left running in the shutdown state")
	}
	e.wantEvent(ReasonPoweredOff)
	time.Sleep(time.Second)
	if vs = e.sync(pod).VirtualMachine; vs.State != v1.VirtualMachineStopped || vs.RestartCount != 0 {
		t.Errorf("completed VM restarted under OnFailure: %+v", *vs)
	}
}

// TestCrashRestartBackOff kills QEMU: the runtime reports the failure,
// restarts at once, then backs off.
func TestCrashRestartBackOff(t *testing.T) {
	t.Parallel()
	k := vmtest.Boot(t)
	e := newEnv(t, nil)
	pod := e.add(kernelPod(k, "crash"))

	e.sync(pod)
	kill := func() {
		t.Helper()
		pid := e.pid(pod)
		if pid == 0 {
			t.Fatal("no QEMU running")
		}
		syscall.Kill(pid, syscall.SIGKILL)
		if err := waitGone(context.Background(), pid, e.r.podDir(pod.UID), 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}

	kill()
	vs := e.sync(pod).VirtualMachine
	if vs.State != v1.VirtualMachineRunning || vs.RestartCount != 1 {
		t.Fatalf("first restart is not immediate: %+v", *vs)
	}
	if ev := e.wantEvent(ReasonFailed); !strings.Contains(ev.Message, "killed") || ev.Type != corev1.EventTypeWarning {
		t.Errorf("failure event: %+v", ev)
	}

	kill()
	vs = e.sync(pod).VirtualMachine
	if vs.State != v1.VirtualMachineFailed || vs.Reason != ReasonCrashLoopBackOff || !strings.Contains(vs.Message, ReasonQEMUExited) {
		t.Fatalf("second crash: %+v", *vs)
	}
	e.wantEvent(ReasonBackOff)
	start := time.Now()
	vs = e.syncUntil(pod, 10*time.Second, "restarted", isState(v1.VirtualMachineRunning)).VirtualMachine
	if waited := time.Since(start); vs.RestartCount != 2 || waited < time.Second {
		t.Errorf("after back-off (%s): %+v", waited, *vs)
	}

	// restartPolicy Never leaves a crashed VM failed.
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	kill()
	time.Sleep(3 * time.Second)
	vs = e.sync(pod).VirtualMachine
	if vs.State != v1.VirtualMachineFailed || vs.Reason != ReasonQEMUExited || vs.RestartCount != 2 {
		t.Errorf("crash under restartPolicy Never: %+v", *vs)
	}
}

// TestPodFailures: problems of the pod become reasons and events, not
// errors, and nothing is started.
func TestPodFailures(t *testing.T) {
	t.Parallel()
	_, qemuImg := vmtest.RequireQEMU(t)
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.qcow2")
	// A qcow2 header followed by garbage.
	if err := os.WriteFile(broken, append([]byte("QFI\xfb\x00\x00\x00\x03"), bytes.Repeat([]byte{0xff}, 4096)...), 0o644); err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(dir, "base.raw")
	if err := os.WriteFile(base, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	backed := filepath.Join(dir, "backed.qcow2")
	if out, err := exec.Command(qemuImg, "create", "-q", "-f", "qcow2", "-F", "raw", "-b", base, backed).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	empty := filepath.Join(dir, "empty.img")
	os.WriteFile(empty, nil, 0o644)

	images := vmtest.Images{"example.com/broken:1": broken, "example.com/backed:1": backed, "example.com/empty:1": empty}
	e := newEnv(t, func(c *Config) { c.Images = images })

	for _, c := range []struct {
		name, image string
		mutate      func(*v1.VirtualMachineSpec)
		state       v1.VirtualMachineState
		reason, msg string
	}{
		{name: "broken", image: "example.com/broken:1", state: v1.VirtualMachineFailed, reason: ReasonInvalidDiskImage, msg: "qemu-img cannot read"},
		{name: "backed", image: "example.com/backed:1", state: v1.VirtualMachineFailed, reason: ReasonInvalidDiskImage, msg: "backing file"},
		{name: "empty", image: "example.com/empty:1", state: v1.VirtualMachineFailed, reason: ReasonInvalidDiskImage, msg: "empty"},
		{name: "missing", image: "example.com/missing:1", state: v1.VirtualMachinePending, reason: ReasonErrImagePull, msg: "not found"},
		{name: "memory", image: "example.com/missing:1", state: v1.VirtualMachineFailed, reason: ReasonInvalidResources, msg: "more than the node",
			mutate: func(s *v1.VirtualMachineSpec) {
				s.Resources.Requests = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Pi")}
			}},
		{name: "nothing", state: v1.VirtualMachineFailed, reason: ReasonInvalidSpec, msg: "neither"},
		{name: "kernel-file", state: v1.VirtualMachineFailed, reason: ReasonInvalidSpec, msg: "no such file",
			mutate: func(s *v1.VirtualMachineSpec) { s.Kernel = &v1.KernelBoot{Kernel: "/nonexistent/vmlinuz"} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			pod := &v1.Pod{}
			pod.Name, pod.Namespace, pod.UID = c.name, "default", uuid.NewUUID()
			pod.Spec.VirtualMachine = &v1.VirtualMachineSpec{Image: c.image}
			if c.mutate != nil {
				c.mutate(pod.Spec.VirtualMachine)
			}
			e.add(pod)
			for range 2 { // retried, still failing
				vs := e.sync(pod).VirtualMachine
				if vs.State != c.state || vs.Reason != c.reason || !strings.Contains(vs.Message, c.msg) || vs.Ready {
					t.Errorf("status %+v, want %s %s with %q", *vs, c.state, c.reason, c.msg)
				}
			}
			if ev := e.wantEvent(c.reason); ev.Type != corev1.EventTypeWarning {
				t.Errorf("event %+v", ev)
			}
			if pid := e.pid(pod); pid != 0 {
				t.Errorf("QEMU started for a failing pod: %d", pid)
			}
		})
	}
}

// TestNetwork bridges a VM into a real network namespace set up like a
// CNI plugin would: the guest takes over the pod IP and answers pings from
// the host.
func TestNetwork(t *testing.T) {
	t.Parallel()
	k := vmtest.Boot(t)
	sandboxes := vmtest.NewSandboxes(t)
	e := newEnv(t, func(c *Config) { c.Sandboxes = sandboxes })
	pod := e.add(kernelPod(k, "net"))

	st := e.sync(pod)
	box, ok := sandboxes.Info(pod.UID)
	if !ok {
		t.Fatal("no sandbox")
	}
	if len(st.PodIPs) != 1 || st.PodIPs[0] != box.PodIP {
		t.Errorf("PodIPs %v, want [%s]", st.PodIPs, box.PodIP)
	}
	out := e.waitLog(pod, vmtest.SeedEndMarker, bootTimeout)
	if !strings.Contains(out, vmtest.PingOKMarker) {
		t.Errorf("guest could not ping the gateway %s:\n%s", box.GatewayIP, out)
	}
	mac := guestMAC(pod.UID)
	for _, want := range []string{"arcturus-vm-ip " + box.PodIP, "mac " + mac, `"` + box.PodIP + `/24"`, `macaddress: "` + mac + `"`, `via: "` + box.GatewayIP + `"`} {
		if !strings.Contains(out, want) {
			t.Errorf("console lacks %q:\n%s", want, out)
		}
	}

	ping := func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var err error
		for ctx.Err() == nil {
			if err = vmtest.Ping(ctx, box.PodIP); err == nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Errorf("the VM does not answer pings: %v", err)
	}
	ping()

	// The pod IP now belongs to the guest, not to eth0 of the namespace.
	if out, err := exec.Command("ip", "-n", box.Name, "-4", "addr", "show", "dev", "eth0").CombinedOutput(); err != nil || strings.Contains(string(out), box.PodIP) {
		t.Errorf("eth0 still holds the pod IP: %v\n%s", err, out)
	}

	// Syncing again, and from a new agent, changes nothing.
	e.sync(pod)
	e.restart()
	if st := e.sync(pod); st.VirtualMachine.State != v1.VirtualMachineRunning || len(st.PodIPs) != 1 || st.PodIPs[0] != box.PodIP {
		t.Errorf("after an agent restart: %+v", st)
	}
	ping()

	if err := e.r.RemovePod(context.Background(), pod.UID); err != nil {
		t.Fatal(err)
	}
	if _, ok := sandboxes.Info(pod.UID); ok {
		t.Error("sandbox not removed")
	}
}

// TestDiskImageBoot boots a qcow2 disk image through the BIOS and a boot
// loader, on a copy-on-write overlay.
func TestDiskImageBoot(t *testing.T) {
	t.Parallel()
	k := vmtest.Boot(t)
	disk := vmtest.DiskImage(t, k, "qcow2")
	e := newEnv(t, func(c *Config) { c.Images = vmtest.Images{"example.com/vm/disk:1": disk} })
	pod := e.add(kernelPod(k, "disk"))
	pod.Spec.VirtualMachine.Kernel = nil
	pod.Spec.VirtualMachine.Image = "example.com/vm/disk:1"

	start := time.Now()
	if vs := e.sync(pod).VirtualMachine; vs.State != v1.VirtualMachineRunning {
		t.Fatalf("status %+v", *vs)
	}
	e.waitLog(pod, vmtest.BootedMarker, bootTimeout)
	t.Logf("disk image boot under TCG reached %q in %s", vmtest.BootedMarker, time.Since(start).Round(10*time.Millisecond))

	info, err := e.r.runQEMUImg(context.Background(), "info", "-U", "--output=json", filepath.Join(e.r.podDir(pod.UID), overlayFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(info, []byte(disk)) {
		t.Errorf("overlay is not backed by the image:\n%s", info)
	}
}

// TestAcceleratorProbe runs the KVM probe. Either answer is valid; the
// probe firmware itself is checked under TCG, where it must finish.
func TestAcceleratorProbe(t *testing.T) {
	t.Parallel()
	qemu, _ := vmtest.RequireQEMU(t)
	fw := filepath.Join(t.TempDir(), "probe.bin")
	if err := os.WriteFile(fw, probeFirmware(), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := exec.CommandContext(ctx, qemu, "-machine", "q35", "-accel", "tcg", "-m", "16", "-nodefaults", "-no-user-config",
		"-display", "none", "-bios", fw, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04").Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != probeExitCode {
		t.Fatalf("probe firmware under TCG: %v, want exit code %d", err, probeExitCode)
	}

	start := time.Now()
	e := newEnv(t, func(c *Config) { c.Accelerator = "" }) // Ready probes
	accel := e.r.Accelerator()
	t.Logf("accelerator %s (probe took %s)", accel, time.Since(start).Round(time.Millisecond))
	if accel != AcceleratorKVM && accel != AcceleratorTCG {
		t.Errorf("accelerator %q", accel)
	}
}

// helperEnv makes the test binary act as an agent process that starts a
// VM and then waits to be killed.
const helperEnv = "ARCTURUS_VM_TEST_AGENT"

// TestAgentProcessHelper is the agent process of TestAgentProcessKilled.
func TestAgentProcessHelper(t *testing.T) {
	arg := os.Getenv(helperEnv)
	if arg == "" {
		t.Skip("helper process only")
	}
	stateDir, podFile, _ := strings.Cut(arg, "|")
	b, err := os.ReadFile(podFile)
	if err != nil {
		t.Fatal(err)
	}
	pod := &v1.Pod{}
	if err := json.Unmarshal(b, pod); err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{StateDir: stateDir, Accelerator: AcceleratorTCG})
	if err != nil {
		t.Fatal(err)
	}
	st, err := r.SyncPod(context.Background(), pod)
	if err != nil || st.VirtualMachine.State != v1.VirtualMachineRunning {
		t.Fatalf("SyncPod: %+v, %v", st.VirtualMachine, err)
	}
	fmt.Println("started")
	select {} // until killed
}

// TestAgentProcessKilled kills the agent process that started a VM: the VM
// keeps running, and a new agent finds it.
func TestAgentProcessKilled(t *testing.T) {
	t.Parallel()
	k := vmtest.Boot(t)
	e := newEnv(t, nil)
	pod := e.add(kernelPod(k, "survivor"))
	podFile := filepath.Join(t.TempDir(), "pod.json")
	b, _ := json.Marshal(pod)
	if err := os.WriteFile(podFile, b, 0o600); err != nil {
		t.Fatal(err)
	}

	agent := exec.Command(os.Args[0], "-test.run=^TestAgentProcessHelper$")
	agent.Env = append(os.Environ(), helperEnv+"="+e.cfg.StateDir+"|"+podFile)
	stdout, err := agent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	agent.Stderr = os.Stderr
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "started\n" {
		agent.Process.Kill()
		agent.Wait()
		t.Fatalf("helper agent: %q, %v", line, err)
	}
	pid := e.pid(pod)
	agent.Process.Kill()
	agent.Wait()

	if !alive(pid, e.r.podDir(pod.UID)) {
		t.Fatal("the VM died with the agent")
	}
	vs := e.sync(pod).VirtualMachine
	if vs.State != v1.VirtualMachineRunning || vs.RestartCount != 0 || e.pid(pod) != pid {
		t.Errorf("new agent: %+v, pid %d, was %d", *vs, e.pid(pod), pid)
	}
	e.waitLog(pod, vmtest.BootedMarker, bootTimeout)
	if s := e.qmpStatus(pod); s != qmp.StatusRunning {
		t.Errorf("run state %q", s)
	}

	// No longer a child of this process, it is still killed and gone.
	if err := e.r.RemovePod(context.Background(), pod.UID); err != nil {
		t.Fatal(err)
	}
	if alive(pid, e.r.podDir(pod.UID)) {
		t.Error("QEMU survived RemovePod")
	}
}

// TestStartPaused starts a VM paused (QEMU's -S), resumes it, and stops it
// with a zero grace period, which skips the power button.
func TestStartPaused(t *testing.T) {
	t.Parallel()
	k := vmtest.Boot(t)
	e := newEnv(t, nil)
	pod := e.add(kernelPod(k, "paused"))
	pod.Spec.VirtualMachine.PowerState = v1.PowerStatePaused
	pod.Spec.TerminationGracePeriodSeconds = ptr(int64(0))

	if vs := e.sync(pod).VirtualMachine; vs.State != v1.VirtualMachinePaused || vs.Ready {
		t.Fatalf("started paused: %+v", *vs)
	}
	if s := e.qmpStatus(pod); s != qmp.StatusPrelaunch {
		t.Errorf("run state %q, want prelaunch", s)
	}
	pod.Spec.VirtualMachine.PowerState = v1.PowerStateRunning
	if vs := e.sync(pod).VirtualMachine; vs.State != v1.VirtualMachineRunning || !vs.Ready {
		t.Fatalf("resumed: %+v", *vs)
	}
	e.waitLog(pod, vmtest.BootedMarker, bootTimeout)

	pid := e.pid(pod)
	pod.Spec.VirtualMachine.PowerState = v1.PowerStateShutdown
	vs := e.sync(pod).VirtualMachine
	if vs.State != v1.VirtualMachineStopped || vs.Reason != ReasonShutdown || !strings.Contains(vs.Message, "within 0s") {
		t.Errorf("shutdown with no grace: %+v", *vs)
	}
	if alive(pid, e.r.podDir(pod.UID)) {
		t.Error("QEMU still running")
	}
}

// TestGuestPanic: a guest kernel panic, reported through pvpanic, is a
// failure, and the VM is restarted.
func TestGuestPanic(t *testing.T) {
	t.Parallel()
	k := vmtest.Boot(t)
	e := newEnv(t, nil)
	pod := e.add(kernelPod(k, "panic"))
	pod.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	pod.Spec.VirtualMachine.UserData = vmtest.PanicUserData + "\n"

	e.sync(pod)
	e.syncUntil(pod, bootTimeout, "restarted after a panic", func(vs *v1.VirtualMachineStatus) bool { return vs.RestartCount > 0 })
	if ev := e.wantEvent(ReasonFailed); !strings.Contains(ev.Message, "panicked") {
		t.Errorf("failure event: %+v", ev)
	}
	if prev := e.logs(pod, runtime.LogOptions{Previous: true}); !strings.Contains(prev, vmtest.PanicMarker) {
		t.Errorf("previous boot did not panic:\n%s", prev)
	}
}
