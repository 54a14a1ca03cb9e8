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
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"k8s.io/component-base/metrics/testutil"
	"k8s.io/klog/v2/ktesting"
)

// The test network: a veth pair between two fresh network namespaces, the
// server's end 10.77.0.1/24 and the client's 10.77.0.2/24.
const (
	srvIf = "arcsrv0"
	cliIf = "arccli0"
)

var (
	cliIP   = net.IPv4(10, 77, 0, 2).To4()
	nsCount atomic.Int32
)

type testNet struct {
	srv, cli netns.NsHandle
	cliName  string // of the client's namespace in /run/netns
	cliMAC   net.HardwareAddr
}

// newTestNet builds the test network, or skips the test where namespaces
// cannot be made.
func newTestNet(t *testing.T) *testNet {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	n := &testNet{}
	base := fmt.Sprintf("arc-dhcp-%d-%d", os.Getpid(), nsCount.Add(1))
	n.cliName = base + "-cli"
	// NewNamed moves the calling thread into the namespace it makes.
	n.inNS(t, netns.None(), func() {
		var err error
		for _, ns := range []struct {
			h    *netns.NsHandle
			name string
		}{{&n.srv, base + "-srv"}, {&n.cli, n.cliName}} {
			if *ns.h, err = netns.NewNamed(ns.name); err != nil {
				t.Skipf("cannot create network namespace: %v", err)
			}
			t.Cleanup(func() {
				_ = ns.h.Close()
				if err := netns.DeleteNamed(ns.name); err != nil {
					t.Errorf("deleting namespace %s: %v", ns.name, err)
				}
			})
		}
	})
	hs, err := netlink.NewHandleAt(n.srv)
	if err != nil {
		t.Fatal(err)
	}
	defer hs.Close()
	hc, err := netlink.NewHandleAt(n.cli)
	if err != nil {
		t.Fatal(err)
	}
	defer hc.Close()
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: srvIf}, PeerName: cliIf, PeerNamespace: netlink.NsFd(int(n.cli))}
	if err := hs.LinkAdd(veth); err != nil {
		t.Fatalf("creating veth pair: %v", err)
	}
	configure(t, hs, srvIf, "10.77.0.1/24")
	configure(t, hc, cliIf, "10.77.0.2/24")
	waitUp(t, hs, srvIf)
	n.cliMAC = waitUp(t, hc, cliIf)
	return n
}

// configure brings link up with address cidr.
func configure(t *testing.T, h *netlink.Handle, name, cidr string) {
	t.Helper()
	link, err := h.LinkByName(name)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := netlink.ParseAddr(cidr)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.AddrAdd(link, addr); err != nil {
		t.Fatalf("adding %s to %s: %v", cidr, name, err)
	}
	if err := h.LinkSetUp(link); err != nil {
		t.Fatalf("bringing %s up: %v", name, err)
	}
}

// waitUp waits for link to have a carrier, which a veth has once both ends
// are up, and returns its MAC.
func waitUp(t *testing.T, h *netlink.Handle, name string) net.HardwareAddr {
	t.Helper()
	var mac net.HardwareAddr
	eventually(t, name+" to be up", func() bool {
		link, err := h.LinkByName(name)
		if err != nil {
			t.Fatal(err)
		}
		mac = link.Attrs().HardwareAddr
		return link.Attrs().OperState == netlink.OperUp
	})
	return mac
}

// eventually fails the test unless cond holds within 10 seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// inNS runs fn on a thread in ns (None: the current one), then moves the
// thread back.
func (n *testNet) inNS(t *testing.T, ns netns.NsHandle, fn func()) {
	t.Helper()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer orig.Close()
	defer func() {
		// A thread left in another namespace stays locked, so that Go
		// discards it with the goroutine.
		if err := netns.Set(orig); err != nil {
			t.Errorf("restoring network namespace: %v", err)
			return
		}
		runtime.UnlockOSThread()
	}()
	if ns != netns.None() {
		if err := netns.Set(ns); err != nil {
			t.Fatal(err)
		}
	}
	fn()
}

