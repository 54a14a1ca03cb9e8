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
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path"
	"slices"
)

// Mode bits of newc entries, as in stat(2).
const (
	modeDir     = 0o040000
	modeFile    = 0o100000
	modeSymlink = 0o120000
	modeCharDev = 0o020000
	modeType    = 0o170000
)

// Archive is an in-memory file tree that Write turns into a cpio archive
// in the "newc" format, the one the Linux kernel unpacks as an initramfs.
// Paths are relative to the archive's root ("init", "dev/console"); parent
// directories are added as needed. Adding a path again replaces it.
type Archive struct {
	entries map[string]*entry
	err     error
}

type entry struct {
	mode         uint32
	data         []byte
	major, minor uint32
}

// NewArchive returns an empty archive.
func NewArchive() *Archive {
	return &Archive{entries: map[string]*entry{}}
}

// Dir adds a directory and its parents.
func (a *Archive) Dir(p string) {
	if p = a.clean(p); p != "" {
		a.add(p, &entry{mode: modeDir | 0o755})
	}
}

// File adds a regular file.
func (a *Archive) File(p string, perm fs.FileMode, data []byte) {
	if p = a.clean(p); p != "" {
		a.add(p, &entry{mode: modeFile | uint32(perm.Perm()), data: data})
	}
}

// Symlink adds a symbolic link to target.
func (a *Archive) Symlink(p, target string) {
	if p = a.clean(p); p != "" {
		a.add(p, &entry{mode: modeSymlink | 0o777, data: []byte(target)})
	}
}

// CharDev adds a character device node.
func (a *Archive) CharDev(p string, major, minor uint32) {
	if p = a.clean(p); p != "" {
		a.add(p, &entry{mode: modeCharDev | 0o600, major: major, minor: minor})
	}
}

// clean makes p relative to the root, or records an error and returns ""
// for a path outside it or for the root itself.
func (a *Archive) clean(p string) string {
	c := path.Clean("/" + p)[1:]
	if c == "" {
		a.fail(fmt.Errorf("initramfs: invalid path %q", p))
	}
	return c
}

func (a *Archive) fail(err error) {
	if a.err == nil {
		a.err = err
	}
}

func (a *Archive) add(p string, e *entry) {
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		if _, ok := a.entries[d]; !ok {
			a.entries[d] = &entry{mode: modeDir | 0o755}
		}
	}
	a.entries[p] = e
}

// Write writes the archive. Entries are sorted by path, which puts every
// directory before its contents, and carry no owner or time, so the same
// tree always gives the same bytes.
func (a *Archive) Write(w io.Writer) error {
	if a.err != nil {
		return a.err
	}
	paths := make([]string, 0, len(a.entries))
	for p := range a.entries {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	cw := &cpioWriter{w: w}
	for _, p := range paths {
		// A path added as a file may have replaced a directory.
		if d := path.Dir(p); d != "." && a.entries[d].mode&modeType != modeDir {
			return fmt.Errorf("initramfs: %s: %s is not a directory", p, d)
		}
		if err := cw.entry(p, a.entries[p]); err != nil {
			return err
		}
	}
	return cw.entry("TRAILER!!!", &entry{})
}

type cpioWriter struct {
	w   io.Writer
	ino uint32
}

var errTooLarge = errors.New("larger than the 4 GiB a newc archive can hold")

func (c *cpioWriter) entry(name string, e *entry) error {
	if len(e.data) > math.MaxUint32 {
		return fmt.Errorf("initramfs: %s: %w", name, errTooLarge)
	}
	c.ino++
	nlink := 1
	if e.mode&modeType == modeDir {
		nlink = 2
	}
	// The header is 13 eight-digit hex fields after the magic: ino, mode,
	// uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor,
	// rdevminor, namesize, check. Name and data are padded to 4 bytes.
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, e.mode, 0, 0, nlink, 0, len(e.data), 0, 0, e.major, e.minor, len(name)+1, 0)
	buf := make([]byte, 0, len(hdr)+len(name)+4)
	buf = append(buf, hdr...)
	buf = append(buf, name...)
	buf = append(buf, 0)
	buf = append(buf, make([]byte, pad4(len(buf)))...)
	if _, err := c.w.Write(buf); err != nil {
		return fmt.Errorf("initramfs: writing %s: %w", name, err)
	}
	if _, err := c.w.Write(e.data); err != nil {
		return fmt.Errorf("initramfs: writing %s: %w", name, err)
	}
	if n := pad4(len(e.data)); n > 0 {
		if _, err := c.w.Write(make([]byte, n)); err != nil {
			return fmt.Errorf("initramfs: writing %s: %w", name, err)
		}
	}
	return nil
}

func pad4(n int) int {
	return (4 - n%4) % 4
}
