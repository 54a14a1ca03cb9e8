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
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime/vm/qmp"
	"github.com/arcturus-cloud/arcturus/pkg/internal/logtail"
	"github.com/arcturus-cloud/arcturus/pkg/metal/power"
)

const (
	// qmpReadyTimeout bounds the wait for a new QEMU's QMP socket, which
	// it opens before the guest runs.
	qmpReadyTimeout = 30 * time.Second
	// qmpTimeout bounds one QMP exchange.
	qmpTimeout = 10 * time.Second
	// quitTimeout is how long QEMU gets to exit after quit before SIGKILL.
	quitTimeout = 10 * time.Second
	// bmcOperationTimeout bounds a power operation asked for through the
	// BMC; it runs to the end even if the client gives up, as on a real
	// BMC.
	bmcOperationTimeout = qmpReadyTimeout + quitTimeout + qmpTimeout
	// bootRetry is how long SeaBIOS waits after finding nothing to boot
	// before it tries again, as a server does.
	bootRetry = 5 * time.Second
)

// SMBIOS system information, for inventory agents that read
// /sys/class/dmi/id.
const (
	smbiosManufacturer = "Arcturus"
	smbiosProduct      = "Lab Server"
	smbiosVersion      = "1.0"
	smbiosFamily       = "Arcturus Lab"
)

// Power operations, as counted in metrics.
const (
	opOn       = "on"
	opOff      = "off"
	opShutdown = "shutdown"
	opReset    = "reset"
)

var errNotStarted = errors.New("the machine is not started")

// vmProcess is a running QEMU.
type vmProcess struct {
	cmd *exec.Cmd
	// done is closed once QEMU has exited and been reaped.
	done chan struct{}
}

// PowerState returns StateOn while QEMU runs, else StateOff.
func (m *Machine) PowerState() power.State {
	if m.running() != nil {
		return power.StateOn
	}
	return power.StateOff
}

func (m *Machine) running() *vmProcess {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.vm
}

// PowerOn starts QEMU unless it runs, and consumes a one-time boot
// override.
func (m *Machine) PowerOn(ctx context.Context) (err error) {
	defer countOperation(opOn, &err)
	return m.locked(ctx, m.powerOn)
}

// PowerOff ends QEMU, as pulling the plug would; it does nothing if the
// machine is off.
func (m *Machine) PowerOff(ctx context.Context) (err error) {
	defer countOperation(opOff, &err)
	return m.locked(ctx, m.powerOff)
}

// Shutdown presses the ACPI power button, asking the guest to power off;
// it does nothing if the machine is off.
func (m *Machine) Shutdown(ctx context.Context) (err error) {
	defer countOperation(opShutdown, &err)
	return m.locked(ctx, func(ctx context.Context) error {
		if m.running() == nil {
			return nil
		}
		return m.qmpExecute(ctx, "system_powerdown")
	})
}

// Reset resets the machine as its reset button would. It fails with
// ErrPoweredOff if the machine is off.
func (m *Machine) Reset(ctx context.Context) (err error) {
	defer countOperation(opReset, &err)
	return m.locked(ctx, func(ctx context.Context) error {
		if m.running() == nil {
			return ErrPoweredOff
		}
		return m.qmpExecute(ctx, "system_reset")
	})
}

// locked runs op holding the operation lock, on a started machine.
func (m *Machine) locked(ctx context.Context, op func(context.Context) error) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.unlock()
	m.mu.Lock()
	started := m.bmc != nil
	m.mu.Unlock()
	if !started {
		return fmt.Errorf("machine %s: %w", m.spec.Name, errNotStarted)
	}
	if err := op(ctx); err != nil {
		return fmt.Errorf("machine %s: %w", m.spec.Name, err)
	}
	return nil
}

