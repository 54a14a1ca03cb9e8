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
	"sync"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
	"k8s.io/utils/clock"
)

// UDP ports of DHCP and of PXE boot servers.
const (
	serverPort = dhcpv4.ServerPort
	clientPort = dhcpv4.ClientPort
	pxePort    = 4011
)

// Outcomes of a request: the outcome label of arcturus_dhcp_requests_total.
const (
	outcomeOffer     = "offer"
	outcomeAck       = "ack"
	outcomeNak       = "nak"
	outcomeIgnored   = "ignored"   // not for us
	outcomeRefused   = "refused"   // a PXE client we have no boot file for
	outcomeExhausted = "exhausted" // no free address
	outcomeReleased  = "released"
	outcomeDeclined  = "declined"
	outcomeMalformed = "malformed" // counted apart, not as a request
)

// responder decides the reply to each request. It holds all protocol logic
// and no sockets, so that it can be tested and fuzzed on its own.
type responder struct {
	cfg   Config
	clock clock.PassiveClock

	mu     sync.Mutex
	leases *leaseTable // nil in proxy mode
}

func newResponder(cfg Config, clk clock.PassiveClock) *responder {
	r := &responder{cfg: cfg, clock: clk}
	if cfg.Mode == ModeFull {
		r.leases = newLeaseTable(cfg.Pool, cfg.ServerIP)
	}
	return r
}

// decision is the responder's verdict on one datagram.
type decision struct {
	reply   *dhcpv4.DHCPv4 // nil: stay silent
	msgType dhcpv4.MessageType
	outcome string
	// reason explains a silence, or a PXE client getting no boot file.
	reason string
	client client
	// bound is the address an ACK bound in full mode.
	bound net.IP
}

func (d *decision) silent(outcome, reason string) {
	d.outcome, d.reason = outcome, reason
}

func (d *decision) observation() Observation {
	c := d.client
	return Observation{MAC: c.mac, UUID: c.uuid, PXE: c.pxe, Arch: c.arch, IPXE: c.ipxe, IP: d.bound}
}

// handle decodes a datagram received on port and decides the reply.
func (r *responder) handle(pkt []byte, port int) decision {
	req, err := dhcpv4.FromBytes(pkt)
	switch {
	case err != nil:
		return decision{outcome: outcomeMalformed, reason: err.Error()}
	case req.OpCode != dhcpv4.OpcodeBootRequest:
		return decision{outcome: outcomeMalformed, reason: "not a BOOTREQUEST"}
	case req.MessageType() == dhcpv4.MessageTypeNone:
		return decision{outcome: outcomeMalformed, reason: "no DHCP message type"}
	}
	return r.respond(req, port)
}

