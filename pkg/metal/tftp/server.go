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

// Package tftp is a read-only TFTP server for the iPXE binaries that PXE ROMs
// load when package dhcp points them at it.
package tftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/pin/tftp/v3"
	"golang.org/x/sys/unix"
	"k8s.io/klog/v2"
)

// Defaults for Config fields left empty.
const (
	DefaultAddr            = ":69"
	DefaultRoot            = "/usr/lib/ipxe" // Debian's ipxe package
	DefaultTimeout         = 5 * time.Second
	DefaultTransferTimeout = 2 * time.Minute
	DefaultMaxTransfers    = 256
)

// Config configures a Server.
type Config struct {
	// Addr is the UDP address ListenAndServe listens on.
	Addr string
	// Root is the directory served; only regular files are. Paths leaving
	// it are refused, symbolic links included, with one exception: links
	// directly in Root to files outside it when serving starts, such as
	// Debian's ipxe.efi -> /boot/ipxe.efi, are the operator's doing and
	// followed. A link added later, or deeper, leads nowhere.
	Root string
	// Timeout is how long a block waits for its acknowledgement before it
	// is sent again; a block is sent at most five times.
	Timeout time.Duration
	// TransferTimeout bounds a whole transfer.
	TransferTimeout time.Duration
	// MaxTransfers bounds concurrent transfers; requests past it are refused.
	MaxTransfers int
	// Observe, if set, is called once per request when it completes or is
	// refused. It runs on the transfer's goroutine and holds up shutdown.
	Observe func(Transfer)
}

// Transfer describes one request.
type Transfer struct {
	Client   netip.AddrPort
	File     string
	Bytes    int64 // sent, including in a failed transfer
	Duration time.Duration
	Err      error // nil if the whole file was acknowledged
}

var (
	errDenied          = errors.New("access violation")
	errReadOnly        = fmt.Errorf("%w: server is read-only", errDenied)
	errBusy            = errors.New("server busy, try again")
	errTransferTimeout = errors.New("transfer timed out")
)

// Server is a read-only TFTP server.
type Server struct {
	cfg   Config
	slots chan struct{} // one per transfer in progress
}

