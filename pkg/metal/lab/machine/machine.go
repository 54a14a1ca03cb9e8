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

// Package machine runs the servers of a metal lab: each Machine is a QEMU
// virtual machine behind an emulated BMC, so that the metal controller
// manages it as it would a real server.
//
// The machine is powered on while its QEMU process runs and off when none
// does: powering on starts QEMU, forcing it off ends QEMU, and a guest that
// powers itself off ends QEMU too. Its boot order is network first, then
// disk, as a server set up for provisioning: it always PXE-boots, and
// SeaBIOS or OVMF go on to the disk when iPXE finds nothing to boot.
//
// The BMC is one of:
//   - Redfish: an HTTP service in this process with the standard Redfish
//     tree of one ComputerSystem and its Manager.
//   - IPMI: OpenIPMI's ipmi_sim, which serves IPMI over the LAN and runs a
//     chassis control program for power and boot device commands: this
//     process's binary again, which hands the command to the Machine (see
//     chassis.go). QEMU's guest also sees the BMC through a KCS interface,
//     linked to ipmi_sim's VM serial channel.
//
// Child processes get SIGKILL when this process dies.
package machine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/klog/v2"
)

// Firmware is what a machine boots with.
type Firmware string

// Firmwares.
const (
	// FirmwareBIOS is SeaBIOS, whose network boot is QEMU's iPXE option
	// ROM.
	FirmwareBIOS Firmware = "bios"
	// FirmwareUEFI is OVMF, with variables kept in the machine's
	// directory.
	FirmwareUEFI Firmware = "uefi"
)

// Accelerators.
const (
	AcceleratorTCG = "tcg"
	AcceleratorKVM = "kvm"
)

// BMCType is the protocol of a machine's BMC.
type BMCType string

// BMC types.
const (
	BMCRedfish BMCType = "redfish"
	BMCIPMI    BMCType = "ipmi"
)

// Files in a machine's directory.
const (
	diskFile       = "disk.img"
	uefiVarsFile   = "OVMF_VARS.fd"
	serconFile     = "sercon-port"
	consoleLogFile = "console.log"
	qemuLogFile    = "qemu.log"
	qmpSocket      = "qmp.sock"
	// ipmiVMSocket links QEMU's BMC device to ipmi_sim, bmcSocket
	// ipmi_sim's chassis control program to this process.
	ipmiVMSocket = "ipmi-vm.sock"
	bmcSocket    = "bmc.sock"
)

// sockets are removed when the machine stops.
var sockets = []string{qmpSocket, ipmiVMSocket, bmcSocket}

// Paths of OVMF as Debian's ovmf package installs it.
var (
	ovmfCode = "/usr/share/OVMF/OVMF_CODE_4M.fd"
	ovmfVars = "/usr/share/OVMF/OVMF_VARS_4M.fd"
)

// ErrPoweredOff is returned by operations that need a running machine.
var ErrPoweredOff = errors.New("the machine is powered off")

// Spec describes a machine.
type Spec struct {
	// Name is the machine's name, a DNS label. It is the SMBIOS serial
	// number and the Redfish system's name.
	Name string
	// Dir holds the machine's state: its disk, firmware variables,
	// sockets, logs and the BMC's configuration. It is created if missing.
	Dir string
	// UUID is the SMBIOS system UUID; one derived from Name when empty.
	UUID string
	// CPUs is 1 when zero.
	CPUs int
	// MemoryMiB is 1024 when zero.
	MemoryMiB int
	// DiskBytes is the size of the raw disk image created in Dir when it
	// does not exist; the image is kept across power cycles and restarts.
	// No disk when zero.
	DiskBytes int64
	// NICs are connected in order; the first one boots first.
	NICs []NIC
	// NetNS is the network namespace (a name for ip netns) that holds the
	// taps and in which QEMU runs; this process's when empty.
	NetNS string
	// Firmware is FirmwareBIOS when empty.
	Firmware Firmware
	// Accelerator is AcceleratorTCG (the default) or AcceleratorKVM. It
	// is not probed: /dev/kvm may exist and not work, as in some nested
	// setups, where guests then hang.
	Accelerator string
	BMC         BMCSpec
	// PoweredOn powers the machine on when it starts.
	PoweredOn bool
	// ExtraArgs are appended to QEMU's arguments, for example to boot a
	// kernel directly in tests.
	ExtraArgs []string
}

