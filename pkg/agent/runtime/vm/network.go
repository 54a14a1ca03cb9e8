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

package vm

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/arcturus-cloud/arcturus/pkg/nsenter"
)

// Names of the links the runtime adds to the pod's network namespace.
const (
	podLink    = "eth0"
	bridgeLink = "vmbr0"
	tapLink    = "vmtap0"
)

// guestNetwork is the pod's network as the guest must configure it: the
// addresses and routes the sandbox put on eth0, which the runtime moved off
// eth0 when it bridged the VM onto it. It is persisted because once moved,
// they can no longer be read from eth0.
type guestNetwork struct {
	// NetNS is the sandbox's namespace path and NetNSID its inode, to tell
	// a recreated namespace at the same path.
	NetNS   string `json:"netns"`
	NetNSID uint64 `json:"netnsID"`
	MAC     string `json:"mac"`
	MTU     int    `json:"mtu"`
	// Addresses in CIDR notation, e.g. 10.1.2.3/24.
	Addresses []string     `json:"addresses"`
	Routes    []guestRoute `json:"routes,omitempty"`
}

type guestRoute struct {
	// To is a CIDR; 0.0.0.0/0 and ::/0 are default routes.
	To  string `json:"to"`
	Via string `json:"via"`
	// OnLink is set when Via is outside every address's subnet, as with
	// point-to-point pod networks that use a link-local gateway.
	OnLink bool `json:"onLink,omitempty"`
}

// ipv4 returns the first IPv4 address with its network and the IPv4 default
// gateway, if any.
func (n *guestNetwork) ipv4() (net.IP, *net.IPNet, net.IP) {
	var ip net.IP
	var ipn *net.IPNet
	for _, a := range n.Addresses {
		if i, in, err := net.ParseCIDR(a); err == nil && i.To4() != nil {
			ip, ipn = i.To4(), in
			break
		}
	}
	if ip == nil {
		return nil, nil, nil
	}
	var gw net.IP
	for _, r := range n.Routes {
		if r.To == "0.0.0.0/0" {
			gw = net.ParseIP(r.Via).To4()
			break
		}
	}
	return ip, ipn, gw
}

// kernelIPArg renders the IPv4 configuration as the kernel's (and
// initramfs-tools') ip=<client>::<gateway>:<netmask>:<hostname>::off.
func (n *guestNetwork) kernelIPArg(host string) string {
	ip, ipn, gw := n.ipv4()
	if ip == nil {
		return ""
	}
	gws := ""
	if gw != nil {
		gws = gw.String()
	}
	// ":" separates the fields; a host name cannot contain one anyway.
	host = strings.ReplaceAll(host, ":", "")
	return fmt.Sprintf("ip=%s::%s:%s:%s::off", ip, gws, net.IP(ipn.Mask).String(), host)
}

// ips returns the bare pod addresses.
func (n *guestNetwork) ips() []string {
	var out []string
	for _, a := range n.Addresses {
		if ip, _, err := net.ParseCIDR(a); err == nil {
			out = append(out, ip.String())
		}
	}
	return out
}

// netnsID returns the inode of a network namespace file.
func netnsID(path string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, fmt.Errorf("network namespace %s: %w", path, err)
	}
	return st.Ino, nil
}

