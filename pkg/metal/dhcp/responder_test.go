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
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
	"k8s.io/component-base/metrics/testutil"
	clocktesting "k8s.io/utils/clock/testing"
)

var (
	testServerIP = net.IPv4(10, 77, 0, 1).To4()
	testTFTP     = net.IPv4(10, 77, 0, 5).To4()
	testScript   = "http://10.77.0.1:8081/boot.ipxe"
	// testGUID is option 97 of a machine whose product_uuid is testUUID.
	testGUID = []byte{0, 0x44, 0x45, 0x4c, 0x4c, 0x34, 0x00, 0x10, 0x30, 0x80, 0x52, 0xb4, 0xc0, 0x4f, 0x56, 0x44, 0x33}
	testUUID = "4c4c4544-0034-3010-8052-b4c04f564433"
)

// testConfig is a valid configuration; in full mode its pool is
// 10.77.0.100-10.77.0.199.
func testConfig(mode Mode) Config {
	cfg := Config{Mode: mode, Interface: "eth0", ServerIP: testServerIP, TFTPServer: testTFTP, IPXEScriptURL: testScript}
	if mode == ModeFull {
		cfg.Pool = &PoolConfig{
			Start: net.IPv4(10, 77, 0, 100), End: net.IPv4(10, 77, 0, 199),
			Subnet: mustCIDR("10.77.0.0/24"), Router: testServerIP,
			DNS: []net.IP{net.IPv4(10, 77, 0, 53)}, LeaseTime: time.Hour,
		}
	}
	return cfg
}

func mustCIDR(s string) *net.IPNet {
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	return n
}

func newTestResponder(t testing.TB, cfg Config) (*responder, *clocktesting.FakePassiveClock) {
	t.Helper()
	if err := cfg.complete(); err != nil {
		t.Fatalf("complete: %v", err)
	}
	clk := clocktesting.NewFakePassiveClock(time.Unix(1_000_000_000, 0))
	return newResponder(cfg, clk), clk
}

// pxeClient makes a request look like a PXE ROM's of arch.
func pxeClient(arch iana.Arch) []dhcpv4.Modifier {
	return []dhcpv4.Modifier{
		dhcpv4.WithOption(dhcpv4.OptClassIdentifier(fmt.Sprintf("PXEClient:Arch:%05d:UNDI:002001", arch))),
		dhcpv4.WithOption(dhcpv4.OptClientArch(arch)),
		dhcpv4.WithGeneric(dhcpv4.OptionClientMachineIdentifier, testGUID),
	}
}

// ipxeClient makes a request look like iPXE's, which sends user class "iPXE"
// without RFC 3004 framing.
func ipxeClient(arch iana.Arch) []dhcpv4.Modifier {
	return append(pxeClient(arch), dhcpv4.WithUserClass("iPXE", false))
}

func macN(n int) net.HardwareAddr {
	return net.HardwareAddr{0x02, 0, 0, byte(n >> 16), byte(n >> 8), byte(n)}
}

func newRequest(t testing.TB, typ dhcpv4.MessageType, mac net.HardwareAddr, mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	t.Helper()
	m, err := dhcpv4.New(append([]dhcpv4.Modifier{dhcpv4.WithHwAddr(mac), dhcpv4.WithMessageType(typ)}, mods...)...)
	if err != nil {
		t.Fatalf("building request: %v", err)
	}
	return m
}

// exchange sends req through the wire format to r and returns the decision
// with its reply decoded again from the wire format.
func exchange(t testing.TB, r *responder, req *dhcpv4.DHCPv4, port int) decision {
	t.Helper()
	d := r.handle(req.ToBytes(), port)
	if d.reply != nil {
		reply, err := dhcpv4.FromBytes(d.reply.ToBytes())
		if err != nil {
			t.Fatalf("reply does not decode: %v", err)
		}
		if reply.OpCode != dhcpv4.OpcodeBootReply || reply.TransactionID != req.TransactionID ||
			!bytes.Equal(reply.ClientHWAddr, req.ClientHWAddr) {
			t.Fatalf("reply does not answer the request: %s", reply.Summary())
		}
		d.reply = reply
	}
	return d
}

