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
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/vishvananda/netlink"
	"k8s.io/klog/v2"
)

const (
	// carrierTimeout is how long an interface may take to get link after
	// it is brought up; copper autonegotiation takes a few seconds.
	carrierTimeout = 15 * time.Second
	// dhcpTimeout bounds one DHCP exchange, retransmissions included.
	dhcpTimeout = 30 * time.Second
	// renewRetry is the delay between failed lease renewals.
	renewRetry = 30 * time.Second
)

// linkAddresses is the AddressFunc of the running system. Link-local
// addresses are left out: they mean nothing beyond the link.
func linkAddresses(name string) ([]string, error) {
	link, err := netlink.LinkByName(name)
	if err != nil {
		return nil, err
	}
	addrs, err := netlink.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range addrs {
		if !a.IP.IsLinkLocalUnicast() {
			out = append(out, a.IPNet.String())
		}
	}
	return out, nil
}

// configureNetwork brings up the loopback and every physical interface,
// and configures from DHCP those where a server answers, retrying with
// back-off until one does. It keeps the leases renewed, in goroutines of
// wg, until ctx ends.
func configureNetwork(ctx context.Context, root string, wg *sync.WaitGroup) error {
	log := klog.FromContext(ctx)
	if lo, err := netlink.LinkByName("lo"); err == nil {
		if err := netlink.LinkSetUp(lo); err != nil {
			log.Error(err, "Cannot bring up the loopback interface")
		}
	}
	return retry(ctx, "configure the network", func() error {
		links, err := physicalLinks(root)
		if err != nil {
			return err
		}
		leases := make([]*nclient4.Lease, len(links))
		errs := make([]error, len(links))
		var lwg sync.WaitGroup
		for i, l := range links {
			lwg.Go(func() { leases[i], errs[i] = acquire(ctx, l) })
		}
		lwg.Wait()
		configured := false
		for i, l := range links {
			if errs[i] == nil {
				errs[i] = applyLease(l, leases[i], root)
			}
			if errs[i] != nil {
				continue
			}
			configured = true
			log.Info("Configured a network interface from DHCP", "interface", l.Attrs().Name,
				"address", leases[i].ACK.YourIPAddr, "routers", leases[i].ACK.Router(), "lease", leases[i].ACK.IPAddressLeaseTime(0))
			wg.Go(func() { keepLease(ctx, l, leases[i], root) })
		}
		if !configured {
			return errors.Join(errs...)
		}
		return nil
	})
}

// physicalLinks returns the interfaces backed by a device.
func physicalLinks(root string) ([]netlink.Link, error) {
	all, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("listing network interfaces: %w", err)
	}
	var links []netlink.Link
	for _, l := range all {
		if _, err := os.Stat(filepath.Join(root, "sys/class/net", l.Attrs().Name, "device")); err == nil {
			links = append(links, l)
		}
	}
	if len(links) == 0 {
		return nil, errors.New("no network interface has a driver")
	}
	return links, nil
}

// acquire brings link up, waits for its carrier and gets a DHCP lease.
func acquire(ctx context.Context, link netlink.Link) (*nclient4.Lease, error) {
	name := link.Attrs().Name
	if err := netlink.LinkSetUp(link); err != nil {
		return nil, fmt.Errorf("%s: bringing up: %w", name, err)
	}
	if err := waitCarrier(ctx, link); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c, err := nclient4.New(name)
	if err != nil {
		return nil, fmt.Errorf("%s: DHCP: %w", name, err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, dhcpTimeout)
	defer cancel()
	lease, err := c.Request(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: DHCP: %w", name, err)
	}
	return lease, nil
}

func waitCarrier(ctx context.Context, link netlink.Link) error {
	ctx, cancel := context.WithTimeout(ctx, carrierTimeout)
	defer cancel()
	for {
		l, err := netlink.LinkByIndex(link.Attrs().Index)
		if err != nil {
			return err
		}
		if l.Attrs().OperState == netlink.OperUp {
			return nil
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return errors.New("no link")
		}
	}
}

// applyLease configures the lease's address, its default route, with a
// metric per interface so that several can coexist, and its DNS servers.
func applyLease(link netlink.Link, lease *nclient4.Lease, root string) error {
	ack := lease.ACK
	name := link.Attrs().Name
	ipnet := leaseIPNet(ack)
	if err := netlink.AddrReplace(link, &netlink.Addr{IPNet: ipnet}); err != nil {
		return fmt.Errorf("%s: adding %s: %w", name, ipnet, err)
	}
	if routers := ack.Router(); len(routers) > 0 {
		r := &netlink.Route{LinkIndex: link.Attrs().Index, Gw: routers[0], Priority: 100 + link.Attrs().Index}
		if !ipnet.Contains(routers[0]) {
			r.Flags = int(netlink.FLAG_ONLINK)
		}
		if err := netlink.RouteReplace(r); err != nil {
			return fmt.Errorf("%s: default route via %s: %w", name, routers[0], err)
		}
	}
	// The metal service's URL may name a host.
	if dns := ack.DNS(); len(dns) > 0 {
		var b strings.Builder
		for _, s := range dns {
			fmt.Fprintf(&b, "nameserver %s\n", s)
		}
		if err := os.WriteFile(filepath.Join(root, "etc/resolv.conf"), []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("writing resolv.conf: %w", err)
		}
	}
	return nil
}

// leaseIPNet is the address and subnet a DHCP server gave.
func leaseIPNet(ack *dhcpv4.DHCPv4) *net.IPNet {
	mask := ack.SubnetMask()
	if mask == nil {
		mask = ack.YourIPAddr.DefaultMask()
	}
	return &net.IPNet{IP: ack.YourIPAddr, Mask: mask}
}

// keepLease renews the lease at its renewal time, so that the DHCP server
// does not give the address away while the agent waits or wipes for
// hours. A server that refuses the renewal gets a new request.
func keepLease(ctx context.Context, link netlink.Link, lease *nclient4.Lease, root string) {
	log := klog.FromContext(ctx).WithValues("interface", link.Attrs().Name)
	for {
		// A server that says 0 must not make the agent renew in a loop.
		t1 := max(lease.ACK.IPAddressRenewalTime(lease.ACK.IPAddressLeaseTime(time.Hour)/2), time.Minute)
		var next *nclient4.Lease
		for wait := time.Until(lease.CreationTime.Add(t1)); ; wait = renewRetry {
			if sleep(ctx, wait) != nil {
				return
			}
			var err error
			if next, err = renew(ctx, link, lease); err == nil {
				break
			}
			log.Error(err, "Cannot renew the DHCP lease")
		}
		if old := lease.ACK.YourIPAddr; !old.Equal(next.ACK.YourIPAddr) {
			if err := netlink.AddrDel(link, &netlink.Addr{IPNet: leaseIPNet(lease.ACK)}); err != nil {
				log.Error(err, "Cannot remove the address of the previous DHCP lease", "address", old)
			}
		}
		if err := applyLease(link, next, root); err != nil {
			log.Error(err, "Cannot apply the renewed DHCP lease")
		}
		lease = next
	}
}

func renew(ctx context.Context, link netlink.Link, lease *nclient4.Lease) (*nclient4.Lease, error) {
	c, err := nclient4.New(link.Attrs().Name)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, dhcpTimeout)
	defer cancel()
	next, err := c.Renew(ctx, lease)
	var nak *nclient4.ErrNak
	if errors.As(err, &nak) {
		return c.Request(ctx)
	}
	return next, err
}