// bridgeVM connects a VM to the pod network the way KubeVirt's bridge
// binding does: in the pod's namespace, eth0 and a tap device for QEMU
// become ports of a bridge, and the pod's addresses move from eth0 to the
// guest, which then owns the pod IP on the pod network. It is idempotent:
// once the addresses have moved, prev (the recorded configuration) is the
// source of truth. persist is called with the configuration before anything
// is moved, so that a crash in between loses nothing.
func bridgeVM(path, mac string, prev *guestNetwork, persist func(*guestNetwork) error) (*guestNetwork, error) {
	id, err := netnsID(path)
	if err != nil {
		return nil, err
	}
	var result *guestNetwork
	err = nsenter.Path(path, func() error {
		eth, err := netlink.LinkByName(podLink)
		if err != nil {
			return fmt.Errorf("finding %s in the pod network namespace: %w", podLink, err)
		}
		gn, addrs, err := readPodNetwork(eth)
		if err != nil {
			return err
		}
		gn.NetNS, gn.NetNSID, gn.MAC = path, id, mac
		switch {
		case len(gn.Addresses) > 0:
			// First time, or a crash before the addresses were moved.
			if err := persist(gn); err != nil {
				return err
			}
		case prev != nil && prev.NetNSID == id:
			gn = prev
		default:
			return fmt.Errorf("%s in %s has no address to give the VM", podLink, path)
		}

		br, err := ensureBridge(gn.MTU)
		if err != nil {
			return err
		}
		if err := ensureTap(br, gn.MTU); err != nil {
			return err
		}
		if eth.Attrs().MasterIndex != br.Attrs().Index {
			if err := netlink.LinkSetMaster(eth, br); err != nil {
				return fmt.Errorf("adding %s to bridge %s: %w", podLink, bridgeLink, err)
			}
		}
		// Pod networks that hairpin (the CNI bridge plugin's hairpinMode)
		// reflect the guest's own broadcasts back in through eth0; were
		// the bridge to learn from them, it would send the guest's
		// traffic back out there.
		if err := netlink.LinkSetLearning(eth, false); err != nil {
			return fmt.Errorf("turning off learning on %s: %w", podLink, err)
		}
		if err := netlink.LinkSetUp(eth); err != nil {
			return fmt.Errorf("setting %s up: %w", podLink, err)
		}
		for _, a := range addrs {
			if err := netlink.AddrDel(eth, &a); err != nil && !errors.Is(err, syscall.EADDRNOTAVAIL) {
				return fmt.Errorf("moving address %s off %s: %w", a.IPNet, podLink, err)
			}
		}
		result = gn
		return nil
	})
	if err != nil {
		return nil, err
	}
	return result, nil
}

// readPodNetwork reads the global addresses and the gateway routes of eth0.
func readPodNetwork(eth netlink.Link) (*guestNetwork, []netlink.Addr, error) {
	gn := &guestNetwork{MTU: eth.Attrs().MTU}
	all, err := netlink.AddrList(eth, netlink.FAMILY_ALL)
	if err != nil {
		return nil, nil, fmt.Errorf("listing addresses of %s: %w", podLink, err)
	}
	var addrs []netlink.Addr
	var nets []*net.IPNet
	for _, a := range all {
		if a.Scope != int(netlink.SCOPE_UNIVERSE) || a.IP.IsLinkLocalUnicast() {
			continue
		}
		addrs = append(addrs, a)
		nets = append(nets, a.IPNet)
		gn.Addresses = append(gn.Addresses, a.IPNet.String())
	}
	routes, err := netlink.RouteList(eth, netlink.FAMILY_ALL)
	if err != nil {
		return nil, nil, fmt.Errorf("listing routes of %s: %w", podLink, err)
	}
	for _, rt := range routes {
		if rt.Gw == nil {
			continue
		}
		to := "0.0.0.0/0"
		if rt.Gw.To4() == nil {
			to = "::/0"
		}
		if rt.Dst != nil {
			to = rt.Dst.String()
		}
		onLink := true
		for _, n := range nets {
			if n.Contains(rt.Gw) {
				onLink = false
			}
		}
		gn.Routes = append(gn.Routes, guestRoute{To: to, Via: rt.Gw.String(), OnLink: onLink})
	}
	return gn, addrs, nil
}