// serve runs a server with cfg on the server's end until the test ends.
func (n *testNet) serve(t *testing.T, cfg Config) {
	t.Helper()
	cfg.Interface = srvIf
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the thread is discarded with its namespace.
		runtime.LockOSThread()
		if err := netns.Set(n.srv); err != nil {
			errc <- err
			return
		}
		errc <- s.Serve(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	ports := []int{serverPort}
	if cfg.Mode == ModeProxy {
		ports = append(ports, pxePort)
	}
	n.inNS(t, n.srv, func() {
		for _, port := range ports {
			waitListening(t, port)
		}
	})
}

// waitListening waits for a UDP socket on port in the current thread's
// network namespace.
func waitListening(t *testing.T, port int) {
	t.Helper()
	pattern := fmt.Sprintf(":%04X ", port)
	eventually(t, fmt.Sprintf("a socket on UDP port %d", port), func() bool {
		table, err := os.ReadFile("/proc/thread-self/net/udp")
		if err != nil {
			t.Fatal(err)
		}
		return strings.Contains(string(table), pattern)
	})
}

// client returns a DHCP client on the client's end.
func (n *testNet) client(t *testing.T, opts ...nclient4.ClientOpt) *nclient4.Client {
	t.Helper()
	var c *nclient4.Client
	n.inNS(t, n.cli, func() {
		var err error
		if c, err = nclient4.New(cliIf, append([]nclient4.ClientOpt{nclient4.WithTimeout(time.Second), nclient4.WithRetry(3)}, opts...)...); err != nil {
			t.Fatalf("creating DHCP client: %v", err)
		}
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

type observer struct {
	mu  sync.Mutex
	obs []Observation
}

func (o *observer) observe(ob Observation) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.obs = append(o.obs, ob)
}

// last returns the latest observation of mac.
func (o *observer) last(mac net.HardwareAddr) (Observation, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := len(o.obs) - 1; i >= 0; i-- {
		if o.obs[i].MAC.String() == mac.String() {
			return o.obs[i], true
		}
	}
	return Observation{}, false
}

func TestServeFull(t *testing.T) {
	n := newTestNet(t)
	var o observer
	cfg := testConfig(ModeFull)
	cfg.Observe = o.observe
	n.serve(t, cfg)
	ctx := t.Context()

	// A BIOS PXE ROM: "PXEClient:Arch:00000:UNDI:002001", arch 0, a GUID.
	pxe := pxeClient(iana.INTEL_X86PC)
	lease, err := n.client(t).Request(ctx, pxe...)
	if err != nil {
		t.Fatalf("PXE DORA: %v", err)
	}
	ip := lease.ACK.YourIPAddr
	if !inPool(cfg.Pool, ip) {
		t.Fatalf("leased %s, outside the pool", ip)
	}
	checkBootInfo(t, lease.ACK, "undionly.kpxe")
	if got, ok := o.last(n.cliMAC); !ok || got.UUID != testUUID || got.Arch != iana.INTEL_X86PC || !got.PXE || got.IPXE || !got.IP.Equal(ip) {
		t.Errorf("observed %+v", got)
	}

	// iPXE on the same machine: same address, and the boot script.
	lease, err = n.client(t).Request(ctx, ipxeClient(iana.INTEL_X86PC)...)
	if err != nil {
		t.Fatalf("iPXE DORA: %v", err)
	}
	if !lease.ACK.YourIPAddr.Equal(ip) || lease.ACK.BootFileName != testScript {
		t.Errorf("iPXE got %s and %q, want %s and the script", lease.ACK.YourIPAddr, lease.ACK.BootFileName, ip)
	}

	// Another machine gets another address.
	other := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x42}
	lease, err = n.client(t, nclient4.WithHWAddr(other)).Request(ctx, pxe...)
	if err != nil {
		t.Fatalf("second machine: %v", err)
	}
	if lease.ACK.YourIPAddr.Equal(ip) || !inPool(cfg.Pool, lease.ACK.YourIPAddr) {
		t.Errorf("second machine got %s", lease.ACK.YourIPAddr)
	}
}

// TestServeLinuxClient has busybox's udhcpc, as in a booted OS, ask for an
// address after the machine's PXE ROM did: it gets the same, no boot file.
func TestServeLinuxClient(t *testing.T) {
	if _, err := exec.LookPath("busybox"); err != nil {
		t.Skip("busybox is not installed")
	}
	n := newTestNet(t)
	var o observer
	cfg := testConfig(ModeFull)
	cfg.Observe = o.observe
	n.serve(t, cfg)
	lease, err := n.client(t).Request(t.Context(), pxeClient(iana.INTEL_X86PC)...)
	if err != nil {
		t.Fatalf("PXE DORA: %v", err)
	}
	ip := lease.ACK.YourIPAddr
	out, err := exec.CommandContext(t.Context(), "ip", "netns", "exec", n.cliName,
		"busybox", "udhcpc", "-i", cliIf, "-f", "-q", "-n", "-t", "5", "-T", "1", "-s", "/bin/true").CombinedOutput()
	if err != nil {
		t.Fatalf("udhcpc: %v\n%s", err, out)
	}
	if m := regexp.MustCompile(`lease of (\S+) obtained`).FindSubmatch(out); m == nil || string(m[1]) != ip.String() {
		t.Errorf("udhcpc did not lease %s:\n%s", ip, out)
	}
	if got, _ := o.last(n.cliMAC); got.PXE || got.IPXE || !got.IP.Equal(ip) {
		t.Errorf("observed %+v after udhcpc", got)
	}
}

func TestServeProxy(t *testing.T) {
	n := newTestNet(t)
	n.serve(t, testConfig(ModeProxy))
	ctx := t.Context()
	for i, tc := range []struct {
		name string
		mods []dhcpv4.Modifier
		file string
	}{
		{"BIOS", pxeClient(iana.INTEL_X86PC), "undionly.kpxe"},
		{"UEFI", pxeClient(iana.EFI_X86_64), "ipxe.efi"},
		{"iPXE", ipxeClient(iana.EFI_X86_64), testScript},
	} {
		mac := macN(0x100 + i)
		offer, err := n.client(t, nclient4.WithHWAddr(mac)).DiscoverOffer(ctx, tc.mods...)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !offer.YourIPAddr.IsUnspecified() {
			t.Errorf("%s: offered address %s", tc.name, offer.YourIPAddr)
		}
		checkBootInfo(t, offer, tc.file)
	}

	// Not a PXE client: no answer.
	c := n.client(t, nclient4.WithTimeout(300*time.Millisecond), nclient4.WithRetry(1))
	if offer, err := c.DiscoverOffer(ctx); err == nil {
		t.Errorf("non-PXE client got %s", offer.Summary())
	}

	// Boot server request, unicast from the address the site's server gave.
	c = n.client(t, nclient4.WithUnicast(&net.UDPAddr{IP: cliIP}), nclient4.WithServerAddr(&net.UDPAddr{IP: testServerIP, Port: pxePort}))
	req := newRequest(t, dhcpv4.MessageTypeRequest, n.cliMAC, append(pxeClient(iana.EFI_X86_64), dhcpv4.WithClientIP(cliIP))...)
	ack, err := c.SendAndRead(ctx, c.RemoteAddr(), req, nclient4.IsMessageType(dhcpv4.MessageTypeAck))
	if err != nil {
		t.Fatalf("boot server request: %v", err)
	}
	if !ack.YourIPAddr.IsUnspecified() || !ack.ClientIPAddr.Equal(cliIP) {
		t.Errorf("boot server ACK: yiaddr %s, ciaddr %s", ack.YourIPAddr, ack.ClientIPAddr)
	}
	checkBootInfo(t, ack, "ipxe.efi")
}

func TestServeSurvivesGarbage(t *testing.T) {
	n := newTestNet(t)
	n.serve(t, testConfig(ModeFull))
	var conn *net.UDPConn
	n.inNS(t, n.cli, func() {
		var err error
		if conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: cliIP}); err != nil {
			t.Fatal(err)
		}
	})
	defer conn.Close()

	valid := newRequest(t, dhcpv4.MessageTypeDiscover, macN(7), pxeClient(iana.INTEL_X86PC)...).ToBytes()
	reply := newRequest(t, dhcpv4.MessageTypeOffer, macN(7))
	reply.OpCode = dhcpv4.OpcodeBootReply
	rng := rand.New(rand.NewPCG(3, 4))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	garbage := [][]byte{
		{},
		[]byte("hello"),
		valid[:120],
		valid[:len(valid)-40],
		append(valid[:240:240], 53, 1),
		reply.ToBytes(),
		random(600),
		random(9000), // arrives in fragments
	}
	before, _ := testutil.GetCounterMetricValue(malformedPackets)
	server := &net.UDPAddr{IP: testServerIP, Port: serverPort}
	for _, g := range garbage {
		if _, err := conn.WriteTo(g, server); err != nil {
			t.Fatalf("sending garbage: %v", err)
		}
	}
	eventually(t, "the garbage counted as malformed", func() bool {
		after, _ := testutil.GetCounterMetricValue(malformedPackets)
		return after-before == float64(len(garbage))
	})
	if _, err := n.client(t).Request(t.Context(), pxeClient(iana.INTEL_X86PC)...); err != nil {
		t.Fatalf("DORA after garbage: %v", err)
	}
}

func TestServeBadInterface(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to bind to an interface")
	}
	cfg := testConfig(ModeProxy)
	cfg.Interface = "arc-missing0"
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, ctx := ktesting.NewTestContext(t)
	if err := s.Serve(ctx); err == nil || !strings.Contains(err.Error(), "arc-missing0") {
		t.Errorf("Serve on a missing interface: %v", err)
	}
}