// New validates cfg, fills in its defaults and returns a server for it.
func New(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.Root == "" {
		cfg.Root = DefaultRoot
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{{"timeout", &cfg.Timeout, DefaultTimeout}, {"transfer timeout", &cfg.TransferTimeout, DefaultTransferTimeout}} {
		if *d.v < 0 {
			return nil, fmt.Errorf("invalid TFTP configuration: negative %s %s", d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if cfg.MaxTransfers < 0 {
		return nil, fmt.Errorf("invalid TFTP configuration: negative maximum of transfers %d", cfg.MaxTransfers)
	}
	if cfg.MaxTransfers == 0 {
		cfg.MaxTransfers = DefaultMaxTransfers
	}
	fi, err := os.Stat(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("invalid TFTP configuration: root: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("invalid TFTP configuration: root %s is not a directory", cfg.Root)
	}
	return &Server{cfg: cfg, slots: make(chan struct{}, cfg.MaxTransfers)}, nil
}

// ListenAndServe listens on the configured address and serves it; see Serve.
func (s *Server) ListenAndServe(ctx context.Context) error {
	var lc net.ListenConfig
	conn, err := lc.ListenPacket(ctx, "udp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, conn)
}

// Serve answers the requests arriving on conn until ctx is cancelled, then
// ends the transfers in progress, closes conn and returns nil. Transfers end
// at their next block, or when waiting for an acknowledgement times out.
func (s *Server) Serve(ctx context.Context, conn net.PacketConn) error {
	defer conn.Close()
	root, err := os.OpenRoot(s.cfg.Root)
	if err != nil {
		return fmt.Errorf("opening TFTP root: %w", err)
	}
	defer root.Close()
	links, err := linksOut(s.cfg.Root)
	if err != nil {
		return fmt.Errorf("reading TFTP root: %w", err)
	}
	logger := klog.FromContext(ctx).WithValues("root", s.cfg.Root)
	h := &handler{ctx: ctx, logger: logger, root: root, links: links, server: s}
	srv := tftp.NewServer(h.read, h.write)
	srv.SetTimeout(s.cfg.Timeout)
	// Resend as soon as Timeout passes, as RFC 1350 has it, rather than
	// after the library's extra random pause.
	srv.SetBackoff(func(int) time.Duration { return 0 })
	srv.SetHook(h)

	logger.Info("Serving TFTP", "addr", conn.LocalAddr(), "linksOutOfRoot", links)
	// Shutdown stops the loop in srv.Serve and waits for transfers.
	shutdown := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		srv.Shutdown()
		close(shutdown)
	})
	err = srv.Serve(conn)
	if stop() {
		srv.Shutdown()
	} else {
		<-shutdown
	}
	logger.Info("Stopped serving TFTP")
	if err != nil {
		return fmt.Errorf("serving TFTP: %w", err)
	}
	return nil
}

// handler serves the requests of one call to Serve.
type handler struct {
	ctx    context.Context
	logger klog.Logger
	root   *os.Root
	links  map[string]string // see linksOut
	server *Server
}

func (h *handler) read(name string, rf io.ReaderFrom) error {
	start := time.Now()
	t := Transfer{Client: clientAddr(rf.(tftp.OutgoingTransfer).RemoteAddr()), File: name}
	var err error
	t.Bytes, err = h.send(name, rf)
	h.finish(t, start, err)
	// Errors before the transfer started go to the client in an ERROR
	// packet; the library has sent one already for those after.
	return err
}

// send transfers the file name to rf and returns the bytes sent.
func (h *handler) send(name string, rf io.ReaderFrom) (int64, error) {
	select {
	case h.server.slots <- struct{}{}:
		defer func() { <-h.server.slots }()
	default:
		return 0, errBusy
	}
	f, err := h.open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("reading %q: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%w: %q is not a regular file", errDenied, name)
	}
	// The reader below hides the file's Seek, from which the library would
	// take the size for the tsize option.
	rf.(tftp.OutgoingTransfer).SetSize(fi.Size())
	ctx, cancel := context.WithTimeoutCause(h.ctx, h.server.cfg.TransferTimeout, errTransferTimeout)
	defer cancel()
	return rf.ReadFrom(ctxReader{ctx: ctx, r: f})
}

// open opens name in the root. Absolute and parent-relative paths are refused
// outright; the root refuses symbolic links out of it but for those in
// h.links. O_NONBLOCK keeps a FIFO from blocking the open; it does not affect
// reading a regular file.
func (h *handler) open(name string) (*os.File, error) {
	if !filepath.IsLocal(name) {
		return nil, fmt.Errorf("%w: %q is not a path inside the root", errDenied, name)
	}
	var f *os.File
	var err error
	if target, ok := h.links[filepath.Clean(name)]; ok {
		f, err = os.OpenFile(target, os.O_RDONLY|unix.O_NONBLOCK, 0)
	} else {
		f, err = h.root.OpenFile(name, os.O_RDONLY|unix.O_NONBLOCK, 0)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("file not found: %w", err)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", errDenied, err)
	}
	return f, nil
}

// linksOut returns, by name, the symbolic links directly in root that lead to
// regular files outside it, with their targets.
func linksOut(root string) (map[string]string, error) {
	dir, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	links := map[string]string{}
	for _, e := range entries {
		if e.Type()&fs.ModeSymlink == 0 {
			continue
		}
		// Dangling and looping links are left to fail at request time.
		target, err := filepath.EvalSymlinks(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(dir, target); err == nil && filepath.IsLocal(rel) {
			continue
		}
		if fi, err := os.Stat(target); err == nil && fi.Mode().IsRegular() {
			links[e.Name()] = target
		}
	}
	return links, nil
}

func (h *handler) write(name string, wt io.WriterTo) error {
	h.finish(Transfer{Client: clientAddr(wt.(tftp.IncomingTransfer).RemoteAddr()), File: name}, time.Now(), errReadOnly)
	return errReadOnly
}

// finish records a request in the metrics, the log and the observer.
func (h *handler) finish(t Transfer, start time.Time, err error) {
	t.Duration, t.Err = time.Since(start), err
	o := outcome(err)
	transfers.WithLabelValues(o).Inc()
	sentBytes.Add(float64(t.Bytes))
	h.logger.V(2).Info("TFTP request", "client", t.Client, "file", t.File, "outcome", o,
		"bytes", t.Bytes, "duration", t.Duration, "err", err)
	if h.server.cfg.Observe != nil {
		h.server.cfg.Observe(t)
	}
}

func outcome(err error) string {
	switch {
	case err == nil:
		return outcomeSuccess
	case errors.Is(err, fs.ErrNotExist):
		return outcomeNotFound
	case errors.Is(err, errDenied):
		return outcomeDenied
	case errors.Is(err, errBusy):
		return outcomeBusy
	case errors.Is(err, errTransferTimeout):
		return outcomeTimeout
	}
	return outcomeFailed
}

// OnSuccess does nothing: read records transfers, knowing their size.
func (h *handler) OnSuccess(tftp.TransferStats) {}

// OnFailure counts the datagrams the library could not make a transfer of,
// reported without a peer; read and write record failed transfers.
func (h *handler) OnFailure(st tftp.TransferStats, err error) {
	if st.RemoteAddr != nil {
		return
	}
	invalidPackets.Inc()
	// Verbose only: anyone can send these at any rate.
	h.logger.V(4).Info("Dropped invalid TFTP packet", "err", err)
}

// ctxReader fails once ctx is done, which aborts the transfer reading it.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if c.ctx.Err() != nil {
		return 0, context.Cause(c.ctx)
	}
	return c.r.Read(p)
}

// clientAddr drops the IPv4-in-IPv6 form of a dual-stack socket.
func clientAddr(a net.UDPAddr) netip.AddrPort {
	ap := a.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