func checkBootInfo(t *testing.T, reply *dhcpv4.DHCPv4, file string) {
	t.Helper()
	if reply.BootFileName != file || reply.BootFileNameOption() != file {
		t.Errorf("boot file %q, option 67 %q; want %q", reply.BootFileName, reply.BootFileNameOption(), file)
	}
	if !reply.ServerIPAddr.Equal(testTFTP) || reply.TFTPServerName() != testTFTP.String() {
		t.Errorf("siaddr %s, option 66 %q; want %s", reply.ServerIPAddr, reply.TFTPServerName(), testTFTP)
	}
	if got := reply.ClassIdentifier(); got != "PXEClient" {
		t.Errorf("option 60 %q, want PXEClient", got)
	}
	if got := reply.GetOneOption(dhcpv4.OptionVendorSpecificInformation); !bytes.Equal(got, []byte{6, 1, 8, 255}) {
		t.Errorf("option 43 %v, want discovery control 8", got)
	}
	if got := reply.GetOneOption(dhcpv4.OptionClientMachineIdentifier); !bytes.Equal(got, testGUID) {
		t.Errorf("option 97 %x, want the client's %x", got, testGUID)
	}
	if !reply.ServerIdentifier().Equal(testServerIP) {
		t.Errorf("option 54 %s, want %s", reply.ServerIdentifier(), testServerIP)
	}
}

