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
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime/vm/qmp"
	"github.com/arcturus-cloud/arcturus/pkg/internal/logtail"
	"github.com/arcturus-cloud/arcturus/pkg/nsenter"
)

const (
	// qmpReadyTimeout bounds the wait for a new QEMU's QMP socket, which it
	// opens before it loads anything big.
	qmpReadyTimeout = 30 * time.Second
	// qmpTimeout bounds one QMP exchange.
	qmpTimeout = 10 * time.Second
	// quitTimeout is how long QEMU gets to exit after quit before SIGKILL.
	quitTimeout = 10 * time.Second
)

// launch is what one QEMU process is started with.
type launch struct {
	dir     string
	name    string
	uuid    string
	accel   string
	cpus    int32
	memory  int64
	disk    string // the overlay, or empty to boot a kernel without disk
	seed    string
	kernel  string
	initrd  string
	cmdline string
	net     *guestNetwork
	paused  bool
}

// qemuArgs builds QEMU's command line. Paths are escaped for QEMU's option
// syntax; the state directory may contain commas.
func qemuArgs(l launch) []string {
	p := func(name string) string { return qemuEscape(filepath.Join(l.dir, name)) }
	args := []string{
		"-name", "guest=" + qemuEscape(l.name) + ",debug-threads=on",
		"-machine", "q35",
		"-accel", l.accel,
	}
	if l.accel == AcceleratorKVM {
		args = append(args, "-cpu", "host")
	} else {
		// Every CPU feature TCG emulates, for guests built for newer CPUs.
		args = append(args, "-cpu", "max")
	}
	args = append(args,
		"-smp", strconv.Itoa(int(l.cpus)),
		"-m", strconv.FormatInt(l.memory>>20, 10),
		"-nodefaults", "-no-user-config",
		"-display", "none",
		"-rtc", "base=utc",
		"-msg", "timestamp=on",
		// A powered-off guest leaves QEMU in the "shutdown" state instead
		// of exiting, so that the runtime can tell it from a crash.
		"-no-shutdown",
		// A guest that panics (reported through pvpanic) stays in the
		// "guest-panicked" state for the runtime to see, rather than
		// looking like a power-off.
		"-action", "panic=pause",
		"-device", "pvpanic",
		"-pidfile", p(pidFile),
		"-chardev", "socket,id=qmp,path="+p(qmpSocketFile)+",server=on,wait=off",
		"-mon", "chardev=qmp,mode=control",
		"-chardev", "file,id=serial0,path="+p(consoleFile)+",append=on",
		"-serial", "chardev:serial0",
		"-device", "virtio-rng-pci",
	)
	if l.uuid != "" {
		args = append(args, "-uuid", l.uuid)
	}
	if l.disk != "" {
		args = append(args,
			"-drive", "file="+qemuEscape(l.disk)+",format=qcow2,if=none,id=disk0,discard=unmap",
			"-device", "virtio-blk-pci,drive=disk0,bootindex=1")
	}
	if l.seed != "" {
		args = append(args,
			"-drive", "file="+qemuEscape(l.seed)+",format=raw,if=none,id=seed,readonly=on",
			"-device", "virtio-blk-pci,drive=seed,serial=cidata")
	}
	if l.kernel != "" {
		args = append(args, "-kernel", l.kernel, "-append", l.cmdline)
		if l.initrd != "" {
			args = append(args, "-initrd", l.initrd)
		}
	}
	if l.net != nil {
		netdev := "tap,id=net0,ifname=" + tapLink + ",script=no,downscript=no"
		// vhost-net moves packets in the kernel; it needs KVM's eventfds.
		if l.accel == AcceleratorKVM {
			if _, err := os.Stat("/dev/vhost-net"); err == nil {
				netdev += ",vhost=on"
			}
		}
		nic := "virtio-net-pci,netdev=net0,mac=" + l.net.MAC
		if l.net.MTU > 0 && l.net.MTU != 1500 {
			// Tells the guest driver the MTU of the pod network.
			nic += ",host_mtu=" + strconv.Itoa(l.net.MTU)
		}
		args = append(args, "-netdev", netdev, "-device", nic)
	}
	if l.paused {
		args = append(args, "-S")
	}
	return args
}

// children are the QEMU processes this agent process started. Only the
// parent can learn how a process exited, and it must reap it; a QEMU
// started by an earlier agent process belongs to init instead.
var children = struct {
	sync.Mutex
	m map[int]*child
}{m: map[int]*child{}}

type child struct {
	done  chan struct{}
	state *os.ProcessState
}

// exitDescription says how a child exited, or "" if it is not ours.
func exitDescription(pid int) string {
	children.Lock()
	c := children.m[pid]
	children.Unlock()
	if c == nil {
		return ""
	}
	select {
	case <-c.done:
		if c.state != nil {
			return c.state.String() // "exit status 1", "signal: segmentation fault"
		}
	default:
	}
	return ""
}

