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

package iso9660

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testFiles() []File {
	return []File{
		{Name: "meta-data", Data: []byte("instance-id: x\n")},
		{Name: "user-data", Data: []byte("#cloud-config\n")},
		{Name: "network-config", Data: bytes.Repeat([]byte("0123456789abcdef"), 300)}, // spans sectors
		{Name: "empty", Data: nil},
	}
}

func TestStructure(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, "cidata", testFiles(), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if len(b)%sectorSize != 0 {
		t.Fatalf("size %d is not a whole number of sectors", len(b))
	}
	pvd := b[16*sectorSize:]
	if pvd[0] != 1 || string(pvd[1:6]) != "CD001" {
		t.Fatal("no primary volume descriptor at sector 16")
	}
	if got := strings.TrimRight(string(pvd[40:72]), " "); got != "cidata" {
		t.Errorf("label %q", got)
	}
	if got := binary.LittleEndian.Uint32(pvd[80:84]); int(got)*sectorSize != len(b) {
		t.Errorf("volume space size %d sectors, image has %d", got, len(b)/sectorSize)
	}
	if term := b[17*sectorSize:]; term[0] != 255 {
		t.Error("no set terminator at sector 17")
	}
}

func TestInvalidNames(t *testing.T) {
	for _, name := range []string{"", ".", "..", "a/b", strings.Repeat("x", 256)} {
		if err := Write(&bytes.Buffer{}, "x", []File{{Name: name}}, time.Time{}); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	if err := Write(&bytes.Buffer{}, "x", []File{{Name: "a"}, {Name: "a"}}, time.Time{}); err == nil {
		t.Error("duplicate names accepted")
	}
	if err := Write(&bytes.Buffer{}, strings.Repeat("l", 33), nil, time.Time{}); err == nil {
		t.Error("long label accepted")
	}
}

func TestPrimaryNamesUnique(t *testing.T) {
	names := primaryNames([]File{{Name: "a-b"}, {Name: "a_b"}, {Name: "A.B"}, {Name: strings.Repeat("n", 100) + ".extension-long"}})
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] || len(n) > 32 {
			t.Errorf("bad primary name %q in %v", n, names)
		}
		seen[n] = true
	}
}

// TestIsoinfo reads the volume back with isoinfo (from genisoimage), with
// Rock Ridge and with primary names.
func TestIsoinfo(t *testing.T) {
	if _, err := exec.LookPath("isoinfo"); err != nil {
		t.Skip("isoinfo not installed")
	}
	img := filepath.Join(t.TempDir(), "seed.iso")
	var buf bytes.Buffer
	if err := Write(&buf, "cidata", testFiles(), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(img, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("isoinfo", "-d", "-i", img).CombinedOutput()
	if err != nil {
		t.Fatalf("isoinfo -d: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "Volume id: cidata") || !strings.Contains(string(out), "Rock Ridge signatures version 1 found") {
		t.Errorf("isoinfo -d:\n%s", out)
	}
	for _, f := range testFiles() {
		got, err := exec.Command("isoinfo", "-R", "-i", img, "-x", "/"+f.Name).Output()
		if err != nil || !bytes.Equal(got, f.Data) {
			t.Errorf("Rock Ridge %s: %v, content equal: %v", f.Name, err, bytes.Equal(got, f.Data))
		}
		got, err = exec.Command("isoinfo", "-i", img, "-x", "/"+mustPrimary(t, f.Name)).Output()
		if err != nil || !bytes.Equal(got, f.Data) {
			t.Errorf("primary %s: %v, content equal: %v", mustPrimary(t, f.Name), err, bytes.Equal(got, f.Data))
		}
	}
}

// TestMount has the Linux kernel read the volume, with and without Rock
// Ridge, and blkid find its label, as cloud-init does.
func TestMount(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root")
	}
	if _, err := exec.LookPath("mount"); err != nil {
		t.Skip("mount not installed")
	}
	dir := t.TempDir()
	img := filepath.Join(dir, "seed.iso")
	var buf bytes.Buffer
	if err := Write(&buf, "cidata", testFiles(), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(img, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("blkid", "-o", "value", "-s", "LABEL", img).CombinedOutput(); err == nil {
		if got := strings.TrimSpace(string(out)); got != "cidata" {
			t.Errorf("blkid label %q", got)
		}
	}
	for _, opts := range []string{"loop,ro", "loop,ro,norock"} {
		mnt := filepath.Join(dir, "mnt-"+strings.ReplaceAll(opts, ",", "-"))
		if err := os.Mkdir(mnt, 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("mount", "-t", "iso9660", "-o", opts, img, mnt).CombinedOutput(); err != nil {
			t.Skipf("cannot loop-mount here: %v: %s", err, out)
		}
		entries, _ := os.ReadDir(mnt)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		for _, f := range testFiles() {
			want := f.Name
			if strings.Contains(opts, "norock") {
				// Linux lowercases and drops ";1" and a trailing dot.
				want = strings.ToLower(strings.TrimSuffix(mustPrimary(t, f.Name), ".;1"))
			}
			got, err := os.ReadFile(filepath.Join(mnt, want))
			if err != nil {
				t.Errorf("%s: %v (directory holds %v)", opts, err, names)
				continue
			}
			if !bytes.Equal(got, f.Data) {
				t.Errorf("%s: %s: content differs", opts, want)
			}
		}
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount: %v: %s", err, out)
		}
	}
}

func mustPrimary(t *testing.T, name string) string {
	t.Helper()
	return primaryNames([]File{{Name: name}})[0]
}
