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

package initramfs

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// cpioEntry is one entry of a newc archive, as readCPIO parses it.
type cpioEntry struct {
	name         string
	mode         uint32
	data         []byte
	major, minor uint32
}

// readCPIO parses a newc archive up to its trailer, independently of the
// writer.
func readCPIO(t *testing.T, b []byte) []cpioEntry {
	t.Helper()
	var entries []cpioEntry
	field := func(hdr []byte, i int) uint32 {
		v, err := strconv.ParseUint(string(hdr[6+8*i:14+8*i]), 16, 32)
		if err != nil {
			t.Fatalf("header field %d: %v", i, err)
		}
		return uint32(v)
	}
	align := func(n int) int { return (n + 3) &^ 3 }
	for off := 0; ; {
		if len(b)-off < 110 || string(b[off:off+6]) != "070701" {
			t.Fatalf("no newc header at offset %d", off)
		}
		hdr := b[off : off+110]
		namesize, filesize := int(field(hdr, 11)), int(field(hdr, 6))
		name := string(b[off+110 : off+110+namesize-1])
		off = align(off + 110 + namesize)
		data := b[off : off+filesize]
		off = align(off + filesize)
		if name == "TRAILER!!!" {
			if off != len(b) {
				t.Errorf("%d bytes after the trailer", len(b)-off)
			}
			return entries
		}
		entries = append(entries, cpioEntry{name: name, mode: field(hdr, 1), data: data, major: field(hdr, 9), minor: field(hdr, 10)})
	}
}

func find(entries []cpioEntry, name string) (cpioEntry, bool) {
	i := slices.IndexFunc(entries, func(e cpioEntry) bool { return e.name == name })
	if i < 0 {
		return cpioEntry{}, false
	}
	return entries[i], true
}

func TestArchive(t *testing.T) {
	a := NewArchive()
	a.File("/bin/tool", 0o755, []byte("abcde"))
	a.Symlink("bin/sh", "tool")
	a.CharDev("dev/console", 5, 1)
	a.Dir("proc")
	a.Dir("bin")
	a.File("etc/motd", 0o644, []byte("old"))
	a.File("etc/motd", 0o600, []byte("new"))
	var buf bytes.Buffer
	if err := a.Write(&buf); err != nil {
		t.Fatal(err)
	}
	entries := readCPIO(t, buf.Bytes())
	var names []string
	for _, e := range entries {
		names = append(names, e.name)
	}
	want := []string{"bin", "bin/sh", "bin/tool", "dev", "dev/console", "etc", "etc/motd", "proc"}
	if !slices.Equal(names, want) {
		t.Fatalf("entries %v, want %v", names, want)
	}
	for _, c := range []struct {
		name string
		mode uint32
		data string
	}{
		{"bin", modeDir | 0o755, ""},
		{"bin/tool", modeFile | 0o755, "abcde"},
		{"bin/sh", modeSymlink | 0o777, "tool"},
		{"dev/console", modeCharDev | 0o600, ""},
		{"etc/motd", modeFile | 0o600, "new"},
	} {
		e, _ := find(entries, c.name)
		if e.mode != c.mode || string(e.data) != c.data {
			t.Errorf("%s: mode %o data %q, want %o %q", c.name, e.mode, e.data, c.mode, c.data)
		}
	}
	if e, _ := find(entries, "dev/console"); e.major != 5 || e.minor != 1 {
		t.Errorf("dev/console is %d:%d", e.major, e.minor)
	}

	// GNU cpio, when installed, reads it too.
	if _, err := exec.LookPath("cpio"); err == nil {
		cmd := exec.Command("cpio", "-it", "--quiet")
		cmd.Stdin = bytes.NewReader(buf.Bytes())
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("cpio -t: %v", err)
		}
		if got := strings.Fields(string(out)); !slices.Equal(got, want) {
			t.Errorf("cpio -t lists %v, want %v", got, want)
		}
	}
}

