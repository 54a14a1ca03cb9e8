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

// Package dhcp is the DHCP server that starts bare-metal machines booting
// from the network: it hands PXE ROMs an iPXE binary to load over TFTP, and
// iPXE the URL of its boot script. In proxy mode it only adds boot
// information next to the site's DHCP server; in full mode it also assigns
// addresses, for isolated lab networks.
package dhcp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// maxDatagram fits any UDP payload, so requests are never truncated.
const maxDatagram = 1 << 16

// Server is a DHCP server for network-booting machines.
type Server struct {
	cfg       Config
	responder *responder
}

// New validates cfg, fills in its defaults and returns a server for it.
func New(cfg Config) (*Server, error) {
	if err := cfg.complete(); err != nil {
		return nil, fmt.Errorf("invalid DHCP configuration: %w", err)
	}
	return &Server{cfg: cfg, responder: newResponder(cfg, clock.RealClock{})}, nil
}

// Serve answers on the configured interface, on port 67 and in proxy mode
// also on port 4011, until ctx is cancelled; it then closes its sockets and
// returns nil. It returns an error if a socket cannot be opened or fails.
// Leases survive for the life of s, across calls to Serve.
func (s *Server) Serve(ctx context.Context) error {
	ports := []int{serverPort}
	if s.cfg.Mode == ModeProxy {
		ports = append(ports, pxePort)
	}
	conns := make([]net.PacketConn, 0, len(ports))
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	for _, port := range ports {
		c, err := listen(ctx, s.cfg.Interface, port)
		if err != nil {
			return fmt.Errorf("listening on %s port %d: %w", s.cfg.Interface, port, err)
		}
		conns = append(conns, c)
	}
	logger := klog.FromContext(ctx).WithValues("mode", s.cfg.Mode, "interface", s.cfg.Interface)
	logger.Info("Serving DHCP", "serverIP", s.cfg.ServerIP, "ports", ports)

	// A failing socket stops the others too.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		<-ctx.Done()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	errs := make([]error, len(conns))
	for i, c := range conns {
		wg.Go(func() {
			defer cancel()
			errs[i] = s.serveConn(ctx, logger, c, ports[i])
		})
	}
	wg.Wait()
	logger.Info("Stopped serving DHCP")
	return errors.Join(errs...)
}

// serveConn answers the requests arriving on conn, one at a time, until
// conn is closed.
func (s *Server) serveConn(ctx context.Context, logger klog.Logger, conn net.PacketConn, port int) error {
	buf := make([]byte, maxDatagram)
	for {
		n, peer, err := conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("reading from port %d: %w", port, err)
		}
		s.answer(logger, conn, buf[:n], peer.(*net.UDPAddr), port)
	}
}

func (s *Server) answer(logger klog.Logger, conn net.PacketConn, pkt []byte, peer *net.UDPAddr, port int) {
	d := s.responder.handle(pkt, port)
	if d.outcome == outcomeMalformed {
		malformedPackets.Inc()
		// Verbose only: anyone on the segment can send these at any rate.
		logger.V(4).Info("Dropped malformed DHCP packet", "peer", peer, "port", port, "reason", d.reason)
		return
	}
	requests.WithLabelValues(typeLabel(d.msgType), d.outcome).Inc()
	logger = logger.WithValues("mac", d.client.mac, "type", d.msgType.String(), "outcome", d.outcome)
	if d.reply == nil {
		logger.V(2).Info("Not answering DHCP request", "peer", peer, "port", port, "reason", d.reason)
		return
	}
	// Observe first, so that the caller knows a client's address before
	// the client can use it, say to fetch its iPXE script.
	if s.cfg.Observe != nil && d.outcome != outcomeNak {
		s.cfg.Observe(d.observation())
	}
	dst := destination(d.reply, peer, port)
	if _, err := conn.WriteTo(d.reply.ToBytes(), dst); err != nil {
		// Verbose too: a request naming an unreachable relay causes this.
		logger.V(2).Info("Sending DHCP reply failed", "to", dst, "err", err)
		return
	}
	logger.V(2).Info("Answered DHCP request", "to", dst, "ip", d.reply.YourIPAddr, "bootFile", d.reply.BootFileName, "note", d.reason)
}

// listen opens a UDP socket on port of iface. It shares the port with other
// DHCP servers on the host (SO_REUSEADDR, SO_REUSEPORT), as proxyDHCP must,
// binds to the interface so as to serve no other network, and may broadcast.
func listen(ctx context.Context, iface string, port int) (net.PacketConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		if cerr := rc.Control(func(fd uintptr) { err = setSockopts(int(fd), iface) }); cerr != nil {
			return cerr
		}
		return err
	}}
	return lc.ListenPacket(ctx, "udp4", fmt.Sprintf("0.0.0.0:%d", port))
}

func setSockopts(fd int, iface string) error {
	for _, o := range []struct {
		name string
		opt  int
	}{{"SO_REUSEADDR", unix.SO_REUSEADDR}, {"SO_REUSEPORT", unix.SO_REUSEPORT}, {"SO_BROADCAST", unix.SO_BROADCAST}} {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, o.opt, 1); err != nil {
			return fmt.Errorf("setting %s: %w", o.name, err)
		}
	}
	if err := unix.BindToDevice(fd, iface); err != nil {
		return fmt.Errorf("binding to interface %q: %w", iface, err)
	}
	return nil
}
