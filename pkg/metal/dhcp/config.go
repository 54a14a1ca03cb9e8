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
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/insomniacslk/dhcp/iana"
)

// Mode selects how the server takes part in address assignment.
type Mode string

const (
	// ModeOff runs no DHCP server; callers check for it and do not start one.
	ModeOff Mode = "off"
	// ModeProxy answers only PXE clients, with boot information and no
	// address, next to the site's own DHCP server (proxyDHCP in the PXE
	// specification). The site's server must not run on this host: the
	// kernel prefers our interface-bound socket for unicast to port 67.
	ModeProxy Mode = "proxy"
	// ModeFull assigns addresses from a pool to every client, for isolated
	// networks with no other DHCP server.
	ModeFull Mode = "full"
)

// Defaults for Config fields left empty.
const (
	DefaultBIOSBootFile = "undionly.kpxe"
	DefaultUEFIBootFile = "ipxe.efi"
	DefaultLeaseTime    = time.Hour
)

// bootFileLen is the size of the BOOTP file field less its terminating NUL;
// boot files go in that field as well as in option 67 because many PXE ROMs
// read only the field.
const bootFileLen = 127

// Config configures a Server.
type Config struct {
	Mode Mode
	// Interface is the only interface served. It is required: a DHCP
	// server answering on every interface could take over an uplink.
	Interface string
	// ServerIP is this host's IPv4 address on Interface, sent as the
	// server identifier (option 54).
	ServerIP net.IP
	// TFTPServer serves the boot files (siaddr and option 66); defaults to
	// ServerIP.
	TFTPServer net.IP
	// IPXEScriptURL is the boot file for clients that already run iPXE,
	// so that they fetch their script instead of chainloading iPXE again.
	IPXEScriptURL string
	// BIOSBootFile and UEFIBootFile are the TFTP file names of iPXE for
	// legacy BIOS and x86-64 UEFI clients.
	BIOSBootFile string
	UEFIBootFile string
	// Pool is the address pool of ModeFull; it must be nil in ModeProxy.
	Pool *PoolConfig
	// Observe, if set, is called for every reply other than a NAK, before
	// the reply is sent, from the serving goroutine: it must not block.
	Observe func(Observation)
}

// PoolConfig is the address pool and network configuration handed out in
// ModeFull.
type PoolConfig struct {
	// Start and End bound the pool, inclusive. ServerIP and Router are never
	// assigned even when they fall inside.
	Start, End net.IP
	Subnet     *net.IPNet
	// Router (option 3) and DNS (option 6) are optional.
	Router    net.IP
	DNS       []net.IP
	LeaseTime time.Duration
}

// Observation is what the server learnt about a client from one exchange.
type Observation struct {
	MAC net.HardwareAddr
	// UUID is the client's SMBIOS system UUID from option 97, in lower-case
	// canonical form, or "" if the client sent none. PXE sends the UUID as
	// stored by SMBIOS 2.6 and later, its first three fields little-endian;
	// they are decoded as such, so UUID equals what Linux shows in
	// /sys/class/dmi/id/product_uuid on that machine.
	UUID string
	// PXE reports a PXE client (option 60 starting with "PXEClient"); Arch
	// is then its architecture (option 93).
	PXE  bool
	Arch iana.Arch
	// IPXE reports a client that is already running iPXE.
	IPXE bool
	// IP is the address bound to the client by an ACK in ModeFull, else nil.
	IP net.IP
}

// complete validates c and fills in defaults. It copies Pool so that the
// caller's value is never modified.
func (c *Config) complete() error {
	if c.Mode != ModeProxy && c.Mode != ModeFull {
		return fmt.Errorf("mode %q: want %q or %q", c.Mode, ModeProxy, ModeFull)
	}
	if c.Interface == "" {
		return errors.New("interface is required")
	}
	if c.ServerIP = c.ServerIP.To4(); c.ServerIP == nil || c.ServerIP.IsUnspecified() {
		return errors.New("server IP must be an IPv4 address")
	}
	if c.TFTPServer == nil {
		c.TFTPServer = c.ServerIP
	}
	if c.TFTPServer = c.TFTPServer.To4(); c.TFTPServer == nil {
		return errors.New("TFTP server must be an IPv4 address")
	}
	if err := validateScriptURL(c.IPXEScriptURL); err != nil {
		return fmt.Errorf("iPXE script URL: %w", err)
	}
	if c.BIOSBootFile == "" {
		c.BIOSBootFile = DefaultBIOSBootFile
	}
	if c.UEFIBootFile == "" {
		c.UEFIBootFile = DefaultUEFIBootFile
	}
	for _, f := range []string{c.BIOSBootFile, c.UEFIBootFile} {
		if len(f) > bootFileLen {
			return fmt.Errorf("boot file %q is longer than %d bytes", f, bootFileLen)
		}
	}
	switch {
	case c.Mode == ModeProxy && c.Pool != nil:
		return errors.New("an address pool is only used in full mode")
	case c.Mode == ModeFull && c.Pool == nil:
		return errors.New("full mode needs an address pool")
	case c.Mode == ModeFull:
		p := *c.Pool
		if err := p.complete(c.ServerIP); err != nil {
			return fmt.Errorf("pool: %w", err)
		}
		c.Pool = &p
	}
	return nil
}

