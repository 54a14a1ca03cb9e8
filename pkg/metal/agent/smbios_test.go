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

package agent

import (
	"encoding/binary"
	"os"
	"testing"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
)

// structure encodes an SMBIOS structure whose formatted area, header
// included, has length bytes, with fields set by the caller.
func structure(typ byte, length int, set func(b []byte), strs ...string) []byte {
	b := make([]byte, length)
	b[0], b[1] = typ, byte(length)
	set(b)
	for _, s := range strs {
		b = append(b, s...)
		b = append(b, 0)
	}
	if len(strs) == 0 {
		b = append(b, 0)
	}
	return append(b, 0)
}

func TestSMBIOSDecoding(t *testing.T) {
	var table []byte
	// A populated socket with more than 254 cores (SMBIOS 3.0 counts).
	table = append(table, structure(smbiosProcessor, 0x30, func(b []byte) {
		b[0x07], b[0x10] = 1, 2
		binary.LittleEndian.PutUint16(b[0x14:], 3700)
		b[0x18] = 0x41
		b[0x23], b[0x25] = 0xFF, 0xFF
		binary.LittleEndian.PutUint16(b[0x2A:], 256)
		binary.LittleEndian.PutUint16(b[0x2E:], 512)
	}, "AMD", "EPYC 9754 ")...)
	// An empty socket.
	table = append(table, structure(smbiosProcessor, 0x2A, func(b []byte) { b[0x18] = 0 })...)
	// An old, short processor structure: no counts.
	table = append(table, structure(smbiosProcessor, 0x1A, func(b []byte) { b[0x18] = 0x41; b[0x07] = 1 }, "Intel")...)
	// Memory: empty slot, 64 GiB in the extended size, 512 KiB, unknown
	// size with the extended speed, a string number past the strings.
	table = append(table, structure(smbiosMemoryDevice, 0x28, func(b []byte) { b[0x10] = 1 }, "DIMM A0")...)
	table = append(table, structure(smbiosMemoryDevice, 0x5C, func(b []byte) {
		binary.LittleEndian.PutUint16(b[0x0C:], 0x7FFF)
		binary.LittleEndian.PutUint32(b[0x1C:], 64<<10)
		b[0x10], b[0x12], b[0x17], b[0x18] = 1, 0x22, 2, 9
		binary.LittleEndian.PutUint16(b[0x15:], 4800)
	}, "DIMM A1", "Hynix")...)
	table = append(table, structure(smbiosMemoryDevice, 0x15, func(b []byte) {
		binary.LittleEndian.PutUint16(b[0x0C:], 0x8200)
		b[0x12] = 0x1A
	})...)
	table = append(table, structure(smbiosMemoryDevice, 0x5C, func(b []byte) {
		binary.LittleEndian.PutUint16(b[0x0C:], 0xFFFF)
		binary.LittleEndian.PutUint16(b[0x15:], 0xFFFF)
		binary.LittleEndian.PutUint32(b[0x54:], 70000)
	})...)
	table = append(table, structure(smbiosEndOfTable, 4, func([]byte) {})...)
	// Anything after the end is ignored.
	table = append(table, 0xFF)

	ss, err := parseSMBIOS(table)
	if err != nil {
		t.Fatal(err)
	}
	procs := smbiosProcessors(ss)
	wantProcs := []metalv1alpha1.Processor{
		{Manufacturer: "AMD", ProductName: "EPYC 9754", SpeedMHz: 3700, CoreCount: 256, ThreadCount: 512},
		{Manufacturer: "Intel"},
	}
	if len(procs) != len(wantProcs) {
		t.Fatalf("processors %+v, want %+v", procs, wantProcs)
	}
	for i := range procs {
		if procs[i] != wantProcs[i] {
			t.Errorf("processor %d: %+v, want %+v", i, procs[i], wantProcs[i])
		}
	}

	mods := smbiosMemoryModules(ss)
	type mod struct {
		locator, manufacturer, serial, typ, size string
		speed                                    int32
	}
	var got []mod
	for _, m := range mods {
		got = append(got, mod{m.Locator, m.Manufacturer, m.SerialNumber, m.Type, m.Size.String(), m.SpeedMTs})
	}
	want := []mod{
		{"DIMM A1", "Hynix", "", "DDR5", "64Gi", 4800},
		{"", "", "", "DDR4", "512Ki", 0},
		{"", "", "", "", "0", 70000},
	}
	if len(got) != len(want) {
		t.Fatalf("modules %+v, want %+v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("module %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestParseSMBIOSDamaged(t *testing.T) {
	good := structure(smbiosProcessor, 0x2A, func(b []byte) { b[0x18] = 0x41 })
	for name, tail := range map[string][]byte{
		"truncated header":      {smbiosMemoryDevice, 0x28},
		"length beyond the end": {smbiosMemoryDevice, 0x28, 0, 0, 1, 2},
		"length below 4":        {smbiosMemoryDevice, 2, 0, 0, 0, 0},
		"unterminated strings":  append(structure(smbiosMemoryDevice, 4, func([]byte) {})[:4], 'a', 0, 'b'),
	} {
		ss, err := parseSMBIOS(append(append([]byte{}, good...), tail...))
		if err == nil {
			t.Errorf("%s: no error", name)
		}
		if len(ss) != 1 || ss[0].typ != smbiosProcessor {
			t.Errorf("%s: structures before the damage: %+v", name, ss)
		}
	}
}

func FuzzParseSMBIOS(f *testing.F) {
	qemu, err := os.ReadFile("testdata/root/sys/firmware/dmi/tables/DMI")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(qemu)
	f.Add([]byte{})
	f.Add(structure(smbiosMemoryDevice, 0x5C, func(b []byte) { b[0x0C], b[0x0D] = 0xFF, 0x7F; b[0x10] = 3 }, "a", "b"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ss, _ := parseSMBIOS(b)
		for _, s := range ss {
			if len(s.formatted) < 4 || len(s.formatted) != int(s.formatted[1]) {
				t.Fatalf("structure of type %d has a %d-byte formatted area", s.typ, len(s.formatted))
			}
		}
		smbiosProcessors(ss)
		smbiosMemoryModules(ss)
	})
}