func TestProxyDecisions(t *testing.T) {
	siteServer := dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(10, 77, 0, 254)))
	us := dhcpv4.WithOption(dhcpv4.OptServerIdentifier(testServerIP))
	bios := pxeClient(iana.INTEL_X86PC)
	for _, tc := range []struct {
		name     string
		typ      dhcpv4.MessageType
		port     int
		mods     []dhcpv4.Modifier
		wantType dhcpv4.MessageType // None: no reply
		outcome  string
		file     string
	}{
		{"non-PXE client", dhcpv4.MessageTypeDiscover, serverPort, nil, dhcpv4.MessageTypeNone, outcomeIgnored, ""},
		{"BIOS", dhcpv4.MessageTypeDiscover, serverPort, bios, dhcpv4.MessageTypeOffer, outcomeOffer, "undionly.kpxe"},
		{"EFI x86-64", dhcpv4.MessageTypeDiscover, serverPort, pxeClient(iana.EFI_X86_64), dhcpv4.MessageTypeOffer, outcomeOffer, "ipxe.efi"},
		{"EFI BC", dhcpv4.MessageTypeDiscover, serverPort, pxeClient(iana.EFI_BC), dhcpv4.MessageTypeOffer, outcomeOffer, "ipxe.efi"},
		{"EFI IA32", dhcpv4.MessageTypeDiscover, serverPort, pxeClient(iana.EFI_IA32), dhcpv4.MessageTypeNone, outcomeRefused, ""},
		{"EFI HTTP", dhcpv4.MessageTypeDiscover, serverPort, pxeClient(iana.EFI_X86_64_HTTP), dhcpv4.MessageTypeNone, outcomeRefused, ""},
		{"ARM64", dhcpv4.MessageTypeDiscover, serverPort, pxeClient(iana.EFI_ARM64), dhcpv4.MessageTypeNone, outcomeRefused, ""},
		{"PXE without option 93", dhcpv4.MessageTypeDiscover, serverPort, bios[:1], dhcpv4.MessageTypeNone, outcomeRefused, ""},
		{"iPXE", dhcpv4.MessageTypeDiscover, serverPort, ipxeClient(iana.INTEL_X86PC), dhcpv4.MessageTypeOffer, outcomeOffer, testScript},
		{"iPXE EFI", dhcpv4.MessageTypeDiscover, serverPort, ipxeClient(iana.EFI_X86_64), dhcpv4.MessageTypeOffer, outcomeOffer, testScript},
		{"iPXE by option 175", dhcpv4.MessageTypeDiscover, serverPort,
			append(pxeClient(iana.EFI_X86_64), dhcpv4.WithGeneric(dhcpv4.OptionEtherboot, []byte{0xb1, 1, 1})),
			dhcpv4.MessageTypeOffer, outcomeOffer, testScript},
		{"request to the site server", dhcpv4.MessageTypeRequest, serverPort, append(bios, siteServer), dhcpv4.MessageTypeNone, outcomeIgnored, ""},
		{"request naming no server", dhcpv4.MessageTypeRequest, serverPort, bios, dhcpv4.MessageTypeNone, outcomeIgnored, ""},
		{"request to us", dhcpv4.MessageTypeRequest, serverPort, append(bios, us), dhcpv4.MessageTypeAck, outcomeAck, "undionly.kpxe"},
		{"boot server request", dhcpv4.MessageTypeRequest, pxePort,
			append(bios, dhcpv4.WithClientIP(net.IPv4(10, 77, 0, 50))), dhcpv4.MessageTypeAck, outcomeAck, "undionly.kpxe"},
		{"boot server request from iPXE", dhcpv4.MessageTypeRequest, pxePort, ipxeClient(iana.INTEL_X86PC), dhcpv4.MessageTypeAck, outcomeAck, testScript},
		{"non-PXE boot server request", dhcpv4.MessageTypeRequest, pxePort, nil, dhcpv4.MessageTypeNone, outcomeIgnored, ""},
		{"discover on 4011", dhcpv4.MessageTypeDiscover, pxePort, bios, dhcpv4.MessageTypeNone, outcomeIgnored, ""},
		{"release", dhcpv4.MessageTypeRelease, serverPort, bios, dhcpv4.MessageTypeNone, outcomeIgnored, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := newTestResponder(t, testConfig(ModeProxy))
			req := newRequest(t, tc.typ, macN(1), tc.mods...)
			d := exchange(t, r, req, tc.port)
			if d.outcome != tc.outcome {
				t.Errorf("outcome %q, want %q (reason %q)", d.outcome, tc.outcome, d.reason)
			}
			if tc.wantType == dhcpv4.MessageTypeNone {
				if d.reply != nil {
					t.Fatalf("unexpected reply %s", d.reply.Summary())
				}
				return
			}
			if d.reply == nil {
				t.Fatalf("no reply: %s", d.reason)
			}
			if got := d.reply.MessageType(); got != tc.wantType {
				t.Errorf("reply type %s, want %s", got, tc.wantType)
			}
			if !d.reply.YourIPAddr.IsUnspecified() {
				t.Errorf("proxyDHCP assigned address %s", d.reply.YourIPAddr)
			}
			for _, code := range []dhcpv4.OptionCode{dhcpv4.OptionIPAddressLeaseTime, dhcpv4.OptionSubnetMask, dhcpv4.OptionRouter} {
				if d.reply.Options.Has(code) {
					t.Errorf("proxyDHCP reply carries %s", code)
				}
			}
			if !d.reply.ClientIPAddr.Equal(req.ClientIPAddr) && tc.wantType == dhcpv4.MessageTypeAck {
				t.Errorf("ciaddr %s, want the client's %s", d.reply.ClientIPAddr, req.ClientIPAddr)
			}
			checkBootInfo(t, d.reply, tc.file)
			if obs := d.observation(); obs.UUID != testUUID || !obs.PXE || obs.IP != nil {
				t.Errorf("observation %+v", obs)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	valid := newRequest(t, dhcpv4.MessageTypeDiscover, macN(1), pxeClient(iana.INTEL_X86PC)...)
	reply := newRequest(t, dhcpv4.MessageTypeOffer, macN(1))
	reply.OpCode = dhcpv4.OpcodeBootReply
	bootp := newRequest(t, dhcpv4.MessageTypeDiscover, macN(1))
	bootp.Options.Del(dhcpv4.OptionDHCPMessageType)
	noEnd := valid.ToBytes()
	noEnd = noEnd[:bytes.LastIndexByte(noEnd, 255)]
	for name, pkt := range map[string][]byte{
		"empty":           {},
		"garbage":         []byte("GET / HTTP/1.1\r\n\r\n"),
		"truncated":       valid.ToBytes()[:100],
		"bad cookie":      append(valid.ToBytes()[:236], 1, 2, 3, 4),
		"no end option":   noEnd,
		"option overflow": append(valid.ToBytes()[:240], 60, 200, 'P'),
		"BOOTREPLY":       reply.ToBytes(),
		"BOOTP":           bootp.ToBytes(),
	} {
		for _, mode := range []Mode{ModeProxy, ModeFull} {
			r, _ := newTestResponder(t, testConfig(mode))
			if d := r.handle(pkt, serverPort); d.outcome != outcomeMalformed || d.reply != nil {
				t.Errorf("%s in %s mode: outcome %q, reply %v", name, mode, d.outcome, d.reply != nil)
			}
		}
	}
	r, _ := newTestResponder(t, testConfig(ModeFull))
	infiniband := newRequest(t, dhcpv4.MessageTypeDiscover, make(net.HardwareAddr, 16), dhcpv4.WithHWType(iana.HWTypeInfiniband))
	if d := r.handle(infiniband.ToBytes(), serverPort); d.outcome != outcomeIgnored || d.reply != nil {
		t.Errorf("InfiniBand client: outcome %q", d.outcome)
	}
}

// dora runs DISCOVER and REQUEST for mac and returns the ACK.
func dora(t *testing.T, r *responder, mac net.HardwareAddr, mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	t.Helper()
	offer := exchange(t, r, newRequest(t, dhcpv4.MessageTypeDiscover, mac, mods...), serverPort)
	if offer.outcome != outcomeOffer {
		t.Fatalf("DISCOVER from %s: %s (%s)", mac, offer.outcome, offer.reason)
	}
	req, err := dhcpv4.NewRequestFromOffer(offer.reply, mods...)
	if err != nil {
		t.Fatal(err)
	}
	ack := exchange(t, r, req, serverPort)
	if ack.outcome != outcomeAck {
		t.Fatalf("REQUEST from %s: %s (%s)", mac, ack.outcome, ack.reason)
	}
	if !ack.reply.YourIPAddr.Equal(offer.reply.YourIPAddr) || !ack.bound.Equal(ack.reply.YourIPAddr) {
		t.Fatalf("offered %s, acknowledged %s, bound %s", offer.reply.YourIPAddr, ack.reply.YourIPAddr, ack.bound)
	}
	return ack.reply
}

func TestFullDORA(t *testing.T) {
	for _, tc := range []struct {
		name string
		mods []dhcpv4.Modifier
		file string // "": no boot information
	}{
		{"Linux", []dhcpv4.Modifier{dhcpv4.WithOption(dhcpv4.OptClassIdentifier("udhcp 1.35.0"))}, ""},
		{"BIOS", pxeClient(iana.INTEL_X86PC), "undionly.kpxe"},
		{"UEFI", pxeClient(iana.EFI_X86_64), "ipxe.efi"},
		{"iPXE", ipxeClient(iana.EFI_X86_64), testScript},
		{"EFI IA32 gets an address only", pxeClient(iana.EFI_IA32), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := newTestResponder(t, testConfig(ModeFull))
			before, _ := testutil.GetGaugeMetricValue(leasesInUse)
			ack := dora(t, r, macN(1), tc.mods...)
			if !ack.YourIPAddr.Equal(net.IPv4(10, 77, 0, 100)) {
				t.Errorf("address %s, want the pool's first", ack.YourIPAddr)
			}
			if got := ack.IPAddressLeaseTime(0); got != time.Hour {
				t.Errorf("lease time %s", got)
			}
			if got := net.IP(ack.SubnetMask()).String(); got != "255.255.255.0" {
				t.Errorf("subnet mask %s", got)
			}
			if got := ack.Router(); len(got) != 1 || !got[0].Equal(testServerIP) {
				t.Errorf("router %v", got)
			}
			if got := ack.DNS(); len(got) != 1 || !got[0].Equal(net.IPv4(10, 77, 0, 53)) {
				t.Errorf("DNS %v", got)
			}
			if tc.file == "" {
				if ack.BootFileName != "" || ack.Options.Has(dhcpv4.OptionBootfileName) || ack.Options.Has(dhcpv4.OptionClassIdentifier) {
					t.Errorf("boot information for a client we cannot boot: %s", ack.Summary())
				}
			} else {
				checkBootInfo(t, ack, tc.file)
			}
			if after, _ := testutil.GetGaugeMetricValue(leasesInUse); after != before+1 {
				t.Errorf("leases gauge went from %v to %v", before, after)
			}
		})
	}
}

func TestFullLeaseStability(t *testing.T) {
	r, clk := newTestResponder(t, testConfig(ModeFull))
	a, b := macN(1), macN(2)
	ipA := dora(t, r, a).YourIPAddr
	ipB := dora(t, r, b).YourIPAddr
	if ipA.Equal(ipB) {
		t.Fatalf("both clients got %s", ipA)
	}
	check := func(when string) {
		t.Helper()
		if got := dora(t, r, a).YourIPAddr; !got.Equal(ipA) {
			t.Errorf("%s: got %s, want %s again", when, got, ipA)
		}
	}
	check("rebooted")
	exchange(t, r, newRequest(t, dhcpv4.MessageTypeRelease, a, dhcpv4.WithClientIP(ipA)), serverPort)
	check("after RELEASE")
	clk.SetTime(clk.Now().Add(2 * time.Hour))
	check("after the lease expired")

	// Renewing: unicast, ciaddr set, no option 50 or 54.
	d := exchange(t, r, newRequest(t, dhcpv4.MessageTypeRequest, a, dhcpv4.WithClientIP(ipA)), serverPort)
	if d.outcome != outcomeAck || !d.reply.YourIPAddr.Equal(ipA) {
		t.Fatalf("renewal: %s %s", d.outcome, d.reason)
	}
	if dst := destination(d.reply, &net.UDPAddr{IP: ipA, Port: clientPort}, serverPort); !dst.IP.Equal(ipA) {
		t.Errorf("renewal answered to %s, want unicast to %s", dst, ipA)
	}
}

func TestFullRequests(t *testing.T) {
	r, _ := newTestResponder(t, testConfig(ModeFull))
	a, b := macN(1), macN(2)
	ipA := dora(t, r, a).YourIPAddr
	requested := func(ip net.IP) dhcpv4.Modifier { return dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(ip)) }
	for _, tc := range []struct {
		name    string
		mac     net.HardwareAddr
		mods    []dhcpv4.Modifier
		outcome string
	}{
		{"another client's address", b, []dhcpv4.Modifier{requested(ipA)}, outcomeNak},
		{"another address than its own", a, []dhcpv4.Modifier{requested(net.IPv4(10, 77, 0, 150))}, outcomeNak},
		{"address outside the subnet", b, []dhcpv4.Modifier{requested(net.IPv4(192, 168, 1, 10))}, outcomeNak},
		{"address outside the pool", b, []dhcpv4.Modifier{requested(net.IPv4(10, 77, 0, 20))}, outcomeNak},
		{"the server's address", b, []dhcpv4.Modifier{requested(testServerIP)}, outcomeNak},
		{"no address", b, nil, outcomeNak},
		{"free pool address after a reboot", b, []dhcpv4.Modifier{requested(net.IPv4(10, 77, 0, 150))}, outcomeAck},
		{"another server's offer", a, []dhcpv4.Modifier{requested(net.IPv4(10, 77, 0, 9)),
			dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(10, 77, 0, 254)))}, outcomeIgnored},
	} {
		d := exchange(t, r, newRequest(t, dhcpv4.MessageTypeRequest, tc.mac, tc.mods...), serverPort)
		if d.outcome != tc.outcome {
			t.Errorf("%s: outcome %q (%s), want %q", tc.name, d.outcome, d.reason, tc.outcome)
			continue
		}
		if tc.outcome == outcomeNak {
			if d.reply.MessageType() != dhcpv4.MessageTypeNak || !d.reply.YourIPAddr.IsUnspecified() || d.observation().IP != nil {
				t.Errorf("%s: bad NAK %s", tc.name, d.reply.Summary())
			}
			if dst := destination(d.reply, &net.UDPAddr{IP: net.IPv4zero, Port: clientPort}, serverPort); !dst.IP.Equal(net.IPv4bcast) {
				t.Errorf("%s: NAK sent to %s", tc.name, dst)
			}
		}
	}
}

