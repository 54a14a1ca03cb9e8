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
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
)

// SMBIOS structure types (DMTF DSP0134).
const (
	smbiosProcessor    = 4
	smbiosMemoryDevice = 17
	smbiosEndOfTable   = 127
)

// smbiosStructure is one structure of an SMBIOS table: the formatted area,
// its 4-byte header included, and the strings that follow it.
type smbiosStructure struct {
	typ       uint8
	formatted []byte
	strings   []string
}

// parseSMBIOS splits a raw SMBIOS table, as Linux exposes it in
// /sys/firmware/dmi/tables/DMI, into its structures. On malformed input it
// returns the structures before the damage with an error.
func parseSMBIOS(b []byte) ([]smbiosStructure, error) {
	var out []smbiosStructure
	for off := 0; off < len(b); {
		if len(b)-off < 4 {
			return out, fmt.Errorf("smbios: truncated structure header at offset %d", off)
		}
		length := int(b[off+1])
		if length < 4 || length > len(b)-off {
			return out, fmt.Errorf("smbios: structure at offset %d has invalid length %d", off, length)
		}
		s := smbiosStructure{typ: b[off], formatted: b[off : off+length]}
		off += length
		// The string set is NUL-terminated strings ended by one more NUL;
		// without strings it is two NULs.
		end := bytes.Index(b[off:], []byte{0, 0})
		if end < 0 {
			return out, fmt.Errorf("smbios: unterminated strings of the structure at offset %d", off-length)
		}
		if end > 0 {
			s.strings = strings.Split(string(b[off:off+end]), "\x00")
		}
		off += end + 2
		out = append(out, s)
		if s.typ == smbiosEndOfTable {
			break
		}
	}
	return out, nil
}

func (s smbiosStructure) u8(off int) (uint8, bool) {
	if off+1 > len(s.formatted) {
		return 0, false
	}
	return s.formatted[off], true
}

func (s smbiosStructure) u16(off int) (uint16, bool) {
	if off+2 > len(s.formatted) {
		return 0, false
	}
	return binary.LittleEndian.Uint16(s.formatted[off:]), true
}

func (s smbiosStructure) u32(off int) (uint32, bool) {
	if off+4 > len(s.formatted) {
		return 0, false
	}
	return binary.LittleEndian.Uint32(s.formatted[off:]), true
}

// str returns the string whose 1-based number is the byte at off; "" for
// none.
func (s smbiosStructure) str(off int) string {
	i, ok := s.u8(off)
	if !ok || i == 0 || int(i) > len(s.strings) {
		return ""
	}
	return strings.TrimSpace(s.strings[i-1])
}

// smbiosProcessors returns the populated processor sockets (type 4).
func smbiosProcessors(ss []smbiosStructure) []metalv1alpha1.Processor {
	var out []metalv1alpha1.Processor
	for _, s := range ss {
		if s.typ != smbiosProcessor {
			continue
		}
		if status, ok := s.u8(0x18); !ok || status&0x40 == 0 {
			continue // empty socket
		}
		p := metalv1alpha1.Processor{
			Manufacturer: s.str(0x07),
			ProductName:  s.str(0x10),
		}
		if v, ok := s.u16(0x14); ok {
			p.SpeedMHz = int32(v)
		}
		// Counts above 254 are in the 16-bit fields of SMBIOS 3.0.
		if v, ok := s.u8(0x23); ok {
			p.CoreCount = int32(v)
			if v2, ok := s.u16(0x2A); ok && v == 0xFF {
				p.CoreCount = int32(v2)
			}
		}
		if v, ok := s.u8(0x25); ok {
			p.ThreadCount = int32(v)
			if v2, ok := s.u16(0x2E); ok && v == 0xFF {
				p.ThreadCount = int32(v2)
			}
		}
		out = append(out, p)
	}
	return out
}

// smbiosMemoryModules returns the installed memory devices (type 17).
func smbiosMemoryModules(ss []smbiosStructure) []metalv1alpha1.MemoryModule {
	var out []metalv1alpha1.MemoryModule
	for _, s := range ss {
		if s.typ != smbiosMemoryDevice {
			continue
		}
		size, ok := s.u16(0x0C)
		if !ok || size == 0 {
			continue // empty slot
		}
		m := metalv1alpha1.MemoryModule{
			Locator:      s.str(0x10),
			Manufacturer: s.str(0x17),
			SerialNumber: s.str(0x18),
		}
		var n int64
		switch {
		case size == 0xFFFF: // unknown
		case size == 0x7FFF: // in the extended size, in MiB
			if ext, ok := s.u32(0x1C); ok {
				n = int64(ext&0x7FFFFFFF) << 20
			}
		case size&0x8000 != 0: // in KiB
			n = int64(size&0x7FFF) << 10
		default: // in MiB
			n = int64(size) << 20
		}
		if n > 0 {
			m.Size = *resource.NewQuantity(n, resource.BinarySI)
		}
		if t, ok := s.u8(0x12); ok {
			m.Type = memoryTypes[t]
		}
		if v, ok := s.u16(0x15); ok {
			m.SpeedMTs = int32(v)
			if ext, ok := s.u32(0x54); ok && v == 0xFFFF && ext <= math.MaxInt32 {
				m.SpeedMTs = int32(ext)
			}
		}
		out = append(out, m)
	}
	return out
}

// memoryTypes names the memory device types of SMBIOS 3.7.
var memoryTypes = map[uint8]string{
	0x01: "Other", 0x02: "Unknown", 0x03: "DRAM", 0x04: "EDRAM", 0x05: "VRAM",
	0x06: "SRAM", 0x07: "RAM", 0x08: "ROM", 0x09: "Flash", 0x0A: "EEPROM",
	0x0B: "FEPROM", 0x0C: "EPROM", 0x0D: "CDRAM", 0x0E: "3DRAM", 0x0F: "SDRAM",
	0x10: "SGRAM", 0x11: "RDRAM", 0x12: "DDR", 0x13: "DDR2", 0x14: "DDR2 FB-DIMM",
	0x18: "DDR3", 0x19: "FBD2", 0x1A: "DDR4", 0x1B: "LPDDR", 0x1C: "LPDDR2",
	0x1D: "LPDDR3", 0x1E: "LPDDR4", 0x1F: "Logical non-volatile device",
	0x20: "HBM", 0x21: "HBM2", 0x22: "DDR5", 0x23: "LPDDR5", 0x24: "HBM3",
}