// powerOn starts QEMU, unless it runs, and waits until it answers on QMP.
// The process is not tied to ctx: it runs until powered off.
func (m *Machine) powerOn(ctx context.Context) error {
	if m.running() != nil {
		return nil
	}
	log := m.logger(ctx)
	sock := m.QMPSocket()
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	logf, err := os.OpenFile(m.path(qemuLogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening the QEMU log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(m.qemu, m.qemuArgs()...)
	cmd.Dir = m.spec.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childProcAttr()
	if err := inNetNS(m.spec.NetNS, cmd.Start); err != nil {
		if cmd.Process != nil {
			// Started, but its thread was lost: it is dying, reap it.
			_ = cmd.Wait()
		}
		return fmt.Errorf("starting QEMU: %w", err)
	}
	p := &vmProcess{cmd: cmd, done: make(chan struct{})}
	m.mu.Lock()
	m.vm = p
	m.mu.Unlock()
	go func() {
		err := cmd.Wait()
		m.mu.Lock()
		if m.vm == p {
			m.vm = nil
		}
		m.mu.Unlock()
		close(p.done)
		if err != nil {
			log.Info("Lab machine powered off", "qemu", err.Error(), "qemuLog", logtail.Last(m.path(qemuLogFile)))
			return
		}
		log.Info("Lab machine powered off")
	}()

	if err := waitQMP(ctx, sock, p); err != nil {
		_ = cmd.Process.Kill()
		<-p.done
		if tail := logtail.Last(m.path(qemuLogFile)); tail != "" {
			err = fmt.Errorf("%w: %s", err, tail)
		}
		return err
	}
	m.mu.Lock()
	boot := m.boot
	if !boot.Persistent {
		m.boot = BootOverride{}
	}
	m.mu.Unlock()
	log.Info("Lab machine powered on", "pid", cmd.Process.Pid, "pxeOverride", boot.PXE)
	return nil
}

// waitQMP waits until QEMU answers on its QMP socket.
func waitQMP(ctx context.Context, sock string, p *vmProcess) error {
	ctx, cancel := context.WithTimeout(ctx, qmpReadyTimeout)
	defer cancel()
	for {
		if c, err := qmp.Dial(ctx, sock); err == nil {
			return c.Close()
		}
		select {
		case <-p.done:
			return fmt.Errorf("QEMU %s", p.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("QEMU did not open its QMP socket: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// powerOff asks QEMU to quit, which lets it flush the disk image, and
// kills it if it does not.
func (m *Machine) powerOff(ctx context.Context) error {
	p := m.running()
	if p == nil {
		return nil
	}
	if err := m.qmpExecute(ctx, "quit"); err != nil {
		m.logger(ctx).V(2).Info("QMP quit failed, killing QEMU", "err", err)
		_ = p.cmd.Process.Kill()
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(quitTimeout):
	case <-ctx.Done():
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for QEMU to exit: %w", ctx.Err())
	}
}

// qmpExecute runs one QMP command without arguments.
func (m *Machine) qmpExecute(ctx context.Context, command string) error {
	ctx, cancel := context.WithTimeout(ctx, qmpTimeout)
	defer cancel()
	c, err := qmp.Dial(ctx, m.QMPSocket())
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Execute(ctx, command, nil, nil)
}

// qemuArgs builds QEMU's command line.
func (m *Machine) qemuArgs() []string {
	s := m.spec
	p := func(name string) string { return qemuEscape(m.path(name)) }
	cpu := "max"
	if s.Accelerator == AcceleratorKVM {
		cpu = "host"
	}
	args := []string{
		"-name", "guest=" + s.Name + ",debug-threads=on",
		"-machine", "q35",
		"-accel", s.Accelerator,
		"-cpu", cpu,
		"-smp", strconv.Itoa(s.CPUs),
		"-m", strconv.Itoa(s.MemoryMiB),
		"-nodefaults", "-no-user-config",
		"-display", "none",
		"-uuid", s.UUID,
		"-smbios", "type=1,manufacturer=" + smbiosManufacturer + ",product=" + smbiosProduct +
			",version=" + smbiosVersion + ",serial=" + s.Name + ",uuid=" + s.UUID + ",family=" + smbiosFamily,
		"-rtc", "base=utc",
		"-msg", "timestamp=on",
		"-chardev", "socket,id=qmp,path=" + p(qmpSocket) + ",server=on,wait=off",
		"-mon", "chardev=qmp,mode=control",
		"-chardev", "file,id=console,path=" + p(consoleLogFile) + ",append=on",
		"-serial", "chardev:console",
		"-device", "virtio-rng-pci",
		"-boot", "reboot-timeout=" + strconv.FormatInt(bootRetry.Milliseconds(), 10),
	}
	switch s.Firmware {
	case FirmwareUEFI:
		args = append(args,
			"-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+qemuEscape(ovmfCode),
			"-drive", "if=pflash,format=raw,unit=1,file="+p(uefiVarsFile))
	case FirmwareBIOS:
		// SeaBIOS mirrors its screen, and iPXE's, to the serial console.
		args = append(args, "-fw_cfg", "name=etc/sercon-port,file="+p(serconFile))
	}
	// Boot order: the NICs, then the disk.
	bootIndex := 1
	for i, nic := range s.NICs {
		id := "net" + strconv.Itoa(i)
		args = append(args,
			"-netdev", "tap,id="+id+",ifname="+nic.Tap+",script=no,downscript=no",
			"-device", "virtio-net-pci,netdev="+id+",mac="+nic.MAC+",bootindex="+strconv.Itoa(bootIndex))
		bootIndex++
	}
	if len(s.NICs) == 0 {
		args = append(args, "-nic", "none")
	}
	if s.DiskBytes > 0 {
		args = append(args,
			"-drive", "file="+p(diskFile)+",format=raw,if=none,id=disk0,discard=unmap",
			"-device", "virtio-blk-pci,drive=disk0,bootindex="+strconv.Itoa(bootIndex))
	}
	if s.BMC.Type == BMCIPMI {
		// The guest's KCS interface talks to ipmi_sim through this
		// process; see ipmi.go.
		args = append(args,
			"-chardev", "socket,id=ipmi0,path="+p(ipmiVMSocket)+",reconnect=1",
			"-device", "ipmi-bmc-extern,id=bmc0,chardev=ipmi0",
			"-device", "isa-ipmi-kcs,bmc=bmc0")
	}
	return append(args, s.ExtraArgs...)
}

// qemuEscape escapes a value for QEMU's option syntax, where a comma ends
// the value unless doubled.
func qemuEscape(s string) string { return strings.ReplaceAll(s, ",", ",,") }

// childProcAttr makes children die with this process, and keeps them out
// of its process group so that a terminal's signals reach only this
// process, which then stops them in order.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
