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

package vmtest

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
)

// cpioWriter writes a cpio archive in the "newc" format the Linux kernel
// unpacks as an initramfs.
type cpioWriter struct {
	w   io.Writer
	ino uint32
	err error
}

const (
	modeDir     = 0o040000
	modeFile    = 0o100000
	modeSymlink = 0o120000
	modeCharDev = 0o020000
)

func (c *cpioWriter) entry(name string, mode uint32, data []byte, rdevMajor, rdevMinor uint32) {
	if c.err != nil {
		return
	}
	c.ino++
	nlink := uint32(1)
	if mode&0o170000 == modeDir {
		nlink = 2
	}
	var hdr bytes.Buffer
	fmt.Fprintf(&hdr, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdevMajor, rdevMinor, len(name)+1, 0)
	hdr.WriteString(name)
	hdr.WriteByte(0)
	for hdr.Len()%4 != 0 {
		hdr.WriteByte(0)
	}
	if _, c.err = c.w.Write(hdr.Bytes()); c.err != nil {
		return
	}
	if _, c.err = c.w.Write(data); c.err != nil {
		return
	}
	if n := len(data) % 4; n != 0 {
		_, c.err = c.w.Write(make([]byte, 4-n))
	}
}

func (c *cpioWriter) close() error {
	c.entry("TRAILER!!!", 0, nil, 0, 0)
	return c.err
}

// archive is an in-memory tree that is written as cpio with parent
// directories first.
type archive struct {
	dirs     map[string]bool
	files    map[string][]byte
	modes    map[string]uint32
	symlinks map[string]string
	chardevs map[string][2]uint32
}

func newArchive() *archive {
	return &archive{dirs: map[string]bool{}, files: map[string][]byte{}, modes: map[string]uint32{}, symlinks: map[string]string{}, chardevs: map[string][2]uint32{}}
}

func (a *archive) mkdirAll(p string) {
	p = strings.Trim(p, "/")
	for p != "" && p != "." {
		a.dirs[p] = true
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			break
		}
		p = p[:i]
	}
}

func parent(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

func (a *archive) file(p string, mode uint32, data []byte) {
	p = strings.Trim(p, "/")
	a.mkdirAll(parent(p))
	a.files[p] = data
	a.modes[p] = mode
}

func (a *archive) symlink(p, target string) {
	p = strings.Trim(p, "/")
	a.mkdirAll(parent(p))
	a.symlinks[p] = target
}

func (a *archive) chardev(p string, major, minor uint32) {
	p = strings.Trim(p, "/")
	a.mkdirAll(parent(p))
	a.chardevs[p] = [2]uint32{major, minor}
}

func (a *archive) write(w io.Writer) error {
	c := &cpioWriter{w: w}
	dirs := make([]string, 0, len(a.dirs))
	for d := range a.dirs {
		dirs = append(dirs, d)
	}
	// Sorting puts every directory after its parent.
	sort.Strings(dirs)
	for _, d := range dirs {
		c.entry(d, modeDir|0o755, nil, 0, 0)
	}
	for _, p := range sortedKeys(a.files) {
		c.entry(p, modeFile|a.modes[p], a.files[p], 0, 0)
	}
	for _, p := range sortedKeys(a.symlinks) {
		c.entry(p, modeSymlink|0o777, []byte(a.symlinks[p]), 0, 0)
	}
	for _, p := range sortedKeys(a.chardevs) {
		d := a.chardevs[p]
		c.entry(p, modeCharDev|0o600, nil, d[0], d[1])
	}
	return c.close()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