func TestArchiveErrors(t *testing.T) {
	for name, add := range map[string]func(a *Archive){
		"root":           func(a *Archive) { a.File("/", 0o644, nil) },
		"empty":          func(a *Archive) { a.Dir("") },
		"file as parent": func(a *Archive) { a.Dir("etc/x"); a.File("etc", 0o644, nil) },
	} {
		a := NewArchive()
		add(a)
		if err := a.Write(io.Discard); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// Paths cannot leave the root.
	a := NewArchive()
	a.File("../../etc/passwd", 0o644, nil)
	var buf bytes.Buffer
	if err := a.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if _, ok := find(readCPIO(t, buf.Bytes()), "etc/passwd"); !ok {
		t.Error("../../etc/passwd not cleaned to etc/passwd")
	}
}

// fakeModules writes a modules directory: modules.dep, modules.builtin and
// modules whose contents are their uncompressed names.
func fakeModules(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	dep := `kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/net/virtio_net.ko.xz: kernel/net/core/net_failover.ko.zst kernel/net/core/failover.ko.gz kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/net/core/net_failover.ko.zst: kernel/net/core/failover.ko.gz
kernel/net/core/failover.ko.gz:
kernel/drivers/scsi/scsi-mod.ko:
kernel/drivers/scsi/sd_mod.ko: kernel/drivers/scsi/scsi-mod.ko
kernel/lib/libcrc32c.ko:
kernel/crypto/crc32c_generic.ko:
kernel/arch/x86/crypto/crc32c-intel.ko:
`
	files := map[string]string{
		"modules.dep":     dep,
		"modules.builtin": "kernel/drivers/block/virtio_blk.ko\nkernel/drivers/nvme/host/nvme-core.ko\n",
		"modules.alias":   "alias crc32c crc32c_generic\nalias crc32c crc32c-intel\nalias pci:v00008086d*sv*sd*bc*sc*i* e1000e\n",
		"modules.softdep": "# Soft dependencies extracted from modules themselves.\nsoftdep libcrc32c pre: crc32c\nsoftdep sd_mod post: crc32c\n",
	}
	for _, l := range strings.Split(strings.TrimSpace(dep), "\n") {
		p, _, _ := strings.Cut(l, ":")
		files[p] = compress(t, p, strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(p, ".xz"), ".zst"), ".gz"))
	}
	for p, data := range files {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// compress returns data compressed as the extension of name says.
func compress(t *testing.T, name, data string) string {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	var err error
	switch filepath.Ext(name) {
	case ".ko":
		return data
	case ".xz":
		w, err = xz.NewWriter(&buf)
	case ".zst":
		w, err = zstd.NewWriter(&buf)
	case ".gz":
		w = gzip.NewWriter(&buf)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestResolveModules(t *testing.T) {
	dir := fakeModules(t)
	order, missing, err := ResolveModules(dir, []string{"virtio-net", "virtio_blk", "sd_mod", "virtio", "nvme_core", "bnxt_en", "libcrc32c"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"kernel/net/core/failover.ko.gz",
		"kernel/net/core/net_failover.ko.zst",
		"kernel/drivers/virtio/virtio_ring.ko",
		"kernel/drivers/virtio/virtio.ko",
		"kernel/drivers/net/virtio_net.ko.xz",
		"kernel/drivers/scsi/scsi-mod.ko",
		"kernel/drivers/scsi/sd_mod.ko",
		// sd_mod's post soft dependency, an alias of two modules.
		"kernel/crypto/crc32c_generic.ko",
		"kernel/arch/x86/crypto/crc32c-intel.ko",
		// Its pre soft dependency is there already.
		"kernel/lib/libcrc32c.ko",
	}
	if !slices.Equal(order, want) {
		t.Errorf("order\n%v, want\n%v", order, want)
	}
	if !slices.Equal(missing, []string{"bnxt_en"}) {
		t.Errorf("missing %v, want [bnxt_en]", missing)
	}
	if _, _, err := ResolveModules(t.TempDir(), []string{"x"}); err == nil {
		t.Error("no error without modules.dep")
	}
}

// TestResolveHostModules checks the order against the modules.dep of the
// newest installed kernel: every module after all of its dependencies.
func TestResolveHostModules(t *testing.T) {
	k, err := FindKernel()
	if err != nil {
		t.Skip(err)
	}
	dir := filepath.Join("/lib/modules", k.Version)
	order, missing, err := ResolveModules(dir, DefaultModules)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kernel %s: %d modules, not available: %v", k.Version, len(order), missing)
	deps, err := readModulesDep(filepath.Join(dir, "modules.dep"))
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range order {
		for _, d := range deps[m] {
			if j := slices.Index(order, d); j < 0 || j > i {
				t.Errorf("%s loads before its dependency %s", m, d)
			}
		}
	}
}

func TestFindKernel(t *testing.T) {
	boot, modules := t.TempDir(), t.TempDir()
	for _, v := range []string{"6.1.0-9-amd64", "6.1.0-10-amd64", "6.12.0-1-amd64", "5.10.0-30-amd64"} {
		if err := os.WriteFile(filepath.Join(boot, "vmlinuz-"+v), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if v == "6.12.0-1-amd64" {
			continue // no modules
		}
		if err := os.MkdirAll(filepath.Join(modules, v), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(modules, v, "modules.dep"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	k, err := findKernel(boot, modules)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Kernel{Path: filepath.Join(boot, "vmlinuz-6.1.0-10-amd64"), Version: "6.1.0-10-amd64"}); k != want {
		t.Errorf("found %+v, want %+v", k, want)
	}
	if _, err := findKernel(t.TempDir(), modules); err == nil {
		t.Error("no error without kernels")
	}
}

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"6.1.0-10-amd64", "6.1.0-9-amd64", 1},
		{"6.1.0-9-amd64", "6.1.0-10-amd64", -1},
		{"6.1.0-9-amd64", "6.1.0-9-amd64", 0},
		{"6.10.0", "6.9.0", 1},
		{"6.1.0", "6.1.0-1", -1},
		{"5.10.0-030-amd64", "5.10.0-29-amd64", 1},
	} {
		if got := compareVersions(c.a, c.b); (got > 0) != (c.want > 0) || (got < 0) != (c.want < 0) {
			t.Errorf("compareVersions(%q, %q) = %d, want sign of %d", c.a, c.b, got, c.want)
		}
	}
}

// staticBinary builds a program that does nothing, statically linked.
func staticBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/init\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goTool, "build", "-o", "init", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return filepath.Join(dir, "init")
}

func TestBuild(t *testing.T) {
	init := staticBinary(t)
	want, err := os.ReadFile(init)
	if err != nil {
		t.Fatal(err)
	}
	dir := fakeModules(t)
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			var buf bytes.Buffer
			err := Build(&buf, Spec{
				Init:       init,
				ModulesDir: dir,
				Modules:    []string{"virtio_net", "bnxt_en"},
				Files:      map[string]File{"etc/hostname": {Data: []byte("agent\n"), Mode: 0o644}},
				Gzip:       gz,
			})
			if err != nil {
				t.Fatal(err)
			}
			data := buf.Bytes()
			if gz {
				zr, err := gzip.NewReader(&buf)
				if err != nil {
					t.Fatal(err)
				}
				if data, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			entries := readCPIO(t, data)
			if e, ok := find(entries, "init"); !ok || e.mode != modeFile|0o755 || !bytes.Equal(e.data, want) {
				t.Errorf("init missing or wrong (mode %o, %d bytes)", e.mode, len(e.data))
			}
			if e, ok := find(entries, "dev/console"); !ok || e.mode&modeType != modeCharDev || e.major != 5 || e.minor != 1 {
				t.Errorf("dev/console missing or wrong: %+v", e)
			}
			for _, d := range []string{"proc", "sys", "run", "tmp"} {
				if e, ok := find(entries, d); !ok || e.mode&modeType != modeDir {
					t.Errorf("directory %s missing", d)
				}
			}
			if e, _ := find(entries, "etc/hostname"); string(e.data) != "agent\n" {
				t.Errorf("etc/hostname is %q", e.data)
			}
			order, _ := find(entries, LoadOrder)
			wantOrder := "kernel/net/core/failover.ko\nkernel/net/core/net_failover.ko\nkernel/drivers/virtio/virtio_ring.ko\nkernel/drivers/virtio/virtio.ko\nkernel/drivers/net/virtio_net.ko\n"
			if string(order.data) != wantOrder {
				t.Errorf("load order\n%s\nwant\n%s", order.data, wantOrder)
			}
			// Each module is there, decompressed.
			for _, m := range strings.Fields(wantOrder) {
				if e, _ := find(entries, ModulesDir+"/"+m); string(e.data) != m {
					t.Errorf("module %s holds %q", m, e.data)
				}
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	dir := fakeModules(t)
	text := filepath.Join(t.TempDir(), "init.sh")
	if err := os.WriteFile(text, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Build(io.Discard, Spec{Init: text, ModulesDir: dir}); err == nil || !strings.Contains(err.Error(), "not an ELF") {
		t.Errorf("script as init: %v", err)
	}
	if err := Build(io.Discard, Spec{Init: staticBinary(t)}); err == nil {
		t.Error("no error without a kernel version")
	}

	// A dynamically linked system binary, where there is one.
	for _, p := range []string{"/bin/true", "/usr/bin/true"} {
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		dynamic := slices.ContainsFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP })
		f.Close()
		if !dynamic {
			continue
		}
		if err := Build(io.Discard, Spec{Init: p, ModulesDir: dir}); err == nil || !strings.Contains(err.Error(), "dynamically linked") {
			t.Errorf("%s as init: %v", p, err)
		}
		return
	}
	t.Log("no dynamically linked /bin/true to try")
}
