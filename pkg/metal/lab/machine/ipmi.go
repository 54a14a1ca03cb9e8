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

package machine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/internal/logtail"
)

// Files of the IPMI BMC in a machine's directory.
const (
	ipmiConfigFile     = "lan.conf"
	ipmiCommandsFile   = "bmc.emu"
	ipmiLogFile        = "ipmi_sim.log"
	chassisControlFile = "chassis-control"
)

const (
	// ipmiReadyTimeout bounds the wait for ipmi_sim to answer on the LAN.
	ipmiReadyTimeout = 10 * time.Second
	// ipmiStopTimeout is how long ipmi_sim gets to exit after SIGTERM.
	ipmiStopTimeout = 5 * time.Second
	// relayDialTimeout bounds connecting QEMU's BMC device to ipmi_sim.
	relayDialTimeout = 5 * time.Second
)

// rmcpPing is an RMCP packet with an ASF presence ping, which BMCs answer
// with a pong (message type 0x40 at offset 8) outside of any session.
var rmcpPing = []byte{0x06, 0x00, 0xff, 0x06, 0x00, 0x00, 0x11, 0xbe, 0x80, 0x00, 0x00, 0x00}

// ipmiBMC is ipmi_sim serving a machine's BMC, and the two sockets this
// process serves for it:
//   - bmcSocket takes the requests of the chassis control program;
//   - ipmiVMSocket relays QEMU's ipmi-bmc-extern device to ipmi_sim's VM
//     channel. ipmi_sim listens on TCP, which QEMU cannot reach from
//     another network namespace; a unix socket it can.
type ipmiBMC struct {
	addr     string
	cmd      *exec.Cmd
	done     chan struct{}
	stopping atomic.Bool
	control  *connServer
	vmLink   *connServer
}

// startIPMI writes ipmi_sim's configuration, starts it and waits until it
// answers on the LAN.
func (m *Machine) startIPMI(ctx context.Context) (_ *ipmiBMC, err error) {
	host, port, _ := net.SplitHostPort(m.spec.BMC.Address)
	if n, _ := strconv.Atoi(port); n == 0 {
		p, err := freePort("udp", host)
		if err != nil {
			return nil, err
		}
		port = strconv.Itoa(p)
	}
	vmPort, err := freePort("tcp", "127.0.0.1")
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the chassis control program: %w", err)
	}
	files := map[string]string{
		ipmiConfigFile:     m.ipmiConfig(host, port, vmPort),
		ipmiCommandsFile:   m.ipmiCommands(),
		chassisControlFile: chassisControlScript(m.spec.Name, exe, m.path(bmcSocket)),
	}
	for name, content := range files {
		if err := os.WriteFile(m.path(name), []byte(content), 0o700); err != nil {
			return nil, err
		}
	}

	b := &ipmiBMC{addr: net.JoinHostPort(host, port), done: make(chan struct{})}
	defer func() {
		if err != nil {
			b.stopServers()
		}
	}()
	// The servers' handlers get this process's logger, not ctx's deadline.
	base := context.WithoutCancel(ctx)
	if b.control, err = listenUnix(base, m.path(bmcSocket), m.serveChassisControl); err != nil {
		return nil, err
	}
	vmAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(vmPort))
	if b.vmLink, err = listenUnix(base, m.path(ipmiVMSocket), relayTo(vmAddr)); err != nil {
		return nil, err
	}

	logf, err := os.Create(m.path(ipmiLogFile))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	// -n: no console on stdin; -p: no persistent state, so that the
	// users of the configuration apply.
	b.cmd = exec.Command(m.ipmiSim, "-n", "-p", "-c", ipmiConfigFile, "-f", ipmiCommandsFile)
	b.cmd.Dir = m.spec.Dir
	b.cmd.Stdout, b.cmd.Stderr = logf, logf
	b.cmd.SysProcAttr = childProcAttr()
	if err := b.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting ipmi_sim: %w", err)
	}
	log := m.logger(ctx)
	go func() {
		err := b.cmd.Wait()
		close(b.done)
		if !b.stopping.Load() {
			log.Error(err, "ipmi_sim exited: the BMC is gone", "log", logtail.Last(m.path(ipmiLogFile)))
		}
	}()
	if err := waitIPMIReady(ctx, b.addr, b.done); err != nil {
		b.stopping.Store(true)
		b.killSim()
		if tail := logtail.Last(m.path(ipmiLogFile)); tail != "" {
			err = fmt.Errorf("%w: %s", err, tail)
		}
		return nil, err
	}
	return b, nil
}

func (b *ipmiBMC) endpoint() string { return b.addr }

// stop ends the chassis control requests first: ipmi_sim waits for them
// before it handles signals.
func (b *ipmiBMC) stop(ctx context.Context) error {
	b.stopping.Store(true)
	b.control.stop()
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case <-b.done:
	case <-time.After(ipmiStopTimeout):
		b.killSim()
	case <-ctx.Done():
		b.killSim()
		err = ctx.Err()
	}
	b.vmLink.stop()
	return err
}

func (b *ipmiBMC) killSim() {
	_ = b.cmd.Process.Kill()
	<-b.done
}

func (b *ipmiBMC) stopServers() {
	for _, s := range []*connServer{b.control, b.vmLink} {
		if s != nil {
			s.stop()
		}
	}
}

