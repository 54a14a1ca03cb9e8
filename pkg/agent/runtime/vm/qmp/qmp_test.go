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

package qmp

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// startQEMU starts a QEMU without a machine, which is enough to speak QMP,
// and returns the path of its QMP socket.
func startQEMU(t *testing.T) (string, *exec.Cmd) {
	t.Helper()
	bin, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Skip("qemu-system-x86_64 not installed")
	}
	sock := filepath.Join(t.TempDir(), "qmp.sock")
	cmd := exec.Command(bin, "-machine", "none", "-nodefaults", "-display", "none",
		"-qmp", "unix:"+sock+",server=on,wait=off")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("QMP socket did not appear")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return sock, cmd
}

func TestCommandsAndEvents(t *testing.T) {
	sock, _ := startQEMU(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	c, err := Dial(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if g := c.Greeting(); g.Version.QEMU.Major == 0 {
		t.Errorf("greeting without version: %+v", g)
	}

	var version struct {
		QEMU struct{ Major int } `json:"qemu"`
	}
	if err := c.Execute(ctx, "query-version", nil, &version); err != nil {
		t.Fatal(err)
	}
	if version.QEMU.Major != c.Greeting().Version.QEMU.Major {
		t.Errorf("query-version %d, greeting %d", version.QEMU.Major, c.Greeting().Version.QEMU.Major)
	}

	st, err := c.QueryStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != StatusRunning || !st.Running {
		t.Errorf("status %+v, want running", st)
	}

	err = c.Execute(ctx, "no-such-command", nil, nil)
	var qerr *Error
	if !errors.As(err, &qerr) || qerr.Class != "CommandNotFound" {
		t.Errorf("unknown command: got %v, want CommandNotFound", err)
	}

	// Arguments are passed through.
	err = c.Execute(ctx, "human-monitor-command", map[string]any{"command-line": "info version"}, nil)
	if err != nil {
		t.Errorf("human-monitor-command: %v", err)
	}

	if err := c.Execute(ctx, "stop", nil, nil); err != nil {
		t.Fatal(err)
	}
	if ev, err := c.WaitEvent(ctx, "STOP"); err != nil {
		t.Fatal(err)
	} else if ev.Timestamp.IsZero() {
		t.Error("event without timestamp")
	}
	if st, err := c.QueryStatus(ctx); err != nil || st.Status != StatusPaused {
		t.Errorf("after stop: %+v, %v", st, err)
	}
	if err := c.Execute(ctx, "cont", nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitEvent(ctx, "RESUME"); err != nil {
		t.Fatal(err)
	}

	// quit answers, then QEMU closes the connection.
	if err := c.Execute(ctx, "quit", nil, nil); err != nil {
		t.Fatalf("quit: %v", err)
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatal("connection still open after quit")
	}
	if err := c.Execute(ctx, "query-status", nil, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("command after close: %v, want ErrClosed", err)
	}
}

func TestStdio(t *testing.T) {
	bin, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Skip("qemu-system-x86_64 not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-machine", "none", "-nodefaults", "-display", "none", "-qmp", "stdio")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(ctx, pipeConn{stdout, stdin})
	if err != nil {
		t.Fatal(err)
	}
	var kvm struct {
		Present bool `json:"present"`
	}
	if err := c.Execute(ctx, "query-kvm", nil, &kvm); err != nil {
		t.Fatal(err)
	}
	if err := c.Execute(ctx, "quit", nil, nil); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := cmd.Wait(); err != nil {
		t.Errorf("qemu: %v", err)
	}
}

type pipeConn struct {
	r interface{ Read([]byte) (int, error) }
	w interface {
		Write([]byte) (int, error)
		Close() error
	}
}

func (p pipeConn) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p pipeConn) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p pipeConn) Close() error                { return p.w.Close() }

func TestGreetingTimeout(t *testing.T) {
	// A server that accepts and never speaks.
	sock := filepath.Join(t.TempDir(), "silent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := Dial(ctx, sock); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want deadline exceeded", err)
	}
	for c := range accepted {
		c.Close()
	}
}

func TestDialMissing(t *testing.T) {
	_, err := Dial(context.Background(), filepath.Join(t.TempDir(), "none.sock"))
	if err == nil {
		t.Fatal("dial of a missing socket succeeded")
	}
}
