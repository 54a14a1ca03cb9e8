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
	"container/heap"
	"container/list"
	"net"
	"time"
)

const (
	// maxLeases caps the lease table whatever the pool size, bounding memory
	// under a flood of DISCOVERs with random MACs.
	maxLeases = 1 << 16
	// offerTimeout is how long an offered address waits for its REQUEST.
	// PXE ROMs answer within seconds; a short hold keeps floods from
	// pinning the pool.
	offerTimeout = 30 * time.Second
	// declineHold keeps an address a client found in use (DECLINE) out of
	// the pool for a while.
	declineHold = 10 * time.Minute
)

type leaseState uint8

const (
	stateFree leaseState = iota
	stateOffered
	stateBound
	stateDeclined
)

// lease is one pool address and the MAC it belongs to. Free leases keep
// their MAC so that a returning client gets its address back; they are
// reassigned, oldest first, only when the pool has no unused address.
type lease struct {
	mac    string // "" for a declined address
	ip     uint32
	state  leaseState
	expiry time.Time
	index  int           // position in leaseTable.active, -1 if free
	elem   *list.Element // position in leaseTable.free, nil if active
}

// leaseTable allocates pool addresses. It is not safe for concurrent use.
type leaseTable struct {
	first    uint32
	size     uint64
	excluded map[uint32]bool
	limit    int
	// next is the offset from first of the next address never handed out.
	next   uint64
	byMAC  map[string]*lease
	byIP   map[uint32]*lease
	active leaseHeap
	free   *list.List
}

func newLeaseTable(p *PoolConfig, serverIP net.IP) *leaseTable {
	first := ipToUint(p.Start)
	t := &leaseTable{
		first:    first,
		size:     uint64(ipToUint(p.End)-first) + 1,
		excluded: p.reserved(serverIP),
		byMAC:    map[string]*lease{},
		byIP:     map[uint32]*lease{},
		free:     list.New(),
	}
	t.limit = int(min(t.size, maxLeases))
	return t
}

// offer returns the address to offer mac: its own if it has one, else hint
// if that is free, else any free address. ok is false if the pool is full.
func (t *leaseTable) offer(mac string, hint net.IP, now time.Time) (ip uint32, ok bool) {
	t.expire(now)
	l := t.byMAC[mac]
	if l == nil {
		if l = t.claim(mac, hint); l == nil {
			if l = t.allocate(mac); l == nil {
				return 0, false
			}
		}
	}
	if l.state != stateBound {
		t.activate(l, stateOffered, now.Add(offerTimeout))
	}
	return l.ip, true
}

// bind binds ip to mac for d, as asked by a REQUEST. It fails if mac holds
// another address or ip is not free for it.
func (t *leaseTable) bind(mac string, ip net.IP, now time.Time, d time.Duration) bool {
	t.expire(now)
	l := t.byMAC[mac]
	if l == nil {
		l = t.claim(mac, ip)
	} else if ip.To4() == nil || l.ip != ipToUint(ip) {
		return false
	}
	if l == nil {
		return false
	}
	t.activate(l, stateBound, now.Add(d))
	return true
}

// release frees the address mac holds if it is ip, keeping it for mac's
// return (RELEASE).
func (t *leaseTable) release(mac string, ip net.IP) {
	if l := t.byMAC[mac]; l != nil && l.state != stateFree && ip.To4() != nil && l.ip == ipToUint(ip) {
		t.deactivate(l)
	}
}

// withdraw frees an offer mac did not take: it chose another server.
func (t *leaseTable) withdraw(mac string) {
	if l := t.byMAC[mac]; l != nil && l.state == stateOffered {
		t.deactivate(l)
	}
}

// decline takes ip, which mac reports in use by someone else, out of the pool
// for declineHold and forgets that mac had it.
func (t *leaseTable) decline(mac string, ip net.IP, now time.Time) {
	l := t.byMAC[mac]
	if l == nil || ip.To4() == nil || l.ip != ipToUint(ip) {
		return
	}
	delete(t.byMAC, mac)
	l.mac = ""
	t.activate(l, stateDeclined, now.Add(declineHold))
}

// claim returns a new lease for mac on ip if ip is a pool address that was
// never handed out.
func (t *leaseTable) claim(mac string, ip net.IP) *lease {
	if ip.To4() == nil || len(t.byIP) >= t.limit {
		return nil
	}
	v := ipToUint(ip)
	if v < t.first || uint64(v-t.first) >= t.size || t.excluded[v] || t.byIP[v] != nil {
		return nil
	}
	return t.add(mac, v)
}

// allocate returns a lease for mac on an address never handed out, or else
// takes over the longest-free lease.
func (t *leaseTable) allocate(mac string) *lease {
	for t.next < t.size && len(t.byIP) < t.limit {
		v := t.first + uint32(t.next)
		t.next++
		if !t.excluded[v] && t.byIP[v] == nil {
			return t.add(mac, v)
		}
	}
	e := t.free.Front()
	if e == nil {
		return nil
	}
	l := e.Value.(*lease)
	if t.byMAC[l.mac] == l {
		delete(t.byMAC, l.mac)
	}
	l.mac = mac
	t.byMAC[mac] = l
	return l
}

func (t *leaseTable) add(mac string, ip uint32) *lease {
	l := &lease{mac: mac, ip: ip, index: -1}
	l.elem = t.free.PushBack(l)
	t.byMAC[mac] = l
	t.byIP[ip] = l
	return l
}

// expire frees every active lease whose time is up.
func (t *leaseTable) expire(now time.Time) {
	for len(t.active) > 0 && !t.active[0].expiry.After(now) {
		t.deactivate(t.active[0])
	}
}

func (t *leaseTable) activate(l *lease, s leaseState, expiry time.Time) {
	if l.elem != nil {
		t.free.Remove(l.elem)
		l.elem = nil
	}
	t.setState(l, s)
	l.expiry = expiry
	if l.index >= 0 {
		heap.Fix(&t.active, l.index)
	} else {
		heap.Push(&t.active, l)
	}
}

func (t *leaseTable) deactivate(l *lease) {
	heap.Remove(&t.active, l.index)
	t.setState(l, stateFree)
	l.elem = t.free.PushBack(l)
}

// setState keeps the leases-in-use gauge in step with bound leases.
func (t *leaseTable) setState(l *lease, s leaseState) {
	if l.state == stateBound {
		leasesInUse.Dec()
	}
	if s == stateBound {
		leasesInUse.Inc()
	}
	l.state = s
}

// leaseHeap orders active leases by expiry, soonest first.
type leaseHeap []*lease

func (h leaseHeap) Len() int           { return len(h) }
func (h leaseHeap) Less(i, j int) bool { return h[i].expiry.Before(h[j].expiry) }
func (h leaseHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}

func (h *leaseHeap) Push(x any) {
	l := x.(*lease)
	l.index = len(*h)
	*h = append(*h, l)
}

func (h *leaseHeap) Pop() any {
	old := *h
	l := old[len(old)-1]
	old[len(old)-1] = nil
	l.index = -1
	*h = old[:len(old)-1]
	return l
}
