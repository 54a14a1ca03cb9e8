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
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"k8s.io/klog/v2"
)

// The probe boots a tiny firmware under KVM that counts down probeLoops
// times and then asks QEMU to exit. On a working KVM that takes
// milliseconds; where /dev/kvm exists but is unusable it fails or hangs,
// and where it only works by trapping nearly every instruction (seen with
// some nested setups, where a kernel then takes minutes to boot) it takes
// seconds, slower than TCG. Either way it misses probeTimeout and VMs use
// TCG.
const (
	probeLoops   = 10_000_000
	probeTimeout = 3 * time.Second
	// probeExitValue is written to isa-debug-exit; QEMU exits with
	// (value << 1) | 1.
	probeExitValue = 0x2a
	probeExitCode  = probeExitValue<<1 | 1
)

// probeCache keeps the probe result per QEMU binary for the life of the
// process: the answer does not change, and probing costs up to
// probeTimeout.
var probeCache = struct {
	sync.Mutex
	result map[string]string
}{result: map[string]string{}}

// probeAccelerator returns "kvm" if KVM really runs guest code at native
// speed with qemu, else "tcg".
func probeAccelerator(log klog.Logger, qemu string) string {
	probeCache.Lock()
	defer probeCache.Unlock()
	if a, ok := probeCache.result[qemu]; ok {
		return a
	}
	start := time.Now()
	err := probeKVM(qemu)
	accel := AcceleratorKVM
	if err != nil {
		accel = AcceleratorTCG
		log.Info("KVM is not usable, VMs run under TCG emulation", "reason", err.Error(), "took", time.Since(start))
	} else {
		log.Info("KVM works, VMs run with hardware acceleration", "took", time.Since(start))
	}
	if qemu != "" {
		probeCache.result[qemu] = accel
	}
	return accel
}

func probeKVM(qemu string) error {
	if qemu == "" {
		return errors.New("QEMU not found")
	}
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return err
	}
	f.Close()

	dir, err := os.MkdirTemp("", "arcturus-kvm-probe-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fw := filepath.Join(dir, "probe.bin")
	if err := os.WriteFile(fw, probeFirmware(), 0o600); err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemu,
		"-machine", "q35", "-accel", "kvm", "-cpu", "host", "-m", "16",
		"-nodefaults", "-no-user-config", "-display", "none",
		"-bios", fw,
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	if ctx.Err() != nil {
		return errors.New("a test guest under KVM did not finish in time; KVM is missing hardware support or too slow")
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == probeExitCode {
		return nil
	}
	if msg := bytes.TrimSpace(stderr.Bytes()); len(msg) > 0 {
		return errors.New(string(msg))
	}
	if err != nil {
		return err
	}
	return errors.New("the test guest under KVM did not report back")
}

// probeFirmware is a 64 KiB BIOS image. The CPU starts in real mode at
// F000:FFF0, which jumps to F000:FF00:
//
//	mov ecx, probeLoops
//	loop: dec ecx
//	jnz loop
//	mov al, probeExitValue
//	out 0xf4, al          ; isa-debug-exit
//	hlt
//	jmp $-1
func probeFirmware() []byte {
	img := bytes.Repeat([]byte{0xf4}, 64<<10) // hlt everywhere else
	code := []byte{0x66, 0xB9, 0, 0, 0, 0, 0x66, 0x49, 0x75, 0xFC, 0xB0, probeExitValue, 0xE6, 0xF4, 0xF4, 0xEB, 0xFD}
	binary.LittleEndian.PutUint32(code[2:6], probeLoops)
	copy(img[0xFF00:], code)
	copy(img[0xFFF0:], []byte{0xE9, 0x0D, 0xFF}) // jmp near 0xFF00
	return img
}
