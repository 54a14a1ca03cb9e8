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

package bench

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// initMarker starts the line the bench's guest /init prints on the serial
// console, followed by the guest's uptime in seconds.
const initMarker = "arcturus-bench-init uptime="

// benchInit is the guest's /init: it reports the uptime at which user space
// started and then idles.
const benchInit = `#!/bin/sh
/bin/busybox mount -t proc proc /proc
echo "` + initMarker + `$(/bin/busybox cut -d' ' -f1 /proc/uptime)"
while :; do /bin/busybox sleep 3600; done
`

// cpioEntry is one file of a cpio archive in the "newc" format that Linux
// unpacks as an initramfs.
type cpioEntry struct {
	name  string
	mode  uint32 // type and permission bits
	data  []byte
	major uint32 // of a device node
	minor uint32
}

const (
	cpioDir     = 0o040000
	cpioFile    = 0o100000
	cpioSymlink = 0o120000
	cpioCharDev = 0o020000
)

// writeCpio writes entries, parents first, and the trailer.
func writeCpio(w io.Writer, entries []cpioEntry) error {
	var buf bytes.Buffer
	pad := func() {
		for buf.Len()%4 != 0 {
			buf.WriteByte(0)
		}
	}
	for i, e := range append(slices.Clone(entries), cpioEntry{name: "TRAILER!!!"}) {
		nlink := 1
		if e.mode&0o170000 == cpioDir {
			nlink = 2
		}
		// magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
		// devminor, rdevmajor, rdevminor, namesize, check
		fmt.Fprintf(&buf, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			i+1, e.mode, 0, 0, nlink, 0, len(e.data), 0, 0, e.major, e.minor, len(e.name)+1, 0)
		buf.WriteString(e.name)
		buf.WriteByte(0)
		pad()
		buf.Write(e.data)
		pad()
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// writeInitramfs writes an initramfs holding the static busybox at
// busybox and benchInit as /init into path.
func writeInitramfs(path, busybox string) error {
	if err := checkStatic(busybox); err != nil {
		return err
	}
	data, err := os.ReadFile(busybox)
	if err != nil {
		return fmt.Errorf("reading busybox: %w", err)
	}
	entries := []cpioEntry{
		{name: "bin", mode: cpioDir | 0o755},
		{name: "dev", mode: cpioDir | 0o755},
		{name: "proc", mode: cpioDir | 0o755},
		{name: "bin/busybox", mode: cpioFile | 0o755, data: data},
		{name: "bin/sh", mode: cpioSymlink | 0o777, data: []byte("busybox")},
		// The kernel opens /dev/console for /init.
		{name: "dev/console", mode: cpioCharDev | 0o600, major: 5, minor: 1},
		{name: "init", mode: cpioFile | 0o755, data: []byte(benchInit)},
	}
	var buf bytes.Buffer
	if err := writeCpio(&buf, entries); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// checkStatic fails unless path is a statically linked executable, which
// runs in an initramfs without a C library.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("busybox %s: %w (Debian: busybox-static)", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("busybox %s is dynamically linked; the VMs need a static one (Debian: busybox-static)", path)
		}
	}
	return nil
}

// newestKernel is the newest readable /boot/vmlinuz-*.
func newestKernel() (string, error) {
	matches, _ := filepath.Glob("/boot/vmlinuz-*")
	slices.SortFunc(matches, func(a, b string) int { return strings.Compare(b, a) })
	for _, m := range matches {
		if f, err := os.Open(m); err == nil {
			f.Close()
			return m, nil
		}
	}
	return "", errors.New("no readable /boot/vmlinuz-* (Debian: linux-image-amd64); give --vm-kernel")
}
