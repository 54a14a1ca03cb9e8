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
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime/vm/qmp"
	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime/vm/vmtest"
)

func TestMain(m *testing.M) {
	// ipmi_sim runs this test binary as its chassis control program and
	// waits for it; built with -race, it would linger a second at exit,
	// long enough for IPMI clients to send their requests again.
	os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	goleak.VerifyTestMain(m)
}

// bootTimeout bounds a boot of the test kernel under TCG on a loaded host.
const bootTimeout = 3 * time.Minute

// shortDir returns a directory for a machine whose unix socket paths fit,
// as t.TempDir's may not with long test names.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lab-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// kernelArgs boots the test kernel of vmtest directly, skipping the test
// if the host lacks what it needs.
func kernelArgs(t *testing.T) []string {
	t.Helper()
	k := vmtest.Boot(t)
	return []string{"-kernel", k.Kernel, "-initrd", k.Initrd, "-append", "console=ttyS0 " + k.Args}
}

// startMachine starts a machine that is stopped when the test ends.
func startMachine(t *testing.T, spec Spec) *Machine {
	t.Helper()
	if spec.Dir == "" {
		spec.Dir = shortDir(t)
	}
	if spec.MemoryMiB == 0 {
		spec.MemoryMiB = 256
	}
	m, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := m.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
		if t.Failed() {
			for _, f := range []string{consoleLogFile, qemuLogFile, ipmiLogFile} {
				if b, err := os.ReadFile(m.path(f)); err == nil {
					t.Logf("%s:\n%s", f, tail(string(b), 3000))
				}
			}
		}
	})
	return m
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// waitConsole waits until the console log holds marker n times.
func waitConsole(t *testing.T, m *Machine, marker string, n int) {
	t.Helper()
	deadline := time.Now().Add(bootTimeout)
	for {
		b, _ := os.ReadFile(m.ConsoleLog())
		if strings.Count(string(b), marker) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q did not appear %d times on the console:\n%s", marker, n, tail(string(b), 2000))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitPowerState waits until the machine's power state is want.
func waitPowerState(t *testing.T, m *Machine, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for string(m.PowerState()) != want {
		if time.Now().After(deadline) {
			t.Fatalf("power state is %s, want %s", m.PowerState(), want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// vmStatus returns QEMU's run state as QMP reports it.
func vmStatus(t *testing.T, m *Machine) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := qmp.Dial(ctx, m.QMPSocket())
	if err != nil {
		t.Fatalf("QMP: %v", err)
	}
	defer c.Close()
	st, err := c.QueryStatus(ctx)
	if err != nil {
		t.Fatalf("query-status: %v", err)
	}
	return st.Status
}

// qemuPID returns the pid of the machine's QEMU, 0 when off.
func qemuPID(m *Machine) int {
	if p := m.running(); p != nil {
		return p.cmd.Process.Pid
	}
	return 0
}

// processGone reports whether pid no longer runs the QEMU of m (it may
// have been reused).
func processGone(pid int, m *Machine) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	return err != nil || !strings.Contains(string(b), m.QMPSocket())
}