// ipmiConfig is ipmi_sim's lan.conf: one BMC with an RMCP+ LAN channel,
// a VM channel for QEMU, and one administrator.
func (m *Machine) ipmiConfig(host, port string, vmPort int) string {
	return fmt.Sprintf(`# ipmi_sim configuration of lab machine %[1]s, written by arcturus at every start.
name "%[1]s"
set_working_mc 0x20
  startlan 1
    addr %[2]s %[3]s
    priv_limit admin
    # Authentication types of IPMI 1.5 sessions; RMCP+ has its own.
    allowed_auths_callback md5
    allowed_auths_user md5
    allowed_auths_operator md5
    allowed_auths_admin md5
    guid %[4]s
  endlan
  # QEMU's ipmi-bmc-extern device, relayed from %[5]s.
  serial 15 127.0.0.1 %[6]d codec VM
  # Power and boot device commands run this program (relative to this directory).
  chassis_control "./%[7]s 0x20"
  user 2 true "%[8]s" "%[9]s" admin 10 md5
`, m.spec.Name, host, port, strings.ReplaceAll(m.spec.UUID, "-", ""), ipmiVMSocket, vmPort,
		chassisControlFile, m.spec.BMC.Username, m.spec.BMC.Password)
}

// ipmiCommands sets up the BMC in ipmi_sim, with the device id values of
// OpenIPMI's sample BMC.
func (m *Machine) ipmiCommands() string {
	return fmt.Sprintf(`# ipmi_sim commands of lab machine %s, written by arcturus at every start.
mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
mc_set_guid 0x20 %s
sel_enable 0x20 1000 0x0a
mc_enable 0x20
`, m.spec.Name, strings.ReplaceAll(m.spec.UUID, "-", ""))
}

// ipmiCredentialsValid checks what ipmi_sim's configuration can hold
// (it has no escapes) and IPMI allows.
func ipmiCredentialsValid(user, pass string) error {
	for _, c := range []struct {
		what, value string
		max         int
	}{{"user name", user, 16}, {"password", pass, 20}} {
		if len(c.value) > c.max {
			return fmt.Errorf("IPMI %s longer than %d bytes", c.what, c.max)
		}
		for _, r := range c.value {
			if r <= ' ' || r > '~' || r == '"' {
				return fmt.Errorf("IPMI %s must be printable ASCII without spaces or double quotes", c.what)
			}
		}
	}
	return nil
}

// waitIPMIReady pings addr until the BMC answers or exits.
func waitIPMIReady(ctx context.Context, addr string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, ipmiReadyTimeout)
	defer cancel()
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	buf := make([]byte, 64)
	for {
		_, err := conn.Write(rmcpPing)
		if err == nil {
			_ = conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			var n int
			n, err = conn.Read(buf)
			if err == nil && n > 8 && buf[8] == 0x40 {
				return nil
			}
		}
		select {
		case <-exited:
			return errors.New("ipmi_sim exited")
		case <-ctx.Done():
			return fmt.Errorf("ipmi_sim does not answer on %s: %w (last: %v)", addr, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freePort returns a port that is free on host for network ("tcp" or
// "udp"), for programs that cannot be told to pick one.
func freePort(network, host string) (int, error) {
	addr := net.JoinHostPort(host, "0")
	if network == "udp" {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return 0, fmt.Errorf("finding a free UDP port: %w", err)
		}
		defer pc.Close()
		return pc.LocalAddr().(*net.UDPAddr).Port, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return 0, fmt.Errorf("finding a free TCP port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// connServer handles the connections to a unix socket, each in a
// goroutine, until stopped.
type connServer struct {
	ln     net.Listener
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func listenUnix(ctx context.Context, path string, handle func(context.Context, net.Conn)) (*connServer, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &connServer{ln: ln, ctx: ctx, cancel: cancel, conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			if ctx.Err() != nil {
				// stop has closed the connections it knew.
				s.mu.Unlock()
				conn.Close()
				return
			}
			s.conns[conn] = struct{}{}
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				handle(ctx, conn)
				conn.Close()
				s.mu.Lock()
				delete(s.conns, conn)
				s.mu.Unlock()
			}()
		}
	}()
	return s, nil
}

// stop closes the socket and the connections and waits for the handlers.
func (s *connServer) stop() {
	s.cancel()
	s.ln.Close()
	s.mu.Lock()
	for conn := range s.conns {
		conn.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// relayTo connects each connection to addr over TCP and copies both ways
// until either side closes.
func relayTo(addr string) func(context.Context, net.Conn) {
	return func(ctx context.Context, conn net.Conn) {
		dctx, cancel := context.WithTimeout(ctx, relayDialTimeout)
		var d net.Dialer
		peer, err := d.DialContext(dctx, "tcp", addr)
		cancel()
		if err != nil {
			klog.FromContext(ctx).V(2).Info("Relaying QEMU's BMC device to ipmi_sim failed", "err", err)
			return
		}
		copied := make(chan struct{})
		go func() {
			_, _ = io.Copy(peer, conn)
			peer.Close()
			close(copied)
		}()
		_, _ = io.Copy(conn, peer)
		conn.Close()
		peer.Close()
		<-copied
	}
}