// NIC is a network interface of a machine.
type NIC struct {
	MAC string
	// Tap is a tap device that exists when the machine powers on, in the
	// machine's network namespace and attached to a bridge.
	Tap string
}

// BMCSpec describes a machine's BMC.
type BMCSpec struct {
	Type BMCType
	// Address is the host:port the BMC listens on, 127.0.0.1:0 when
	// empty. Port 0 picks a free port.
	Address string
	// Username is "admin" when empty.
	Username string
	Password string
}

// BootOverride is a boot device set through the BMC.
type BootOverride struct {
	// PXE boots from the network. As machines boot from the network first
	// anyway, it does not change how QEMU starts; it is kept, reported
	// and consumed as a real BMC does.
	PXE bool
	// Persistent keeps the override for every boot rather than the next
	// one only.
	Persistent bool
}

// Machine is a lab server. Its methods are safe for concurrent use.
type Machine struct {
	spec Spec
	// Programs, found by Start.
	qemu, ipmiSim string

	// opLock serializes Start, Stop and power operations, which may wait
	// for QEMU; waiting for it ends with the caller's context.
	opLock chan struct{}

	mu   sync.Mutex // guards the fields below
	vm   *vmProcess // nil when powered off
	boot BootOverride
	bmc  bmc // nil when stopped
}

// bmc is a running BMC emulation.
type bmc interface {
	endpoint() string
	stop(ctx context.Context) error
}