// respond decides the reply to a well-formed request received on port.
func (r *responder) respond(req *dhcpv4.DHCPv4, port int) decision {
	d := decision{msgType: req.MessageType(), client: classify(req)}
	if req.HWType != iana.HWTypeEthernet || len(req.ClientHWAddr) != 6 {
		d.silent(outcomeIgnored, "not an Ethernet client")
		return d
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.leases == nil {
		r.respondProxy(&d, req, port)
	} else {
		r.respondFull(&d, req)
	}
	return d
}

// respondProxy gives PXE clients boot information and no address: on port 67
// in answer to their broadcasts, and on port 4011 to their requests for boot
// information, which they send once they have an address.
func (r *responder) respondProxy(d *decision, req *dhcpv4.DHCPv4, port int) {
	var typ dhcpv4.MessageType
	switch {
	case !d.client.netboot():
		d.silent(outcomeIgnored, "not a PXE client")
		return
	case port == serverPort && d.msgType == dhcpv4.MessageTypeDiscover:
		typ = dhcpv4.MessageTypeOffer
	case port == serverPort && d.msgType == dhcpv4.MessageTypeRequest && r.cfg.ServerIP.Equal(req.ServerIdentifier()):
		// Only if named: an ACK without address to a request meant for the
		// site's server could cost the client its address.
		typ = dhcpv4.MessageTypeAck
	case port == pxePort && (d.msgType == dhcpv4.MessageTypeRequest || d.msgType == dhcpv4.MessageTypeInform):
		typ = dhcpv4.MessageTypeAck
	default:
		d.silent(outcomeIgnored, "not addressed to a proxyDHCP server")
		return
	}
	file := r.bootFile(d.client)
	if file == "" {
		d.silent(outcomeRefused, "no boot file for this architecture")
		return
	}
	d.reply = r.newReply(req, typ, nil)
	r.addBootInfo(d.reply, req, file)
	d.outcome = replyOutcome(typ)
}

// respondFull runs address assignment (RFC 2131 section 4.3) and adds boot
// information for PXE clients.
func (r *responder) respondFull(d *decision, req *dhcpv4.DHCPv4) {
	mac := string(req.ClientHWAddr)
	if sid := req.ServerIdentifier(); sid != nil && !sid.Equal(r.cfg.ServerIP) {
		if d.msgType == dhcpv4.MessageTypeRequest {
			r.leases.withdraw(mac)
		}
		d.silent(outcomeIgnored, "addressed to another server")
		return
	}
	now := r.clock.Now()
	var typ dhcpv4.MessageType
	var ip net.IP
	switch d.msgType {
	case dhcpv4.MessageTypeDiscover:
		v, ok := r.leases.offer(mac, req.RequestedIPAddress(), now)
		if !ok {
			d.silent(outcomeExhausted, "address pool exhausted")
			return
		}
		typ, ip = dhcpv4.MessageTypeOffer, uintToIP(v)
	case dhcpv4.MessageTypeRequest:
		// A client selecting an offer or rebooting names the address in
		// option 50; one renewing or rebinding puts it in ciaddr.
		want := req.RequestedIPAddress()
		if want == nil {
			want = req.ClientIPAddr
		}
		if !r.leases.bind(mac, want, now, r.cfg.Pool.LeaseTime) {
			d.reply = r.newReply(req, dhcpv4.MessageTypeNak, nil)
			d.reply.UpdateOption(dhcpv4.OptMessage("requested address not available"))
			d.outcome, d.reason = outcomeNak, "requested address not available"
			return
		}
		typ, ip = dhcpv4.MessageTypeAck, want.To4()
		d.bound = ip
	case dhcpv4.MessageTypeRelease:
		r.leases.release(mac, req.ClientIPAddr)
		d.silent(outcomeReleased, "")
		return
	case dhcpv4.MessageTypeDecline:
		r.leases.decline(mac, req.RequestedIPAddress(), now)
		d.silent(outcomeDeclined, "")
		return
	default:
		d.silent(outcomeIgnored, "message type not served")
		return
	}
	d.reply = r.newReply(req, typ, ip)
	p := r.cfg.Pool
	d.reply.UpdateOption(dhcpv4.OptSubnetMask(p.Subnet.Mask))
	if p.Router != nil {
		d.reply.UpdateOption(dhcpv4.OptRouter(p.Router))
	}
	if len(p.DNS) > 0 {
		d.reply.UpdateOption(dhcpv4.OptDNS(p.DNS...))
	}
	d.reply.UpdateOption(dhcpv4.OptIPAddressLeaseTime(p.LeaseTime))
	d.outcome = replyOutcome(typ)
	if d.client.netboot() {
		if file := r.bootFile(d.client); file != "" {
			r.addBootInfo(d.reply, req, file)
		} else {
			d.reason = "no boot file for this architecture"
		}
	}
}

func replyOutcome(typ dhcpv4.MessageType) string {
	if typ == dhcpv4.MessageTypeOffer {
		return outcomeOffer
	}
	return outcomeAck
}

// newReply starts a reply of type typ to req assigning yiaddr (nil: none).
func (r *responder) newReply(req *dhcpv4.DHCPv4, typ dhcpv4.MessageType, yiaddr net.IP) *dhcpv4.DHCPv4 {
	resp := &dhcpv4.DHCPv4{
		OpCode:        dhcpv4.OpcodeBootReply,
		HWType:        req.HWType,
		TransactionID: req.TransactionID,
		Flags:         req.Flags,
		YourIPAddr:    yiaddr,
		GatewayIPAddr: req.GatewayIPAddr,
		ClientHWAddr:  req.ClientHWAddr,
		Options:       dhcpv4.Options{},
	}
	switch typ {
	case dhcpv4.MessageTypeAck:
		resp.ClientIPAddr = req.ClientIPAddr
	case dhcpv4.MessageTypeNak:
		// RFC 2131 4.3.2: a relay must broadcast a NAK, the client's
		// address being in doubt.
		resp.SetBroadcast()
	}
	resp.UpdateOption(dhcpv4.OptMessageType(typ))
	resp.UpdateOption(dhcpv4.OptServerIdentifier(r.cfg.ServerIP))
	// RFC 6842 and RFC 3046 ask for these to be echoed.
	for _, code := range []dhcpv4.OptionCode{dhcpv4.OptionClientIdentifier, dhcpv4.OptionRelayAgentInformation} {
		if v := req.GetOneOption(code); v != nil {
			resp.UpdateOption(dhcpv4.OptGeneric(code, v))
		}
	}
	return resp
}

// addBootInfo points the client at file. The client's UUID (option 97) is
// echoed as PXE servers do; some ROMs discard replies without it.
func (r *responder) addBootInfo(resp, req *dhcpv4.DHCPv4, file string) {
	resp.ServerIPAddr = r.cfg.TFTPServer
	resp.BootFileName = file
	resp.UpdateOption(dhcpv4.OptClassIdentifier(pxeVendorClass))
	resp.UpdateOption(dhcpv4.OptTFTPServerName(r.cfg.TFTPServer.String()))
	resp.UpdateOption(dhcpv4.OptBootFileName(file))
	resp.UpdateOption(dhcpv4.OptGeneric(dhcpv4.OptionVendorSpecificInformation, pxeDiscoveryControl))
	if v := req.GetOneOption(dhcpv4.OptionClientMachineIdentifier); v != nil {
		resp.UpdateOption(dhcpv4.OptGeneric(dhcpv4.OptionClientMachineIdentifier, v))
	}
}

// destination is where reply, to a request received from peer on port, goes.
// Clients without an address get broadcasts: unicasting to yiaddr would need
// an ARP entry we cannot add from a UDP socket.
func destination(reply *dhcpv4.DHCPv4, peer *net.UDPAddr, port int) *net.UDPAddr {
	switch {
	case port == pxePort:
		return peer
	case specified(reply.GatewayIPAddr):
		return &net.UDPAddr{IP: reply.GatewayIPAddr, Port: serverPort}
	case reply.MessageType() != dhcpv4.MessageTypeNak && specified(reply.ClientIPAddr):
		return &net.UDPAddr{IP: reply.ClientIPAddr, Port: clientPort}
	}
	return &net.UDPAddr{IP: net.IPv4bcast, Port: clientPort}
}

func specified(ip net.IP) bool {
	return ip != nil && !ip.IsUnspecified()
}
