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

package dhcp

import (
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
)

// pxeVendorClass prefixes option 60 of PXE clients and is sent back to them:
// PXE ROMs ignore offers without it.
const pxeVendorClass = "PXEClient"

// pxeDiscoveryControl is option 43 holding PXE sub-option 6 (discovery
// control) = 8: the boot file name is given, so the client downloads it
// instead of running boot server discovery. Sub-option 255 ends the list.
var pxeDiscoveryControl = []byte{6, 1, 8, 255}

// client is what a request tells about the machine that sent it.
type client struct {
	mac  net.HardwareAddr
	pxe  bool
	ipxe bool
	// arch is meaningful when hasArch is set; an architecture is only
	// trusted from option 93.
	arch    iana.Arch
	hasArch bool
	uuid    string
}

func classify(req *dhcpv4.DHCPv4) client {
	c := client{
		mac: req.ClientHWAddr,
		pxe: strings.HasPrefix(req.ClassIdentifier(), pxeVendorClass),
		// Only iPXE sends option 175, its encapsulated settings.
		ipxe: req.Options.Has(dhcpv4.OptionEtherboot) || slices.Contains(req.UserClass(), "iPXE"),
		uuid: machineUUID(req.GetOneOption(dhcpv4.OptionClientMachineIdentifier)),
	}
	if archs := req.ClientArch(); len(archs) > 0 {
		c.arch, c.hasArch = archs[0], true
	}
	return c
}

// netboot reports whether the client wants boot information from us. iPXE
// sends "PXEClient" too, but check both in case a build does not.
func (c client) netboot() bool {
	return c.pxe || c.ipxe
}

// machineUUID formats option 97 (RFC 4578: type 0 followed by 16 bytes) as a
// UUID whose first three fields are little-endian, as SMBIOS 2.6+ stores it
// and PXE sends it; see Observation.UUID. It returns "" for anything else.
func machineUUID(opt []byte) string {
	if len(opt) != 17 || opt[0] != 0 {
		return ""
	}
	b := opt[1:]
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x",
		binary.LittleEndian.Uint32(b[0:4]), binary.LittleEndian.Uint16(b[4:6]),
		binary.LittleEndian.Uint16(b[6:8]), b[8:10], b[10:16])
}

// bootFile returns what c should load next, or "" if we have nothing for it.
// Clients already running iPXE get the script, so they do not chainload iPXE
// forever. EFI IA32 (6) and the HTTP boot architectures are refused: there is
// no iPXE binary for the former, and the latter expect a URL to an EFI image.
func (r *responder) bootFile(c client) string {
	switch {
	case c.ipxe:
		return r.cfg.IPXEScriptURL
	case !c.hasArch:
		return ""
	case c.arch == iana.INTEL_X86PC:
		return r.cfg.BIOSBootFile
	case c.arch == iana.EFI_X86_64 || c.arch == iana.EFI_BC:
		return r.cfg.UEFIBootFile
	}
	return ""
}
