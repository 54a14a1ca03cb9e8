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

package oci

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/json"
	"io"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestPauseBinaryIsAStaticExecutable(t *testing.T) {
	bin, err := PauseBinary("amd64")
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatalf("not an ELF file: %v", err)
	}
	if f.Type != elf.ET_EXEC || f.Machine != elf.EM_X86_64 || len(f.Progs) != 1 || f.Progs[0].Type != elf.PT_LOAD {
		t.Errorf("header %+v, programs %d", f.FileHeader, len(f.Progs))
	}
	if f.Entry != f.Progs[0].Vaddr+64+56 {
		t.Errorf("entry %#x does not point at the code", f.Entry)
	}
	if _, err := PauseBinary("sparc"); err == nil {
		t.Error("no error for an architecture without a pause program")
	}
}

func TestWriteNamesTheImageForContainerd(t *testing.T) {
	var buf bytes.Buffer
	img := Image{Name: "local/busybox:1", Architecture: "amd64", OS: "linux",
		Layers: [][]File{{{Path: "bin/sh", Mode: 0o755, Data: []byte("x")}, {Path: "bin/ls", Linkname: "/bin/sh"}}}}
	if err := Write(&buf, img); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name], _ = io.ReadAll(tr)
	}
	var index ocispec.Index
	if err := json.Unmarshal(files["index.json"], &index); err != nil {
		t.Fatal(err)
	}
	if len(index.Manifests) != 1 || index.Manifests[0].Annotations[containerdImageName] != "docker.io/local/busybox:1" {
		t.Fatalf("index %+v", index)
	}
	if _, ok := files["blobs/sha256/"+index.Manifests[0].Digest.Encoded()]; !ok {
		t.Error("the manifest blob is missing")
	}
	if _, ok := files[ocispec.ImageLayoutFile]; !ok {
		t.Error("oci-layout is missing")
	}
	if err := Write(io.Discard, Image{Name: "Not A Name"}); err == nil {
		t.Error("no error for an invalid image name")
	}
}