func ensureBridge(mtu int) (netlink.Link, error) {
	br, err := netlink.LinkByName(bridgeLink)
	if err != nil {
		var notFound netlink.LinkNotFoundError
		if !errors.As(err, &notFound) {
			return nil, fmt.Errorf("looking up bridge %s: %w", bridgeLink, err)
		}
		attrs := netlink.NewLinkAttrs()
		attrs.Name = bridgeLink
		attrs.MTU = mtu
		if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: attrs}); err != nil && !errors.Is(err, syscall.EEXIST) {
			return nil, fmt.Errorf("creating bridge %s: %w", bridgeLink, err)
		}
		if br, err = netlink.LinkByName(bridgeLink); err != nil {
			return nil, fmt.Errorf("looking up bridge %s: %w", bridgeLink, err)
		}
	}
	if err := netlink.LinkSetUp(br); err != nil {
		return nil, fmt.Errorf("setting bridge %s up: %w", bridgeLink, err)
	}
	return br, nil
}

// ensureTap creates the persistent tap device QEMU attaches to, as a port
// of br. It must run on a thread in the pod's namespace: tap devices are
// created with an ioctl, not over netlink.
func ensureTap(br netlink.Link, mtu int) error {
	tap, err := netlink.LinkByName(tapLink)
	if err != nil {
		var notFound netlink.LinkNotFoundError
		if !errors.As(err, &notFound) {
			return fmt.Errorf("looking up tap %s: %w", tapLink, err)
		}
		attrs := netlink.NewLinkAttrs()
		attrs.Name = tapLink
		t := &netlink.Tuntap{
			LinkAttrs: attrs,
			Mode:      netlink.TUNTAP_MODE_TAP,
			// QEMU opens it with these flags; a multi-queue mismatch would
			// make it fail.
			Flags: netlink.TUNTAP_NO_PI | netlink.TUNTAP_VNET_HDR,
		}
		if err := netlink.LinkAdd(t); err != nil {
			return fmt.Errorf("creating tap %s: %w", tapLink, err)
		}
		if tap, err = netlink.LinkByName(tapLink); err != nil {
			return fmt.Errorf("looking up tap %s: %w", tapLink, err)
		}
	}
	if tap.Attrs().MTU != mtu {
		if err := netlink.LinkSetMTU(tap, mtu); err != nil {
			return fmt.Errorf("setting the MTU of %s: %w", tapLink, err)
		}
	}
	if tap.Attrs().MasterIndex != br.Attrs().Index {
		if err := netlink.LinkSetMaster(tap, br); err != nil {
			return fmt.Errorf("adding %s to bridge %s: %w", tapLink, bridgeLink, err)
		}
	}
	if err := netlink.LinkSetUp(tap); err != nil {
		return fmt.Errorf("setting %s up: %w", tapLink, err)
	}
	return nil
}

// unbridgeVM removes the tap device and the bridge and gives eth0 its
// addresses back, best effort, before the sandbox goes: the namespace would
// take the links with it, but not what the network plugin set up outside
// it for the addresses.
func unbridgeVM(gn *guestNetwork) error {
	if _, err := netnsID(gn.NetNS); err != nil {
		return nil // namespace gone, and the links with it
	}
	return nsenter.Path(gn.NetNS, func() error {
		var errs []error
		for _, name := range []string{tapLink, bridgeLink} {
			l, err := netlink.LinkByName(name)
			if err != nil {
				continue
			}
			if err := netlink.LinkDel(l); err != nil {
				errs = append(errs, fmt.Errorf("deleting %s: %w", name, err))
			}
		}
		// The pod's addresses go back on eth0: the network plugin finds
		// what to tear down (masquerading rules among it) by them.
		eth, err := netlink.LinkByName(podLink)
		if err != nil {
			return errors.Join(append(errs, fmt.Errorf("finding %s: %w", podLink, err))...)
		}
		for _, a := range gn.Addresses {
			addr, err := netlink.ParseAddr(a)
			if err != nil {
				errs = append(errs, fmt.Errorf("address %s: %w", a, err))
				continue
			}
			if err := netlink.AddrAdd(eth, addr); err != nil && !errors.Is(err, syscall.EEXIST) {
				errs = append(errs, fmt.Errorf("restoring %s on %s: %w", a, podLink, err))
			}
		}
		return errors.Join(errs...)
	})
}