func validateScriptURL(s string) error {
	if s == "" {
		return errors.New("required")
	}
	if len(s) > bootFileLen {
		return fmt.Errorf("longer than %d bytes", bootFileLen)
	}
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http or https URL", s)
	}
	return nil
}

func (p *PoolConfig) complete(serverIP net.IP) error {
	if p.Subnet == nil || p.Subnet.IP.To4() == nil {
		return errors.New("subnet must be an IPv4 network")
	}
	ones, bits := p.Subnet.Mask.Size()
	if bits != 32 || ones < 1 || ones > 30 {
		return fmt.Errorf("subnet %s: want an IPv4 prefix between /1 and /30", p.Subnet)
	}
	p.Subnet = &net.IPNet{IP: p.Subnet.IP.To4().Mask(p.Subnet.Mask), Mask: p.Subnet.Mask}
	network, broadcast := subnetBounds(p.Subnet)
	inside := func(what string, ip net.IP) (net.IP, error) {
		if ip = ip.To4(); ip == nil {
			return nil, fmt.Errorf("%s must be an IPv4 address", what)
		}
		if !p.Subnet.Contains(ip) {
			return nil, fmt.Errorf("%s %s is outside subnet %s", what, ip, p.Subnet)
		}
		return ip, nil
	}
	var err error
	if p.Start, err = inside("start", p.Start); err != nil {
		return err
	}
	if p.End, err = inside("end", p.End); err != nil {
		return err
	}
	if _, err = inside("server IP", serverIP); err != nil {
		return err
	}
	if p.Router != nil {
		if p.Router, err = inside("router", p.Router); err != nil {
			return err
		}
	}
	first, last := ipToUint(p.Start), ipToUint(p.End)
	if first > last {
		return fmt.Errorf("start %s is after end %s", p.Start, p.End)
	}
	if first == network || last == broadcast {
		return fmt.Errorf("range %s-%s includes the network or broadcast address of %s", p.Start, p.End, p.Subnet)
	}
	reserved := 0
	for v := range p.reserved(serverIP) {
		if v >= first && v <= last {
			reserved++
		}
	}
	if uint64(last-first)+1 == uint64(reserved) {
		return fmt.Errorf("range %s-%s has no address besides the server and router", p.Start, p.End)
	}
	dns := make([]net.IP, len(p.DNS))
	for i, ip := range p.DNS {
		if dns[i] = ip.To4(); dns[i] == nil {
			return fmt.Errorf("DNS server %s is not an IPv4 address", ip)
		}
	}
	p.DNS = dns
	switch {
	case p.LeaseTime == 0:
		p.LeaseTime = DefaultLeaseTime
	case p.LeaseTime < time.Minute || p.LeaseTime > maxLeaseTime:
		return fmt.Errorf("lease time %s: want between 1m and %s", p.LeaseTime, maxLeaseTime)
	}
	return nil
}

// reserved returns the addresses never assigned from the pool.
func (p *PoolConfig) reserved(serverIP net.IP) map[uint32]bool {
	r := map[uint32]bool{ipToUint(serverIP): true}
	if p.Router != nil {
		r[ipToUint(p.Router)] = true
	}
	return r
}

// maxLeaseTime is the longest lease option 51 can carry short of "infinite".
const maxLeaseTime = (1<<32 - 2) * time.Second

// subnetBounds returns the network and broadcast addresses of an IPv4 subnet.
func subnetBounds(n *net.IPNet) (network, broadcast uint32) {
	network = ipToUint(n.IP)
	ones, _ := n.Mask.Size()
	return network, network | (1<<(32-ones) - 1)
}

func ipToUint(ip net.IP) uint32 {
	ip = ip.To4()
	return uint32(ip[0])<<24 | uint32(ip[1])<<16 | uint32(ip[2])<<8 | uint32(ip[3])
}

func uintToIP(v uint32) net.IP {
	return net.IPv4(byte(v>>24), byte(v>>16), byte(v>>8), byte(v)).To4()
}
