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

// Package initramfs builds the initramfs that bare-metal servers boot into
// the inventory agent: a newc cpio archive whose /init is a static binary
// (arcturus itself), with the kernel modules the agent needs to see disks
// and network interfaces. It also provides the archive writer and module
// resolver for tests that boot their own guests.
package initramfs

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// DefaultModules are the drivers of the disks and network interfaces
// commonly found in servers and virtual machines. Build includes those the
// kernel has as modules, with their dependencies.
var DefaultModules = []string{
	// Virtual machines; virtio_rng is an entropy source for those whose
	// CPU lacks one.
	"virtio_pci", "virtio_blk", "virtio_scsi", "virtio_net", "virtio_rng", "vmxnet3",
	// Disks and their controllers.
	"sd_mod", "nvme", "ahci", "ata_piix", "mpt3sas", "megaraid_sas", "hpsa", "smartpqi", "aacraid",
	// Network interfaces.
	"e1000", "e1000e", "igb", "igc", "ixgbe", "i40e", "ice", "bnxt_en", "bnx2x", "tg3", "r8169",
	"mlx4_en", "mlx5_core", "qede", "sfc",
}

// Spec is what goes into an initramfs.
type Spec struct {
	// Init is the path of the binary the kernel runs as /init. It must be
	// statically linked: the initramfs has no C library.
	Init string
	// KernelVersion is the release of the kernel that boots the initramfs,
	// as in /lib/modules/<version>.
	KernelVersion string
	// ModulesDir is that kernel's modules directory; /lib/modules/<KernelVersion>
	// when empty.
	ModulesDir string
	// Modules are the names of the modules to include, with their
	// dependencies; DefaultModules when nil. Names the kernel lacks are
	// skipped.
	Modules []string
	// Files are extra files, by path in the initramfs. They are added
	// last, so they replace anything else at their path.
	Files map[string]File
	// Gzip compresses the archive, which every kernel that boots an
	// initramfs can unpack: arcturus's takes 40% of the bytes to send over
	// the network, for a few seconds of building.
	Gzip bool
}

// File is an extra file of a Spec.
type File struct {
	Data []byte
	Mode fs.FileMode
}

// Build writes the initramfs of spec to w: /init, the directories the init
// mounts file systems on, /dev/console (the kernel opens it for /init before
// anything mounts devtmpfs), the modules under ModulesDir and their
// LoadOrder, and spec.Files.
func Build(w io.Writer, spec Spec) error {
	if err := CheckStatic(spec.Init); err != nil {
		return err
	}
	init, err := os.ReadFile(spec.Init)
	if err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	dir := spec.ModulesDir
	if dir == "" {
		if spec.KernelVersion == "" {
			return errors.New("initramfs: neither a kernel version nor a modules directory")
		}
		dir = filepath.Join("/lib/modules", spec.KernelVersion)
	}
	names := spec.Modules
	if names == nil {
		names = DefaultModules
	}
	order, _, err := ResolveModules(dir, names)
	if err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}

	a := NewArchive()
	for _, d := range []string{"dev", "proc", "sys", "run", "tmp", "etc", "root"} {
		a.Dir(d)
	}
	a.CharDev("dev/console", 5, 1)
	a.File("init", 0o755, init)
	if err := a.AddModules(dir, order); err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	for p, f := range spec.Files {
		a.File(p, f.Mode, f.Data)
	}

	if !spec.Gzip {
		return a.Write(w)
	}
	zw := gzip.NewWriter(w)
	if err := a.Write(zw); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	return nil
}

// CheckStatic returns an error unless file is an ELF executable that needs
// no dynamic loader or shared library.
func CheckStatic(file string) error {
	f, err := elf.Open(file)
	if err != nil {
		return fmt.Errorf("initramfs: %s is not an ELF executable: %w", file, err)
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("initramfs: %s is an ELF %s, not an executable", file, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("initramfs: %s is dynamically linked (it asks for a program interpreter); build it with CGO_ENABLED=0", file)
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return fmt.Errorf("initramfs: %s: %w", file, err)
	}
	if len(libs) > 0 {
		return fmt.Errorf("initramfs: %s needs shared libraries %s; build it with CGO_ENABLED=0", file, strings.Join(libs, ", "))
	}
	return nil
}

// Kernel is an installed kernel whose modules are installed too.
type Kernel struct {
	// Path is the kernel image, such as /boot/vmlinuz-6.1.0-28-amd64.
	Path string
	// Version is its release, as in /lib/modules/<version>.
	Version string
}

// FindKernel returns the newest readable /boot/vmlinuz-* whose modules are
// in /lib/modules.
func FindKernel() (Kernel, error) {
	return findKernel("/boot", "/lib/modules")
}

func findKernel(boot, modules string) (Kernel, error) {
	matches, err := filepath.Glob(filepath.Join(boot, "vmlinuz-*"))
	if err != nil {
		return Kernel{}, err
	}
	var found []Kernel
	for _, m := range matches {
		k := Kernel{Path: m, Version: strings.TrimPrefix(filepath.Base(m), "vmlinuz-")}
		if _, err := os.Stat(filepath.Join(modules, k.Version, "modules.dep")); err != nil {
			continue
		}
		// Some distributions make kernel images readable by root only.
		f, err := os.Open(m)
		if err != nil {
			continue
		}
		f.Close()
		found = append(found, k)
	}
	if len(found) == 0 {
		return Kernel{}, fmt.Errorf("no readable kernel in %s with modules in %s", boot, modules)
	}
	return slices.MaxFunc(found, func(a, b Kernel) int { return compareVersions(a.Version, b.Version) }), nil
}

// compareVersions orders kernel releases by their numbers, so that
// 6.1.0-10 comes after 6.1.0-9.
func compareVersions(a, b string) int {
	for a != "" && b != "" {
		na, ra := splitRun(a)
		nb, rb := splitRun(b)
		if isDigit(na[0]) && isDigit(nb[0]) {
			na, nb = strings.TrimLeft(na, "0"), strings.TrimLeft(nb, "0")
			if c := len(na) - len(nb); c != 0 {
				return c
			}
		}
		if c := strings.Compare(na, nb); c != 0 {
			return c
		}
		a, b = ra, rb
	}
	return len(a) - len(b)
}

// splitRun splits s after its leading run of digits or of non-digits.
func splitRun(s string) (run, rest string) {
	i := 1
	for i < len(s) && isDigit(s[i]) == isDigit(s[0]) {
		i++
	}
	return s[:i], s[i:]
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