func TestFullOfferWithdrawn(t *testing.T) {
	cfg := testConfig(ModeFull)
	cfg.Pool.Start, cfg.Pool.End = net.IPv4(10, 77, 0, 100), net.IPv4(10, 77, 0, 100)
	r, _ := newTestResponder(t, cfg)
	a, b := macN(1), macN(2)
	if d := exchange(t, r, newRequest(t, dhcpv4.MessageTypeDiscover, a), serverPort); d.outcome != outcomeOffer {
		t.Fatalf("first DISCOVER: %s", d.outcome)
	}
	if d := exchange(t, r, newRequest(t, dhcpv4.MessageTypeDiscover, b), serverPort); d.outcome != outcomeExhausted || d.reply != nil {
		t.Fatalf("DISCOVER with the only address offered: %s", d.outcome)
	}
	// a takes another server's offer, which frees ours at once.
	exchange(t, r, newRequest(t, dhcpv4.MessageTypeRequest, a,
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(10, 77, 0, 254)))), serverPort)
	if d := exchange(t, r, newRequest(t, dhcpv4.MessageTypeDiscover, b), serverPort); d.outcome != outcomeOffer {
		t.Fatalf("DISCOVER after the offer was passed over: %s", d.outcome)
	}
}

func TestPoolExhaustion(t *testing.T) {
	cfg := testConfig(ModeFull)
	// Three addresses, one of them the router's.
	cfg.Pool.Start, cfg.Pool.End = net.IPv4(10, 77, 0, 1), net.IPv4(10, 77, 0, 3)
	r, clk := newTestResponder(t, cfg)
	ipA := dora(t, r, macN(1)).YourIPAddr
	if d := exchange(t, r, newRequest(t, dhcpv4.MessageTypeDiscover, macN(2)), serverPort); d.outcome != outcomeOffer {
		t.Fatalf("second client: %s", d.outcome)
	}
	if d := exchange(t, r, newRequest(t, dhcpv4.MessageTypeDiscover, macN(3)), serverPort); d.outcome != outcomeExhausted || d.reply != nil {
		t.Fatalf("third client in a full pool: %s", d.outcome)
	}
	req := newRequest(t, dhcpv4.MessageTypeRequest, macN(3), dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(ipA)))
	if d := exchange(t, r, req, serverPort); d.outcome != outcomeNak {
		t.Fatalf("third client asking for a bound address: %s", d.outcome)
	}
	// The unanswered offer expires, the bound lease does not.
	clk.SetTime(clk.Now().Add(offerTimeout + time.Second))
	got := dora(t, r, macN(3)).YourIPAddr
	if got.Equal(ipA) || got.Equal(testServerIP) {
		t.Fatalf("third client got %s", got)
	}
	if d := exchange(t, r, newRequest(t, dhcpv4.MessageTypeDiscover, macN(4)), serverPort); d.outcome != outcomeExhausted {
		t.Fatalf("fourth client: %s", d.outcome)
	}
}

