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

// Package iso9660 writes small ISO 9660 volumes whose files all sit in the
// root directory, with Rock Ridge names so that Linux sees them exactly as
// given ("meta-data", not "META_DAT.;1"). That is all a cloud-init NoCloud
// seed needs, without depending on genisoimage or xorriso on the node.
package iso9660

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

const sectorSize = 2048

// File is one regular file of the volume.
type File struct {
	// Name is the file's name in the root directory: at most 255 bytes,
	// without slashes.
	Name string
	Data []byte
}

// Write writes a volume labelled label (at most 32 characters) holding
// files to w. modTime stamps the volume and its files; the zero time means
// now.
func Write(w io.Writer, label string, files []File, modTime time.Time) error {
	if len(label) > 32 {
		return fmt.Errorf("iso9660: label %q is longer than 32 bytes", label)
	}
	if modTime.IsZero() {
		modTime = time.Now()
	}
	modTime = modTime.UTC()
	seen := map[string]bool{}
	for _, f := range files {
		if f.Name == "" || f.Name == "." || f.Name == ".." || strings.ContainsAny(f.Name, "/\x00") || len(f.Name) > 255 {
			return fmt.Errorf("iso9660: invalid file name %q", f.Name)
		}
		if seen[f.Name] {
			return fmt.Errorf("iso9660: duplicate file name %q", f.Name)
		}
		seen[f.Name] = true
	}
	primary := primaryNames(files)

	// Layout: 16 system sectors, the primary volume descriptor, the set
	// terminator, the two path tables, the root directory, then the files.
	const (
		pvdSector     = 16
		lPathSector   = 18
		mPathSector   = 19
		rootDirSector = 20
	)

	// The root directory's size depends on its records, and the records
	// hold the files' locations, so lay it out once with placeholder
	// locations to learn its size.
	rootSectors := 1
	var dir []byte
	for {
		loc := uint32(rootDirSector + rootSectors)
		var records [][]byte
		records = append(records, dirRecord([]byte{0}, rootDirSector, uint32(rootSectors*sectorSize), true, modTime, rootSU()))
		records = append(records, dirRecord([]byte{1}, rootDirSector, uint32(rootSectors*sectorSize), true, modTime, dirSU()))
		for i, f := range files {
			records = append(records, dirRecord([]byte(primary[i]), loc, uint32(len(f.Data)), false, modTime, fileSU(f.Name)))
			loc += uint32(sectors(len(f.Data)))
		}
		dir = packRecords(records)
		if len(dir) <= rootSectors*sectorSize {
			break
		}
		rootSectors = sectors(len(dir))
	}
	dir = pad(dir, rootSectors*sectorSize)

	total := rootDirSector + rootSectors
	for _, f := range files {
		total += sectors(len(f.Data))
	}

	// Path tables: a single entry for the root directory.
	lPath := pathTable(rootDirSector, binary.LittleEndian)
	mPath := pathTable(rootDirSector, binary.BigEndian)

	pvd := make([]byte, sectorSize)
	pvd[0] = 1
	copy(pvd[1:6], "CD001")
	pvd[6] = 1
	copy(pvd[8:40], padString("LINUX", 32))
	copy(pvd[40:72], padString(label, 32))
	putBoth32(pvd[80:88], uint32(total))
	putBoth16(pvd[120:124], 1)
	putBoth16(pvd[124:128], 1)
	putBoth16(pvd[128:132], sectorSize)
	putBoth32(pvd[132:140], uint32(len(lPath)))
	binary.LittleEndian.PutUint32(pvd[140:144], lPathSector)
	binary.BigEndian.PutUint32(pvd[148:152], mPathSector)
	copy(pvd[156:190], dirRecord([]byte{0}, rootDirSector, uint32(rootSectors*sectorSize), true, modTime, nil))
	copy(pvd[190:318], padString("", 128))
	copy(pvd[318:446], padString("", 128))
	copy(pvd[446:574], padString("", 128))
	copy(pvd[574:702], padString("ARCTURUS", 128))
	copy(pvd[702:813], padString("", 111))
	copy(pvd[813:830], decDate(modTime))
	copy(pvd[830:847], decDate(modTime))
	copy(pvd[847:864], decDate(time.Time{}))
	copy(pvd[864:881], decDate(time.Time{}))
	pvd[881] = 1

	term := make([]byte, sectorSize)
	term[0] = 255
	copy(term[1:6], "CD001")
	term[6] = 1

	var buf bytes.Buffer
	buf.Write(make([]byte, pvdSector*sectorSize))
	buf.Write(pvd)
	buf.Write(term)
	buf.Write(pad(lPath, sectorSize))
	buf.Write(pad(mPath, sectorSize))
	buf.Write(dir)
	for _, f := range files {
		buf.Write(pad(f.Data, sectors(len(f.Data))*sectorSize))
	}
	if buf.Len() != total*sectorSize {
		return errors.New("iso9660: internal error: layout size mismatch")
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func sectors(n int) int { return (n + sectorSize - 1) / sectorSize }

func pad(b []byte, n int) []byte {
	if len(b) >= n {
		return b
	}
	return append(b[:len(b):len(b)], make([]byte, n-len(b))...)
}

func padString(s string, n int) []byte {
	return []byte(s + strings.Repeat(" ", n-len(s)))
}

// primaryNames gives each file an ISO 9660 level 2 name (d-characters,
// "NAME.EXT;1") for readers without Rock Ridge.
func primaryNames(files []File) []string {
	names := make([]string, len(files))
	used := map[string]bool{}
	for i, f := range files {
		base, ext := f.Name, ""
		if j := strings.LastIndexByte(f.Name, '.'); j > 0 {
			base, ext = f.Name[:j], f.Name[j+1:]
		}
		base, ext = dchars(base), dchars(ext)
		if len(base)+len(ext) > 28 {
			base = base[:28-min(len(ext), 8)]
			if len(ext) > 8 {
				ext = ext[:8]
			}
		}
		name := base + "." + ext + ";1"
		for n := 1; used[name]; n++ {
			suffix := fmt.Sprintf("_%d", n)
			b := base
			if len(b)+len(suffix)+len(ext) > 28 {
				b = b[:28-len(suffix)-len(ext)]
			}
			name = b + suffix + "." + ext + ";1"
		}
		used[name] = true
		names[i] = name
	}
	return names
}

func dchars(s string) string {
	s = strings.ToUpper(s)
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// dirRecord encodes a directory record (ECMA-119 9.1) with system use
// (Rock Ridge) entries su.
func dirRecord(id []byte, extent, size uint32, dir bool, t time.Time, su []byte) []byte {
	n := 33 + len(id)
	if len(id)%2 == 0 {
		n++ // padding field after an even-length identifier
	}
	n += len(su)
	if n%2 == 1 {
		n++ // records have even length; a trailing zero ends the SUSP area
	}
	r := make([]byte, n)
	r[0] = byte(n)
	putBoth32(r[2:10], extent)
	putBoth32(r[10:18], size)
	copy(r[18:25], recDate(t))
	if dir {
		r[25] = 2
	}
	putBoth16(r[28:32], 1)
	r[32] = byte(len(id))
	copy(r[33:], id)
	off := 33 + len(id)
	if len(id)%2 == 0 {
		off++
	}
	copy(r[off:], su)
	return r
}

// packRecords places records in sectors; a record may not cross a sector
// boundary.
func packRecords(records [][]byte) []byte {
	var out []byte
	for _, r := range records {
		if rem := sectorSize - len(out)%sectorSize; len(r) > rem {
			out = append(out, make([]byte, rem)...)
		}
		out = append(out, r...)
	}
	return out
}

func pathTable(rootSector uint32, order binary.ByteOrder) []byte {
	e := make([]byte, 10)
	e[0] = 1 // length of the directory identifier
	order.PutUint32(e[2:6], rootSector)
	order.PutUint16(e[6:8], 1) // parent: the root itself
	return e
}

// Rock Ridge (RRIP 1.10 over SUSP 1.10) system use entries.

func rootSU() []byte {
	var b []byte
	// SP marks SUSP in use; it must be the first entry of the root's ".".
	b = append(b, 'S', 'P', 7, 1, 0xBE, 0xEF, 0)
	b = append(b, erEntry()...)
	b = append(b, pxEntry(0o040555, 2)...)
	return b
}

func dirSU() []byte { return pxEntry(0o040555, 2) }

func fileSU(name string) []byte {
	b := pxEntry(0o100444, 1)
	nm := []byte{'N', 'M', byte(5 + len(name)), 1, 0}
	return append(b, append(nm, name...)...)
}

func erEntry() []byte {
	const (
		id  = "RRIP_1991A"
		des = "ROCK RIDGE INTERCHANGE PROTOCOL"
		src = "SEE RRIP 1.10"
	)
	b := []byte{'E', 'R', byte(8 + len(id) + len(des) + len(src)), 1, byte(len(id)), byte(len(des)), byte(len(src)), 1}
	b = append(b, id...)
	b = append(b, des...)
	return append(b, src...)
}

func pxEntry(mode uint32, links uint32) []byte {
	b := make([]byte, 36)
	copy(b, []byte{'P', 'X', 36, 1})
	putBoth32(b[4:12], mode)
	putBoth32(b[12:20], links)
	// uid and gid stay 0 (root).
	return b
}

func putBoth16(b []byte, v uint16) {
	binary.LittleEndian.PutUint16(b[0:2], v)
	binary.BigEndian.PutUint16(b[2:4], v)
}

func putBoth32(b []byte, v uint32) {
	binary.LittleEndian.PutUint32(b[0:4], v)
	binary.BigEndian.PutUint32(b[4:8], v)
}

// recDate is the 7-byte date of a directory record, in UTC.
func recDate(t time.Time) []byte {
	return []byte{byte(t.Year() - 1900), byte(t.Month()), byte(t.Day()), byte(t.Hour()), byte(t.Minute()), byte(t.Second()), 0}
}

// decDate is the 17-byte date of a volume descriptor; the zero time is
// "not specified".
func decDate(t time.Time) []byte {
	if t.IsZero() {
		return append([]byte("0000000000000000"), 0)
	}
	s := fmt.Sprintf("%04d%02d%02d%02d%02d%02d%02d", t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/1e7)
	return append([]byte(s), 0)
}
