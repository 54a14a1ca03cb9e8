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

package inventory

import (
	"net"
	"slices"

	"github.com/vishvananda/netlink"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
)

// NeighborMAC is the link-layer address the kernel's neighbour table holds
// for ip, the address a request just came from: on the boot network, the
// MAC of the machine that sent it. It reports false when the table has no
// usable entry, as for a requester behind a router or on loopback.
func NeighborMAC(ip string) (string, bool) {
	addr := net.ParseIP(ip)
	if addr == nil || addr.IsLoopback() {
		return "", false
	}
	neighbors, err := netlink.NeighList(0, netlink.FAMILY_ALL)
	if err != nil {
		return "", false
	}
	for _, n := range neighbors {
		if n.IP.Equal(addr) && len(n.HardwareAddr) == 6 && n.State&(netlink.NUD_FAILED|netlink.NUD_INCOMPLETE) == 0 {
			return n.HardwareAddr.String(), true
		}
	}
	return "", false
}

// MACs are the MAC addresses of the interfaces of hw (which may be nil),
// as NormalizeMAC writes them. FindServer never looks up an empty one.
func MACs(hw *metalv1alpha1.Hardware) []string {
	if hw == nil {
		return nil
	}
	var macs []string
	for _, nic := range hw.Network.Interfaces {
		macs = append(macs, NormalizeMAC(nic.MAC))
	}
	return macs
}

// Impostor is whether a request from ip claiming to be a machine with the
// interfaces macs provably comes from another machine: the neighbour table
// names a MAC for ip that is not one of them. Without a neighbour entry
// the request is given the benefit of the doubt, so routed boot networks
// still work; on a flat boot network a machine cannot pass for another.
func Impostor(ip string, macs []string) bool {
	mac, ok := NeighborMAC(ip)
	return ok && len(macs) > 0 && !slices.Contains(macs, mac)
}
