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

// Package vm runs the virtual machine of VM pods (pods with
// spec.virtualMachine) with QEMU.
//
// Each pod has a directory StateDir/<pod-uid>/ that holds everything about
// its VM: a record of the pod and the runtime's state (JSON), a qcow2
// copy-on-write overlay of the boot disk, a cloud-init NoCloud seed, the
// serial console log (console.log, and console.log.1 for the previous boot),
// QEMU's own messages (qemu.log), its pid file and its QMP socket.
//
// QEMU runs in its own session, not tied to the agent: the agent can be
// killed and restarted, and a new Runtime on the same StateDir finds the VM
// again through the pid file and the QMP socket. Because a VM must outlive
// the agent, deployments must not kill the agent's whole process group or
// cgroup on restart (systemd: KillMode=process, or run the agent so that
// QEMU is outside its unit).
//
// QEMU is started with -no-shutdown, so a guest that powers off leaves QEMU
// in the "shutdown" run state instead of exiting. That lets the runtime tell
// a guest-initiated power-off (a successful exit) from a QEMU that went away
// (a failure) even when the agent was not running at the time.
package vm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime"
)

// Accelerators.
const (
	AcceleratorKVM = "kvm"
	AcceleratorTCG = "tcg"
)

// Config configures a Runtime.
type Config struct {
	// StateDir holds one directory per pod. Required. Keep it short: the
	// QMP socket path (StateDir/<uid>/qmp.sock) must fit in 107 bytes.
	StateDir string
	// QEMU is the qemu-system-x86_64 binary, a path or a name looked up on
	// PATH. Defaults to "qemu-system-x86_64".
	QEMU string
	// QEMUImg is the qemu-img binary. Defaults to "qemu-img".
	QEMUImg string
	// Images resolves the OCI references of disk images, kernels and
	// initrds to files. Absolute paths in kernel and initrd are used as
	// they are. May be nil when pods only use absolute paths.
	Images runtime.ImageFiles
	// Sandboxes gives VMs their place on the pod network. When nil, VMs have
	// no network interface.
	Sandboxes runtime.Sandboxes
	// Recorder receives Events about pods. May be nil.
	Recorder runtime.Recorder
	// Accelerator is "kvm", "tcg", or empty to probe whether KVM really
	// works on this node and fall back to TCG.
	Accelerator string
	// Logger for work not tied to a call's context (probing, reaping QEMU).
	// Defaults to klog.Background().
	Logger klog.Logger

	// InitialBackOff and MaxBackOff bound the delay before restarting a VM
	// that stopped, as Kubernetes' CrashLoopBackOff: the first restart is
	// immediate, then InitialBackOff, doubling up to MaxBackOff. A VM that
	// ran for BackOffReset starts over. Defaults: 10s, 5m, 10m.
	InitialBackOff time.Duration
	MaxBackOff     time.Duration
	BackOffReset   time.Duration
}

// Runtime runs VM pods with QEMU. It implements runtime.Runtime.
type Runtime struct {
	cfg     Config
	qemu    string
	qemuImg string
	log     klog.Logger

	accelOnce sync.Once
	accel     string

	mu   sync.Mutex
	pods map[types.UID]*podLock
}

type podLock struct {
	sync.Mutex
	refs int
}

var _ runtime.Runtime = &Runtime{}

// maxSocketPath is the longest path a unix socket may have (sun_path less
// its terminating NUL).
const maxSocketPath = 107

// New returns a Runtime. It does not start or probe anything; missing
// binaries are reported by Ready.
func New(cfg Config) (*Runtime, error) {
	if cfg.StateDir == "" {
		return nil, errors.New("vm: StateDir is required")
	}
	dir, err := filepath.Abs(cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("vm: state directory: %w", err)
	}
	cfg.StateDir = dir
	if n := len(filepath.Join(dir, "00000000-0000-0000-0000-000000000000", qmpSocketFile)); n > maxSocketPath {
		return nil, fmt.Errorf("vm: state directory %q is too long: QMP socket paths would have %d bytes, more than %d", dir, n, maxSocketPath)
	}
	switch cfg.Accelerator {
	case "", AcceleratorKVM, AcceleratorTCG:
	default:
		return nil, fmt.Errorf("vm: unknown accelerator %q, want %q, %q or empty to probe", cfg.Accelerator, AcceleratorKVM, AcceleratorTCG)
	}
	if cfg.QEMU == "" {
		cfg.QEMU = "qemu-system-x86_64"
	}
	if cfg.QEMUImg == "" {
		cfg.QEMUImg = "qemu-img"
	}
	if cfg.InitialBackOff <= 0 {
		cfg.InitialBackOff = 10 * time.Second
	}
	if cfg.MaxBackOff <= 0 {
		cfg.MaxBackOff = 5 * time.Minute
	}
	if cfg.BackOffReset <= 0 {
		cfg.BackOffReset = 2 * cfg.MaxBackOff
	}
	if cfg.Logger.GetSink() == nil {
		cfg.Logger = klog.Background()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("vm: creating state directory: %w", err)
	}
	r := &Runtime{
		cfg:  cfg,
		log:  cfg.Logger.WithName("vm"),
		pods: map[types.UID]*podLock{},
	}
	// Lookup failures are kept for Ready to report.
	r.qemu, _ = exec.LookPath(cfg.QEMU)
	r.qemuImg, _ = exec.LookPath(cfg.QEMUImg)
	return r, nil
}

// Name implements runtime.Runtime.
func (r *Runtime) Name() string { return "qemu" }

// Ready implements runtime.Runtime: QEMU and qemu-img must be installed and
// the state directory writable. It also runs the accelerator probe, so that
// its result is known before the first pod.
func (r *Runtime) Ready(ctx context.Context) error {
	if r.qemu == "" {
		return fmt.Errorf("QEMU binary %q not found", r.cfg.QEMU)
	}
	if r.qemuImg == "" {
		return fmt.Errorf("qemu-img binary %q not found", r.cfg.QEMUImg)
	}
	f, err := os.CreateTemp(r.cfg.StateDir, ".ready-*")
	if err != nil {
		return fmt.Errorf("state directory not writable: %w", err)
	}
	f.Close()
	os.Remove(f.Name())
	_ = r.Accelerator()
	return nil
}

// Accelerator returns the accelerator VMs run with: "kvm" when configured
// or when the probe found KVM working, else "tcg". The probe runs once.
func (r *Runtime) Accelerator() string {
	r.accelOnce.Do(func() {
		if r.cfg.Accelerator != "" {
			r.accel = r.cfg.Accelerator
			return
		}
		r.accel = probeAccelerator(r.log, r.qemu)
	})
	return r.accel
}

// lockPod serializes the work on one pod: QMP takes one client at a time,
// and state files are read, changed and written back. It returns the
// unlock function.
func (r *Runtime) lockPod(uid types.UID) func() {
	r.mu.Lock()
	l, ok := r.pods[uid]
	if !ok {
		l = &podLock{}
		r.pods[uid] = l
	}
	l.refs++
	r.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		r.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(r.pods, uid)
		}
		r.mu.Unlock()
	}
}