var (
	tapName   = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,15}$`)
	netnsName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
)

// New checks spec and returns a stopped machine.
func New(spec Spec) (*Machine, error) {
	if err := withDefaults(&spec); err != nil {
		return nil, fmt.Errorf("machine %q: %w", spec.Name, err)
	}
	return &Machine{spec: spec, opLock: make(chan struct{}, 1)}, nil
}

func withDefaults(s *Spec) error {
	if errs := validation.IsDNS1123Label(s.Name); len(errs) > 0 {
		return fmt.Errorf("invalid name: %s", strings.Join(errs, "; "))
	}
	if s.Dir == "" {
		return errors.New("no directory")
	}
	dir, err := filepath.Abs(s.Dir)
	if err != nil {
		return err
	}
	s.Dir = dir
	// A unix socket's path has room for 107 bytes.
	if p := filepath.Join(dir, ipmiVMSocket); len(p) > 107 {
		return fmt.Errorf("directory %s is too long for unix sockets in it", dir)
	}
	if s.UUID == "" {
		s.UUID = uuid.NewSHA1(uuid.NameSpaceOID, []byte("arcturus-lab/"+s.Name)).String()
	} else if u, err := uuid.Parse(s.UUID); err != nil {
		return fmt.Errorf("invalid UUID: %w", err)
	} else {
		s.UUID = u.String()
	}
	if s.CPUs == 0 {
		s.CPUs = 1
	}
	if s.MemoryMiB == 0 {
		s.MemoryMiB = 1024
	}
	if s.CPUs < 0 || s.MemoryMiB < 0 || s.DiskBytes < 0 {
		return errors.New("negative CPUs, memory or disk size")
	}
	// The machine keeps its own copies.
	s.NICs, s.ExtraArgs = slices.Clone(s.NICs), slices.Clone(s.ExtraArgs)
	for i, nic := range s.NICs {
		mac, err := net.ParseMAC(nic.MAC)
		if err != nil || len(mac) != 6 {
			return fmt.Errorf("invalid MAC %q", nic.MAC)
		}
		// QEMU takes the colon form only.
		s.NICs[i].MAC = mac.String()
		if !tapName.MatchString(nic.Tap) {
			return fmt.Errorf("invalid tap name %q", nic.Tap)
		}
	}
	if s.NetNS != "" && (!netnsName.MatchString(s.NetNS) || s.NetNS == "." || s.NetNS == "..") {
		return fmt.Errorf("invalid network namespace name %q", s.NetNS)
	}
	switch s.Firmware {
	case "":
		s.Firmware = FirmwareBIOS
	case FirmwareBIOS, FirmwareUEFI:
	default:
		return fmt.Errorf("unknown firmware %q, want %q or %q", s.Firmware, FirmwareBIOS, FirmwareUEFI)
	}
	switch s.Accelerator {
	case "":
		s.Accelerator = AcceleratorTCG
	case AcceleratorTCG, AcceleratorKVM:
	default:
		return fmt.Errorf("unknown accelerator %q, want %q or %q", s.Accelerator, AcceleratorTCG, AcceleratorKVM)
	}
	return bmcDefaults(&s.BMC)
}

func bmcDefaults(b *BMCSpec) error {
	if b.Address == "" {
		b.Address = "127.0.0.1:0"
	}
	host, port, err := net.SplitHostPort(b.Address)
	if err != nil {
		return fmt.Errorf("BMC address: %w", err)
	}
	if host == "" {
		return fmt.Errorf("BMC address %q has no host", b.Address)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("BMC address %q: invalid port", b.Address)
	}
	if b.Username == "" {
		b.Username = "admin"
	}
	if b.Password == "" {
		return errors.New("no BMC password")
	}
	switch b.Type {
	case BMCRedfish:
	case BMCIPMI:
		return ipmiCredentialsValid(b.Username, b.Password)
	default:
		return fmt.Errorf("unknown BMC type %q, want %q or %q", b.Type, BMCRedfish, BMCIPMI)
	}
	return nil
}

// Spec returns the machine's spec, defaults filled in.
func (m *Machine) Spec() Spec { return m.spec }

// ConsoleLog is the file the serial console is appended to.
func (m *Machine) ConsoleLog() string { return m.path(consoleLogFile) }

// QMPSocket is QEMU's QMP socket while the machine is powered on.
func (m *Machine) QMPSocket() string { return m.path(qmpSocket) }

// BMCEndpoint is where the BMC listens while the machine is started: the
// base URL of the Redfish service, or host:port of the IPMI LAN channel.
func (m *Machine) BMCEndpoint() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.bmc == nil {
		return ""
	}
	return m.bmc.endpoint()
}

// BMCCredentials returns the BMC's user name and password.
func (m *Machine) BMCCredentials() (username, password string) {
	return m.spec.BMC.Username, m.spec.BMC.Password
}

// BootOverride returns the boot override set through the BMC.
func (m *Machine) BootOverride() BootOverride {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.boot
}

// SetBootOverride sets the boot override for the next power on, or every
// power on if persistent.
func (m *Machine) SetBootOverride(o BootOverride) {
	if !o.PXE {
		o = BootOverride{}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.boot = o
}

func (m *Machine) path(name string) string { return filepath.Join(m.spec.Dir, name) }

func (m *Machine) logger(ctx context.Context) klog.Logger {
	return klog.FromContext(ctx).WithValues("machine", m.spec.Name)
}

func (m *Machine) lock(ctx context.Context) error {
	select {
	case m.opLock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("machine %s: waiting for another operation: %w", m.spec.Name, ctx.Err())
	}
}

func (m *Machine) unlock() { <-m.opLock }

// Start prepares the machine's directory and starts its BMC. The machine
// is then powered off, unless its spec says to power it on.
func (m *Machine) Start(ctx context.Context) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.unlock()
	m.mu.Lock()
	started := m.bmc != nil
	m.mu.Unlock()
	if started {
		return fmt.Errorf("machine %s: already started", m.spec.Name)
	}
	if err := m.findPrograms(); err != nil {
		return fmt.Errorf("machine %s: %w", m.spec.Name, err)
	}
	if err := m.prepareDir(); err != nil {
		return fmt.Errorf("machine %s: %w", m.spec.Name, err)
	}

	var b bmc
	var err error
	switch m.spec.BMC.Type {
	case BMCRedfish:
		b, err = m.startRedfish(ctx)
	case BMCIPMI:
		b, err = m.startIPMI(ctx)
	}
	if err != nil {
		return fmt.Errorf("machine %s: starting the BMC: %w", m.spec.Name, err)
	}
	m.mu.Lock()
	m.bmc = b
	m.mu.Unlock()
	m.logger(ctx).Info("Started lab machine", "bmc", m.spec.BMC.Type, "endpoint", b.endpoint())

	if m.spec.PoweredOn {
		if err := m.powerOn(ctx); err != nil {
			m.mu.Lock()
			m.bmc = nil
			m.mu.Unlock()
			return errors.Join(fmt.Errorf("machine %s: %w", m.spec.Name, err), b.stop(ctx))
		}
	}
	return nil
}

// findPrograms finds QEMU, and ipmi_sim for an IPMI BMC, in PATH.
func (m *Machine) findPrograms() error {
	var err error
	if m.qemu, err = exec.LookPath("qemu-system-x86_64"); err != nil {
		return fmt.Errorf("%w (Debian: qemu-system-x86)", err)
	}
	if m.spec.BMC.Type == BMCIPMI {
		if m.ipmiSim, err = exec.LookPath("ipmi_sim"); err != nil {
			return fmt.Errorf("%w (Debian: openipmi)", err)
		}
	}
	return nil
}

// prepareDir creates the directory, the disk image and firmware files
// that are missing.
func (m *Machine) prepareDir() error {
	if err := os.MkdirAll(m.spec.Dir, 0o755); err != nil {
		return err
	}
	if m.spec.DiskBytes > 0 {
		// A sparse file: the disk takes space as the server writes to it.
		f, err := os.OpenFile(m.path(diskFile), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		switch {
		case errors.Is(err, os.ErrExist):
		case err != nil:
			return fmt.Errorf("creating the disk: %w", err)
		default:
			err = f.Truncate(m.spec.DiskBytes)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("creating the disk: %w", err)
			}
		}
	}
	switch m.spec.Firmware {
	case FirmwareUEFI:
		if _, err := os.Stat(ovmfCode); err != nil {
			return fmt.Errorf("UEFI firmware (Debian: ovmf): %w", err)
		}
		if _, err := os.Stat(m.path(uefiVarsFile)); errors.Is(err, os.ErrNotExist) {
			vars, err := os.ReadFile(ovmfVars)
			if err != nil {
				return fmt.Errorf("UEFI variables template (Debian: ovmf): %w", err)
			}
			if err := os.WriteFile(m.path(uefiVarsFile), vars, 0o644); err != nil {
				return err
			}
		}
	case FirmwareBIOS:
		// SeaBIOS reads the serial port to mirror its screen to as a
		// little-endian integer: COM1.
		if err := os.WriteFile(m.path(serconFile), []byte{0xf8, 0x03}, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Stop powers the machine off, stops its BMC and removes its sockets. The
// directory is kept. Stopping a stopped machine does nothing.
func (m *Machine) Stop(ctx context.Context) error {
	// The BMC stops first, without the lock: its requests in progress may
	// wait for it.
	m.mu.Lock()
	b := m.bmc
	m.bmc = nil
	m.mu.Unlock()
	var errs []error
	if b != nil {
		if err := b.stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping the BMC: %w", err))
		}
	}
	if err := m.lock(ctx); err != nil {
		// Whatever holds the lock, QEMU must not outlive Stop.
		if p := m.running(); p != nil {
			_ = p.cmd.Process.Kill()
		}
		return fmt.Errorf("machine %s: %w", m.spec.Name, errors.Join(append(errs, err)...))
	}
	defer m.unlock()
	if err := m.powerOff(ctx); err != nil {
		errs = append(errs, err)
	}
	for _, s := range sockets {
		if err := os.Remove(m.path(s)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if b != nil {
		m.logger(ctx).Info("Stopped lab machine")
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("machine %s: %w", m.spec.Name, err)
	}
	return nil
}