func TestDecline(t *testing.T) {
	cfg := testConfig(ModeFull)
	cfg.Pool.Start, cfg.Pool.End = net.IPv4(10, 77, 0, 100), net.IPv4(10, 77, 0, 101)
	r, clk := newTestResponder(t, cfg)
	a := macN(1)
	declined := dora(t, r, a).YourIPAddr
	d := exchange(t, r, newRequest(t, dhcpv4.MessageTypeDecline, a,
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(declined)), dhcpv4.WithOption(dhcpv4.OptServerIdentifier(testServerIP))), serverPort)
	if d.outcome != outcomeDeclined || d.reply != nil {
		t.Fatalf("DECLINE: %s", d.outcome)
	}
	if got := dora(t, r, a).YourIPAddr; got.Equal(declined) {
		t.Fatalf("got the declined address %s again", got)
	}
	if d := exchange(t, r, newRequest(t, dhcpv4.MessageTypeDiscover, macN(2)), serverPort); d.outcome != outcomeExhausted {
		t.Fatalf("declined address offered: %s", d.outcome)
	}
	clk.SetTime(clk.Now().Add(declineHold + time.Second))
	if got := dora(t, r, macN(2)).YourIPAddr; !got.Equal(declined) {
		t.Fatalf("after the hold got %s, want %s", got, declined)
	}
}

