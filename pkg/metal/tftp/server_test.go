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

package tftp

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pin/tftp/v3"
	"k8s.io/component-base/metrics/testutil"
	"k8s.io/klog/v2/ktesting"
)

type observer struct {
	mu        sync.Mutex
	transfers []Transfer
}

func (o *observer) observe(t Transfer) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.transfers = append(o.transfers, t)
}

// wait returns the first transfer of file, waiting for it a while.
func (o *observer) wait(t *testing.T, file string) Transfer {
	t.Helper()
	var tr Transfer
	eventually(t, "a transfer of "+file, func() bool {
		o.mu.Lock()
		defer o.mu.Unlock()
		for _, tr = range o.transfers {
			if tr.File == file {
				return true
			}
		}
		return false
	})
	return tr
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

// serve runs a server with cfg on a loopback port until the test ends, and
// returns its address and a cancel function that stops it and waits.
func serve(t *testing.T, cfg Config) (*net.UDPAddr, *observer, func()) {
	t.Helper()
	o := &observer{}
	cfg.Observe = o.observe
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, conn) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return conn.LocalAddr().(*net.UDPAddr), o, stop
}

func newClient(t *testing.T, addr *net.UDPAddr) *tftp.Client {
	t.Helper()
	c, err := tftp.NewClient(addr.String())
	if err != nil {
		t.Fatal(err)
	}
	c.SetTimeout(2 * time.Second)
	return c
}

func receive(c *tftp.Client, name string) ([]byte, int64, error) {
	wt, err := c.Receive(name, "octet")
	if err != nil {
		return nil, 0, err
	}
	size, _ := wt.(tftp.IncomingTransfer).Size()
	var buf bytes.Buffer
	_, err = wt.WriteTo(&buf)
	return buf.Bytes(), size, err
}

func counter(t *testing.T, outcome string) float64 {
	t.Helper()
	v, err := testutil.GetCounterMetricValue(transfers.WithLabelValues(outcome))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// ipxeRoot returns the directory of Debian's iPXE binaries, or skips.
func ipxeRoot(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(DefaultRoot, "undionly.kpxe")); err != nil {
		t.Skipf("Debian's ipxe package is not installed: %v", err)
	}
	return DefaultRoot
}