// waitChild waits for a child of this process to be reaped. It returns
// false if pid is not a child.
func waitChild(ctx context.Context, pid int) bool {
	children.Lock()
	c := children.m[pid]
	children.Unlock()
	if c == nil {
		return false
	}
	select {
	case <-c.done:
	case <-ctx.Done():
	}
	return true
}

func forgetChild(pid int) {
	children.Lock()
	delete(children.m, pid)
	children.Unlock()
}

// startQEMU starts QEMU for l in its own session, in the pod's network
// namespace when it has one, and waits until QMP answers. The process is
// not tied to ctx or to the agent: it runs until it is told to quit.
func (r *Runtime) startQEMU(ctx context.Context, l launch) (int, error) {
	if r.qemu == "" {
		return 0, fmt.Errorf("QEMU binary %q not found", r.cfg.QEMU)
	}
	for _, name := range []string{pidFile, qmpSocketFile} {
		if err := os.Remove(filepath.Join(l.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, err
		}
	}
	logf, err := os.OpenFile(filepath.Join(l.dir, qemuLogFile), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, fmt.Errorf("opening the QEMU log: %w", err)
	}
	defer logf.Close()

	// Not exec.CommandContext: the VM must outlive this call.
	cmd := exec.Command(r.qemu, qemuArgs(l)...)
	cmd.Dir = l.dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	// A session of its own keeps QEMU out of the agent's process group and
	// terminal, so signals meant for the agent do not reach it. No
	// Pdeathsig: the VM must survive the agent.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if l.net != nil {
		err = nsenter.Path(l.net.NetNS, cmd.Start)
	} else {
		err = cmd.Start()
	}
	if err != nil {
		return 0, fmt.Errorf("starting QEMU: %w", err)
	}
	pid := cmd.Process.Pid
	c := &child{done: make(chan struct{})}
	children.Lock()
	children.m[pid] = c
	children.Unlock()
	log := r.log.WithValues("pid", pid, "dir", l.dir)
	go func() {
		// Reaps QEMU whenever it exits, so it never lingers as a zombie.
		_ = cmd.Wait()
		c.state = cmd.ProcessState
		close(c.done)
		log.V(2).Info("QEMU exited", "state", cmd.ProcessState.String())
	}()

	ctx, cancel := context.WithTimeout(ctx, qmpReadyTimeout)
	defer cancel()
	sock := filepath.Join(l.dir, qmpSocketFile)
	for {
		if qc, err := qmp.Dial(ctx, sock); err == nil {
			qc.Close()
			return pid, nil
		}
		select {
		case <-c.done:
			return pid, &qemuExitedError{desc: c.state.String(), log: logtail.Last(filepath.Join(l.dir, qemuLogFile))}
		case <-ctx.Done():
			return pid, fmt.Errorf("QEMU did not open its QMP socket: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// qemuExitedError is a QEMU that exited while starting.
type qemuExitedError struct{ desc, log string }

func (e *qemuExitedError) Error() string {
	if e.log == "" {
		return "QEMU " + e.desc
	}
	return fmt.Sprintf("QEMU %s: %s", e.desc, e.log)
}

// alive reports whether pid is a running QEMU of the pod in dir: the pid
// may have been reused, so its command line must name the pod's QMP socket.
// Zombies have an empty command line and count as gone.
func alive(pid int, dir string) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return false
	}
	return bytes.Contains(b, []byte(qemuEscape(filepath.Join(dir, qmpSocketFile))))
}

// findQEMU returns the pid of the pod's running QEMU, or 0. It tries the
// pid file QEMU wrote, then the pid recorded when it was started.
func findQEMU(dir string, st *podState) int {
	if b, err := os.ReadFile(filepath.Join(dir, pidFile)); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && alive(pid, dir) {
			return pid
		}
	}
	if st.Boot != nil && alive(st.Boot.PID, dir) {
		return st.Boot.PID
	}
	return 0
}

// killQEMU sends SIGKILL and waits until the process is gone.
func killQEMU(ctx context.Context, pid int, dir string) error {
	if !alive(pid, dir) {
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("killing QEMU %d: %w", pid, err)
	}
	return waitGone(ctx, pid, dir, quitTimeout)
}

// waitGone waits until pid is no longer the pod's QEMU (and, for our own
// children, reaped).
func waitGone(ctx context.Context, pid int, dir string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for alive(pid, dir) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("QEMU %d still running: %w", pid, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	waitChild(ctx, pid)
	return nil
}

// dialQMP connects to the pod's QMP socket.
func dialQMP(ctx context.Context, dir string) (*qmp.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, qmpTimeout)
	defer cancel()
	return qmp.Dial(ctx, filepath.Join(dir, qmpSocketFile))
}