// TestDiscoverFlood checks that DISCOVERs from random MACs fill at most
// maxLeases entries, even with a far larger pool, and that the table turns
// over once their offers expire.
func TestDiscoverFlood(t *testing.T) {
	cfg := testConfig(ModeFull)
	cfg.ServerIP = net.IPv4(10, 0, 0, 1)
	cfg.Pool = &PoolConfig{Start: net.IPv4(10, 0, 0, 2), End: net.IPv4(10, 255, 255, 254), Subnet: mustCIDR("10.0.0.0/8")}
	r, clk := newTestResponder(t, cfg)
	rng := rand.New(rand.NewPCG(1, 2))
	flood := func(n int) (offers int) {
		for range n {
			req := newRequest(t, dhcpv4.MessageTypeDiscover, net.HardwareAddr{2, byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())})
			if d := r.respond(req, serverPort); d.outcome == outcomeOffer {
				offers++
			}
		}
		return offers
	}
	if got := flood(maxLeases + 1000); got != maxLeases {
		t.Errorf("%d offers, want %d", got, maxLeases)
	}
	clk.SetTime(clk.Now().Add(offerTimeout + time.Second))
	if got := flood(1000); got != 1000 {
		t.Errorf("%d offers after expiry, want 1000", got)
	}
	lt := r.leases
	if len(lt.byIP) > maxLeases || len(lt.byMAC) > maxLeases || len(lt.active)+lt.free.Len() != len(lt.byIP) {
		t.Errorf("table: %d addresses, %d MACs, %d active, %d free", len(lt.byIP), len(lt.byMAC), len(lt.active), lt.free.Len())
	}
}