func TestServeIPXE(t *testing.T) {
	root := ipxeRoot(t)
	addr, o, _ := serve(t, Config{Root: root})
	successes, sent := counter(t, outcomeSuccess), 0.0
	sentBefore, _ := testutil.GetCounterMetricValue(sentBytes)
	for _, tc := range []struct {
		file    string
		blksize int
		tsize   bool
	}{
		{"undionly.kpxe", 0, false},
		{"undionly.kpxe", 1468, true},
		{"ipxe.efi", 1468, true},
		{"snponly.efi", 8192, true},
	} {
		want, err := os.ReadFile(filepath.Join(root, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		c := newClient(t, addr)
		c.SetBlockSize(tc.blksize)
		c.RequestTSize(tc.tsize)
		got, size, err := receive(c, tc.file)
		if err != nil {
			t.Fatalf("%s with blksize %d: %v", tc.file, tc.blksize, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s with blksize %d: got %d bytes that differ from the file's %d", tc.file, tc.blksize, len(got), len(want))
		}
		if tc.tsize && size != int64(len(want)) {
			t.Errorf("%s: tsize %d, want %d", tc.file, size, len(want))
		}
		sent += float64(len(want))
	}
	tr := o.wait(t, "ipxe.efi")
	if tr.Err != nil || tr.Bytes == 0 || tr.Duration <= 0 || tr.Client.Addr().String() != "127.0.0.1" {
		t.Errorf("observed %+v", tr)
	}
	// The last transfer is recorded after the client sees the last block.
	eventually(t, "4 successful transfers counted", func() bool { return counter(t, outcomeSuccess) == successes+4 })
	if after, _ := testutil.GetCounterMetricValue(sentBytes); after-sentBefore != sent {
		t.Errorf("%v bytes counted, want %v", after-sentBefore, sent)
	}
}

func TestServeBusybox(t *testing.T) {
	root := ipxeRoot(t)
	if _, err := exec.LookPath("busybox"); err != nil {
		t.Skip("busybox is not installed")
	}
	addr, _, _ := serve(t, Config{Root: root})
	want, err := os.ReadFile(filepath.Join(root, "undionly.kpxe"))
	if err != nil {
		t.Fatal(err)
	}
	for _, blksize := range []string{"", "1428"} {
		out := filepath.Join(t.TempDir(), "out")
		args := []string{"tftp", "-g", "-r", "undionly.kpxe", "-l", out}
		if blksize != "" {
			args = append(args, "-b", blksize)
		}
		args = append(args, "127.0.0.1", strconv.Itoa(addr.Port))
		if msg, err := exec.CommandContext(t.Context(), "busybox", args...).CombinedOutput(); err != nil {
			t.Fatalf("busybox %v: %v\n%s", args, err, msg)
		}
		if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, want) {
			t.Errorf("busybox with blksize %q: got %d bytes (%v), want the file's %d", blksize, len(got), err, len(want))
		}
	}
}

// testRoot makes a root with files, links in and out of it, and a FIFO; its
// parent holds a secret.
func testRoot(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	for _, d := range []string{root, filepath.Join(root, "sub"), filepath.Join(dir, "outside")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range map[string]string{
		filepath.Join(root, "ok.bin"):           "ok",
		filepath.Join(root, "sub", "inner.bin"): "inner",
		filepath.Join(dir, "secret"):            "secret",
		filepath.Join(dir, "outside", "secret"): "secret",
	} {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"inside":        "sub/inner.bin",
		"linked":        filepath.Join(dir, "outside", "secret"),
		"escapedir":     filepath.Join(dir, "outside"),
		"sub/escape":    filepath.Join(dir, "secret"),
		"sub/escaperel": "../../secret",
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(root, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// plantLinks adds links out of root while it is served: they are refused.
func plantLinks(t *testing.T, root string) {
	t.Helper()
	for link, target := range map[string]string{
		"escape":    filepath.Join(filepath.Dir(root), "secret"),
		"escaperel": "../secret",
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestServeRefusals(t *testing.T) {
	root := testRoot(t)
	addr, o, _ := serve(t, Config{Root: root})
	// Once a transfer is done, the server has looked for links.
	if _, _, err := receive(newClient(t, addr), "ok.bin"); err != nil {
		t.Fatal(err)
	}
	plantLinks(t, root)
	for _, tc := range []struct {
		file    string
		want    string // content, or the outcome of a refusal
		message string // in the client's error
	}{
		{"ok.bin", "ok", ""},
		{"sub/inner.bin", "inner", ""},
		{"inside", "inner", ""},
		{"sub/../ok.bin", "ok", ""},
		{"linked", "secret", ""}, // in the root when serving started
		{"./linked", "secret", ""},
		{"missing", outcomeNotFound, "file not found"},
		{"sub/missing", outcomeNotFound, "file not found"},
		{"../secret", outcomeDenied, "access violation"},
		{"sub/../../secret", outcomeDenied, "access violation"},
		{filepath.Join(filepath.Dir(root), "secret"), outcomeDenied, "access violation"},
		{"escape", outcomeDenied, "access violation"},
		{"escaperel", outcomeDenied, "access violation"},
		{"sub/escape", outcomeDenied, "access violation"},
		{"sub/escaperel", outcomeDenied, "access violation"},
		{"escapedir/secret", outcomeDenied, "access violation"},
		{"escapedir", outcomeDenied, "access violation"},
		{"pipe", outcomeDenied, "not a regular file"},
		{"sub", outcomeDenied, "not a regular file"},
	} {
		before := counter(t, tc.want)
		got, _, err := receive(newClient(t, addr), tc.file)
		if tc.message == "" {
			if err != nil || string(got) != tc.want {
				t.Errorf("%s: got %q, %v; want %q", tc.file, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.message) {
			t.Errorf("%s: error %v, want %q", tc.file, err, tc.message)
		}
		if tr := o.wait(t, tc.file); tr.Err == nil || tr.Bytes != 0 {
			t.Errorf("%s: observed %+v", tc.file, tr)
		}
		if got := counter(t, tc.want) - before; got != 1 {
			t.Errorf("%s: %v transfers counted as %s", tc.file, got, tc.want)
		}
	}

	before := counter(t, outcomeDenied)
	if _, err := newClient(t, addr).Send("ok.bin", "octet"); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("write request: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "ok.bin")); string(got) != "ok" {
		t.Errorf("ok.bin now holds %q", got)
	}
	if got := counter(t, outcomeDenied) - before; got != 1 {
		t.Errorf("%v write requests counted as denied", got)
	}
}

func TestServeSurvivesGarbage(t *testing.T) {
	root := testRoot(t)
	addr, _, _ := serve(t, Config{Root: root})
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rng := rand.New(rand.NewPCG(5, 6))
	random := make([]byte, 700)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	random[0], random[1] = 0xff, 0xff // no valid opcode
	garbage := [][]byte{
		{},
		{0},
		{0, 1},                   // RRQ, too short
		{0, 1, 'x'},              // RRQ, too short
		[]byte("\x00\x01ok.bin"), // RRQ without mode
		{0, 9, 0, 0},             // unknown opcode
		{0, 3, 0, 1, 'd'},        // DATA out of the blue
		{0, 4, 0, 1},             // ACK out of the blue
		{0, 5, 0, 1, 'e', 0},     // ERROR out of the blue
		{0, 6, 'b', 0, '1'},      // OACK, too short
		random,
	}
	before, _ := testutil.GetCounterMetricValue(invalidPackets)
	denied := counter(t, outcomeDenied)
	for _, g := range append(garbage, []byte("\x00\x01\x00\x00")) { // the last, an empty name
		if _, err := conn.WriteTo(g, addr); err != nil {
			t.Fatal(err)
		}
	}
	// The server reads requests in turn, so it has seen the garbage once
	// this transfer is done.
	if got, _, err := receive(newClient(t, addr), "ok.bin"); err != nil || string(got) != "ok" {
		t.Fatalf("transfer after garbage: %q, %v", got, err)
	}
	if after, _ := testutil.GetCounterMetricValue(invalidPackets); after-before != float64(len(garbage)) {
		t.Errorf("%v invalid packets counted, want %d", after-before, len(garbage))
	}
	eventually(t, "the request for an empty name denied", func() bool { return counter(t, outcomeDenied) == denied+1 })
}

// rawRead requests name from addr with a raw socket and acknowledges each
// block after delay. It returns the server's error message, or "" if the
// whole file arrived.
func rawRead(t *testing.T, addr *net.UDPAddr, name string, delay time.Duration) string {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rrq := append(append([]byte{0, 1}, name...), 0)
	rrq = append(append(rrq, "octet"...), 0)
	if _, err := conn.WriteTo(rrq, addr); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1024)
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			t.Fatalf("reading from the server: %v", err)
		}
		switch binary.BigEndian.Uint16(buf) {
		case 5:
			return string(bytes.TrimRight(buf[4:n], "\x00"))
		case 3:
			time.Sleep(delay)
			if _, err := conn.WriteTo([]byte{0, 4, buf[2], buf[3]}, from); err != nil {
				t.Fatal(err)
			}
			if n < 516 {
				return ""
			}
		}
	}
}

// bigRoot makes a root holding "big", of 200 blocks.
func bigRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "big"), bytes.Repeat([]byte("x"), 200*512), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestTransferTimeout(t *testing.T) {
	addr, o, _ := serve(t, Config{Root: bigRoot(t), TransferTimeout: 300 * time.Millisecond})
	before := counter(t, outcomeTimeout)
	start := time.Now()
	if msg := rawRead(t, addr, "big", 20*time.Millisecond); !strings.Contains(msg, "timed out") {
		t.Fatalf("slow client got error %q, want a timeout", msg)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("transfer ended after %s", d)
	}
	tr := o.wait(t, "big")
	if !errors.Is(tr.Err, errTransferTimeout) || tr.Bytes == 0 || tr.Bytes >= 200*512 {
		t.Errorf("observed %+v", tr)
	}
	if got := counter(t, outcomeTimeout) - before; got != 1 {
		t.Errorf("%v timeouts counted", got)
	}
}

func TestStalledClient(t *testing.T) {
	addr, o, _ := serve(t, Config{Root: bigRoot(t), Timeout: 50 * time.Millisecond})
	before := counter(t, outcomeFailed)
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Asks, then never acknowledges.
	if _, err := conn.WriteTo([]byte("\x00\x01big\x00octet\x00"), addr); err != nil {
		t.Fatal(err)
	}
	if tr := o.wait(t, "big"); tr.Err == nil || tr.Bytes != 512 {
		t.Errorf("observed %+v", tr)
	}
	if got := counter(t, outcomeFailed) - before; got != 1 {
		t.Errorf("%v failures counted", got)
	}
}

func TestBusy(t *testing.T) {
	addr, _, _ := serve(t, Config{Root: bigRoot(t), MaxTransfers: 1, Timeout: 200 * time.Millisecond})
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A stalled transfer holds the only slot.
	if _, err := conn.WriteTo([]byte("\x00\x01big\x00octet\x00"), addr); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1024)
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := conn.ReadFrom(buf); err != nil {
		t.Fatal(err)
	}
	before := counter(t, outcomeBusy)
	if _, _, err := receive(newClient(t, addr), "big"); err == nil || !strings.Contains(err.Error(), "busy") {
		t.Errorf("second transfer: %v, want busy", err)
	}
	if got := counter(t, outcomeBusy) - before; got != 1 {
		t.Errorf("%v busy refusals counted", got)
	}
}

func TestShutdownEndsTransfers(t *testing.T) {
	addr, _, stop := serve(t, Config{Root: bigRoot(t)})
	msg := make(chan string, 1)
	go func() { msg <- rawRead(t, addr, "big", 20*time.Millisecond) }()
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	stop()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Serve took %s to return", d)
	}
	if m := <-msg; !strings.Contains(m, "canceled") {
		t.Errorf("client got %q, want the transfer cancelled", m)
	}
}

func TestListenAndServe(t *testing.T) {
	root := t.TempDir()
	s, err := New(Config{Addr: "127.0.0.1:0", Root: root})
	if err != nil {
		t.Fatal(err)
	}
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- s.ListenAndServe(ctx) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("ListenAndServe: %v", err)
	}

	s, err = New(Config{Addr: "127.0.0.1:99999", Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ListenAndServe(t.Context()); err == nil {
		t.Error("ListenAndServe on a bad address succeeded")
	}
}

func TestNewValidation(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"missing root", Config{Root: filepath.Join(t.TempDir(), "missing")}, "root"},
		{"root is a file", Config{Root: file}, "not a directory"},
		{"negative timeout", Config{Root: t.TempDir(), Timeout: -time.Second}, "timeout"},
		{"negative transfer timeout", Config{Root: t.TempDir(), TransferTimeout: -time.Second}, "transfer timeout"},
		{"negative maximum", Config{Root: t.TempDir(), MaxTransfers: -1}, "maximum"},
	} {
		if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one about %q", tc.name, err, tc.want)
		}
	}
	s, err := New(Config{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if c := s.cfg; c.Addr != DefaultAddr || c.Timeout != DefaultTimeout || c.TransferTimeout != DefaultTransferTimeout || c.MaxTransfers != DefaultMaxTransfers {
		t.Errorf("defaults not applied: %+v", c)
	}
}
