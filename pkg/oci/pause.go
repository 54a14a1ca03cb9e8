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
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// pauseCode is the whole pause program for x86-64: pause(2) in a loop.
// A sandbox's infrastructure container only has to hold its namespaces
// open; it is stopped with SIGKILL.
var pauseCode = map[string]struct {
	machine elf.Machine
	code    []byte
}{
	"amd64": {elf.EM_X86_64, []byte{
		0xb8, 0x22, 0x00, 0x00, 0x00, // mov eax, 34 (pause)
		0x0f, 0x05, // syscall
		0xeb, 0xf7, // jmp back to mov
	}},
}

// PauseBinary returns a static ELF executable for arch that blocks forever.
// It is built here, some hundred bytes, so that nodes need no registry for
// the sandbox image.
func PauseBinary(arch string) ([]byte, error) {
	p, ok := pauseCode[arch]
	if !ok {
		return nil, fmt.Errorf("no built-in pause program for %s", arch)
	}
	const (
		base      = 0x400000
		headerLen = 64 + 56
	)
	size := uint64(headerLen + len(p.code))
	var buf bytes.Buffer
	hdr := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(p.machine), Version: uint32(elf.EV_CURRENT),
		Entry: base + headerLen, Phoff: 64, Ehsize: 64, Phentsize: 56, Phnum: 1,
	}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	hdr.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	hdr.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	prog := elf.Prog64{
		Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X),
		Vaddr: base, Paddr: base, Filesz: size, Memsz: size, Align: 0x1000,
	}
	if err := binary.Write(&buf, binary.LittleEndian, hdr); err != nil {
		return nil, err
	}
	if err := binary.Write(&buf, binary.LittleEndian, prog); err != nil {
		return nil, err
	}
	buf.Write(p.code)
	return buf.Bytes(), nil
}

// PauseImage is the sandbox image Arcturus builds for arch.
func PauseImage(name, arch string) (Image, error) {
	bin, err := PauseBinary(arch)
	if err != nil {
		return Image{}, err
	}
	return Image{
		Name:         name,
		Architecture: arch, OS: "linux",
		Layers: [][]File{{{Path: "pause", Mode: 0o755, Data: bin}}},
		Config: ocispec.ImageConfig{Entrypoint: []string{"/pause"}},
	}, nil
}