func TestDestination(t *testing.T) {
	peer := &net.UDPAddr{IP: net.IPv4(10, 77, 0, 50), Port: 68}
	relay := net.IPv4(10, 1, 0, 1)
	for _, tc := range []struct {
		name   string
		typ    dhcpv4.MessageType
		ciaddr net.IP
		giaddr net.IP
		port   int
		want   string
	}{
		{"new client", dhcpv4.MessageTypeOffer, nil, nil, serverPort, "255.255.255.255:68"},
		{"renewing client", dhcpv4.MessageTypeAck, net.IPv4(10, 77, 0, 50), nil, serverPort, "10.77.0.50:68"},
		{"relayed", dhcpv4.MessageTypeOffer, nil, relay, serverPort, "10.1.0.1:67"},
		{"relayed NAK", dhcpv4.MessageTypeNak, nil, relay, serverPort, "10.1.0.1:67"},
		{"NAK", dhcpv4.MessageTypeNak, net.IPv4(10, 77, 0, 50), nil, serverPort, "255.255.255.255:68"},
		{"boot server", dhcpv4.MessageTypeAck, net.IPv4(10, 77, 0, 50), nil, pxePort, "10.77.0.50:68"},
	} {
		reply := &dhcpv4.DHCPv4{ClientIPAddr: tc.ciaddr, GatewayIPAddr: tc.giaddr, Options: dhcpv4.Options{}}
		reply.UpdateOption(dhcpv4.OptMessageType(tc.typ))
		if got := destination(reply, peer, tc.port).String(); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestMachineUUID(t *testing.T) {
	for _, tc := range []struct {
		opt  []byte
		want string
	}{
		{testGUID, testUUID},
		{nil, ""},
		{testGUID[:16], ""},
		{append([]byte{1}, testGUID[1:]...), ""},
	} {
		if got := machineUUID(tc.opt); got != tc.want {
			t.Errorf("machineUUID(%x) = %q, want %q", tc.opt, got, tc.want)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   string // "" if valid
	}{
		{"proxy", func(*Config) {}, ""},
		{"full", func(c *Config) { *c = testConfig(ModeFull) }, ""},
		{"mode off", func(c *Config) { c.Mode = ModeOff }, "mode"},
		{"no interface", func(c *Config) { c.Interface = "" }, "interface"},
		{"no server IP", func(c *Config) { c.ServerIP = nil }, "server IP"},
		{"IPv6 server", func(c *Config) { c.ServerIP = net.ParseIP("fd00::1") }, "server IP"},
		{"no script", func(c *Config) { c.IPXEScriptURL = "" }, "script URL"},
		{"relative script", func(c *Config) { c.IPXEScriptURL = "boot.ipxe" }, "script URL"},
		{"long script", func(c *Config) { c.IPXEScriptURL = "http://x/" + strings.Repeat("a", 128) }, "script URL"},
		{"pool in proxy mode", func(c *Config) { c.Pool = testConfig(ModeFull).Pool }, "pool"},
		{"full without pool", func(c *Config) { c.Mode = ModeFull }, "pool"},
		{"pool outside subnet", func(c *Config) {
			*c = testConfig(ModeFull)
			c.Pool.End = net.IPv4(10, 77, 1, 10)
		}, "outside subnet"},
		{"server outside subnet", func(c *Config) {
			*c = testConfig(ModeFull)
			c.ServerIP = net.IPv4(10, 78, 0, 1)
		}, "server IP"},
		{"reversed range", func(c *Config) {
			*c = testConfig(ModeFull)
			c.Pool.Start, c.Pool.End = c.Pool.End, c.Pool.Start
		}, "after end"},
		{"broadcast address", func(c *Config) {
			*c = testConfig(ModeFull)
			c.Pool.End = net.IPv4(10, 77, 0, 255)
		}, "broadcast"},
		{"only the server", func(c *Config) {
			*c = testConfig(ModeFull)
			c.Pool.Start, c.Pool.End = testServerIP, testServerIP
		}, "no address"},
		{"short lease", func(c *Config) {
			*c = testConfig(ModeFull)
			c.Pool.LeaseTime = time.Second
		}, "lease time"},
		{"IPv6 DNS", func(c *Config) {
			*c = testConfig(ModeFull)
			c.Pool.DNS = []net.IP{net.ParseIP("fd00::53")}
		}, "DNS"},
	} {
		cfg := testConfig(ModeProxy)
		tc.mutate(&cfg)
		_, err := New(cfg)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one about %q", tc.name, err, tc.want)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg := testConfig(ModeFull)
	cfg.TFTPServer, cfg.Pool.LeaseTime = nil, 0
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := s.cfg
	if !got.TFTPServer.Equal(testServerIP) || got.BIOSBootFile != DefaultBIOSBootFile ||
		got.UEFIBootFile != DefaultUEFIBootFile || got.Pool.LeaseTime != DefaultLeaseTime {
		t.Errorf("defaults not applied: %+v %+v", got, got.Pool)
	}
	if cfg.Pool.LeaseTime != 0 {
		t.Error("New modified the caller's pool")
	}
}
