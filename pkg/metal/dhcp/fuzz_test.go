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
	"net"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
)

// FuzzRespond feeds arbitrary datagrams to a responder in either mode, on
// either port. It must never panic, answer only well-formed BOOTREQUESTs,
// assign only pool addresses and keep its lease table consistent.
func FuzzRespond(f *testing.F) {
	mac := macN(1)
	for _, req := range []*dhcpv4.DHCPv4{
		newRequest(f, dhcpv4.MessageTypeDiscover, mac, pxeClient(iana.INTEL_X86PC)...),
		newRequest(f, dhcpv4.MessageTypeDiscover, mac, ipxeClient(iana.EFI_X86_64)...),
		newRequest(f, dhcpv4.MessageTypeDiscover, mac, dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(10, 77, 0, 150)))),
		newRequest(f, dhcpv4.MessageTypeRequest, mac, append(pxeClient(iana.EFI_BC),
			dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(10, 77, 0, 100))),
			dhcpv4.WithOption(dhcpv4.OptServerIdentifier(testServerIP)))...),
		newRequest(f, dhcpv4.MessageTypeRequest, mac, dhcpv4.WithClientIP(net.IPv4(10, 77, 0, 100)), dhcpv4.WithRelay(net.IPv4(10, 1, 0, 1))),
		newRequest(f, dhcpv4.MessageTypeRelease, mac, dhcpv4.WithClientIP(net.IPv4(10, 77, 0, 100))),
		newRequest(f, dhcpv4.MessageTypeDecline, mac, dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(10, 77, 0, 100)))),
	} {
		for sel := range uint8(4) {
			f.Add(req.ToBytes(), sel)
		}
	}
	f.Fuzz(func(t *testing.T, pkt []byte, sel uint8) {
		mode, port := ModeProxy, serverPort
		if sel&1 != 0 {
			mode = ModeFull
		}
		if sel&2 != 0 {
			port = pxePort
		}
		r, _ := newTestResponder(t, testConfig(mode))
		// A lease for mac beforehand, so that requests find state to act on.
		if mode == ModeFull {
			r.respond(newRequest(t, dhcpv4.MessageTypeDiscover, mac), serverPort)
		}
		req, err := dhcpv4.FromBytes(pkt)
		wellFormed := err == nil && req.OpCode == dhcpv4.OpcodeBootRequest && req.MessageType() != dhcpv4.MessageTypeNone
		// Twice, the second time against the state the first left.
		for range 2 {
			d := r.handle(pkt, port)
			if !wellFormed && d.outcome != outcomeMalformed {
				t.Fatalf("malformed packet given outcome %q", d.outcome)
			}
			if d.reply == nil {
				continue
			}
			if !wellFormed {
				t.Fatalf("answered a malformed packet: %s", d.reply.Summary())
			}
			reply, err := dhcpv4.FromBytes(d.reply.ToBytes())
			if err != nil {
				t.Fatalf("reply does not decode: %v", err)
			}
			if reply.OpCode != dhcpv4.OpcodeBootReply || reply.TransactionID != req.TransactionID {
				t.Fatalf("reply does not answer the request: %s", reply.Summary())
			}
			if yiaddr := reply.YourIPAddr; !yiaddr.IsUnspecified() {
				if mode == ModeProxy || !inPool(r.cfg.Pool, yiaddr) || yiaddr.Equal(testServerIP) {
					t.Fatalf("assigned %s in %s mode", yiaddr, mode)
				}
			}
		}
		if lt := r.leases; lt != nil && (len(lt.byIP) > lt.limit || len(lt.byMAC) > len(lt.byIP) || len(lt.active)+lt.free.Len() != len(lt.byIP)) {
			t.Fatalf("table: %d addresses, %d MACs, %d active, %d free", len(lt.byIP), len(lt.byMAC), len(lt.active), lt.free.Len())
		}
	})
}

func inPool(p *PoolConfig, ip net.IP) bool {
	v := ipToUint(ip)
	return v >= ipToUint(p.Start) && v <= ipToUint(p.End)
}
