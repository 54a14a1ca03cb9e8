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
	"bytes"
	"context"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goipmi "github.com/bougou/go-ipmi/pkg/client"
	"github.com/bougou/go-ipmi/pkg/command/chassis"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime/vm/qmp"
	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime/vm/vmtest"
	"github.com/arcturus-cloud/arcturus/pkg/metal/power"
	"github.com/arcturus-cloud/arcturus/pkg/metal/power/ipmi"
)

func requireIPMISim(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ipmi_sim"); err != nil {
		t.Skip("ipmi_sim not installed (Debian: openipmi)")
	}
}

// TestIPMIPower drives a machine that boots the test kernel with the IPMI
// power driver, through ipmi_sim.
func TestIPMIPower(t *testing.T) {
	t.Parallel()
	requireIPMISim(t)
	m := startMachine(t, Spec{
		Name:      "ipmi-1",
		BMC:       BMCSpec{Type: BMCIPMI, Username: "root", Password: "ipmi-secret"},
		ExtraArgs: kernelArgs(t),
	})
	ctx := context.Background()
	host, portStr, err := net.SplitHostPort(m.BMCEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(portStr)
	user, pass := m.BMCCredentials()
	cfg := ipmi.Config{Address: host, Port: port, Username: user, Password: pass, Timeout: 30 * time.Second}
	c, err := ipmi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	wantState := func(want power.State) {
		t.Helper()
		if got, err := c.State(ctx); err != nil || got != want {
			t.Fatalf("State() = %s, %v; want %s", got, err, want)
		}
	}

	wantState(power.StateOff)

	if err := c.PXEOnce(ctx); err != nil {
		t.Fatalf("PXEOnce: %v", err)
	}
	if !m.BootOverride().PXE {
		t.Fatal("no PXE boot override after PXEOnce")
	}
	if _, err := exec.LookPath("ipmitool"); err == nil {
		// -C 3: ipmi_sim lacks Get Channel Cipher Suites, which ipmitool
		// otherwise waits 10 seconds for.
		out, err := exec.Command("ipmitool", "-I", "lanplus", "-C", "3", "-H", host, "-p", portStr, "-U", user, "-P", pass,
			"chassis", "bootparam", "get", "5").CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("Force PXE")) {
			t.Errorf("ipmitool chassis bootparam get 5: %v:\n%s\nwant Force PXE", err, out)
		}
	}

	if err := c.On(ctx); err != nil {
		t.Fatalf("On: %v", err)
	}
	if st := vmStatus(t, m); st != "running" {
		t.Fatalf("QEMU status %q after On, want running", st)
	}
	if m.BootOverride().PXE {
		t.Error("the PXE boot override was not consumed by the power on")
	}
	waitConsole(t, m, vmtest.BootedMarker, 1)
	wantState(power.StateOn)
	if link := chardevFilename(t, m, "ipmi0"); strings.HasPrefix(link, "disconnected") {
		t.Errorf("QEMU's BMC device is not connected to ipmi_sim: %s", link)
	}

	// A soft shutdown presses the power button; the guest powers off.
	softShutdown(t, cfg)
	waitConsole(t, m, vmtest.PowerButtonMarker, 1)
	waitPowerState(t, m, "Off", time.Minute)
	wantState(power.StateOff)

	if err := c.Cycle(ctx); err != nil {
		t.Fatalf("Cycle when off: %v", err)
	}
	wantState(power.StateOn)
	pid := qemuPID(m)
	// ipmi_sim powers off, then on a second later.
	if err := c.Cycle(ctx); err != nil {
		t.Fatalf("Cycle when on: %v", err)
	}
	deadline := time.Now().Add(time.Minute)
	for p := qemuPID(m); p == 0 || p == pid; p = qemuPID(m) {
		if time.Now().After(deadline) {
			t.Fatalf("QEMU %d after Cycle, want a new process replacing %d", p, pid)
		}
		time.Sleep(100 * time.Millisecond)
	}

	pid = qemuPID(m)
	if err := c.Off(ctx); err != nil {
		t.Fatalf("Off: %v", err)
	}
	if !processGone(pid, m) {
		t.Fatalf("QEMU %d still runs after Off", pid)
	}
	wantState(power.StateOff)

	badCfg := cfg
	badCfg.Password = "wrong"
	bad, err := ipmi.New(badCfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.State(ctx); !errors.Is(err, power.ErrUnauthorized) || errors.Is(err, power.ErrUnreachable) {
		t.Fatalf("State with a wrong password: %v; want ErrUnauthorized", err)
	}

	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	goneCfg := cfg
	goneCfg.Timeout = 3 * time.Second
	gone, err := ipmi.New(goneCfg)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := gone.State(ctx); !errors.Is(err, power.ErrUnreachable) {
		t.Fatalf("State of a stopped BMC: %v; want ErrUnreachable", err)
	}
	if took := time.Since(start); took > goneCfg.Timeout+time.Second {
		t.Errorf("State of a stopped BMC took %s, longer than the timeout %s", took, goneCfg.Timeout)
	}
}

// softShutdown sends the chassis control that the power driver does not.
func softShutdown(t *testing.T, cfg ipmi.Config) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	c, err := goipmi.NewClient(cfg.Address, cfg.Port, cfg.Username, cfg.Password)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.ChassisControl(ctx, chassis.ChassisControlSoftShutdown); err != nil {
		t.Fatalf("soft shutdown: %v", err)
	}
}

// chardevFilename returns how QEMU describes a character device, which
// starts with "disconnected" while a socket is not connected.
func chardevFilename(t *testing.T, m *Machine, label string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := qmp.Dial(ctx, m.QMPSocket())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var devs []struct{ Label, Filename string }
	if err := c.Execute(ctx, "query-chardev", nil, &devs); err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		if d.Label == label {
			return d.Filename
		}
	}
	t.Fatalf("no chardev %s", label)
	return ""
}

// TestChassisControl runs the chassis control program as ipmi_sim does,
// against a machine that is not started.
func TestChassisControl(t *testing.T) {
	m, err := New(Spec{Name: "chassis", Dir: shortDir(t), BMC: BMCSpec{Type: BMCIPMI, Password: "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(m.spec.Dir, bmcSocket)
	srv, err := listenUnix(context.Background(), sock, m.serveChassisControl)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.stop()

	for _, tc := range []struct {
		args     string
		code     int
		out      string
		wantBoot bool
	}{
		{args: "0x20 get power boot", out: "power:0\nboot:none\n"},
		{args: "0x20 set boot pxe", wantBoot: true},
		{args: "0x20 get boot", out: "boot:pxe\n", wantBoot: true},
		{args: "0x20 set boot cdrom", code: 1, out: "not supported", wantBoot: true},
		{args: "0x20 set boot none"},
		{args: "0x20 set power 1", code: 1, out: "not started"},
		{args: "0x20 set identify 15 0", code: 1, out: "want parameter and value pairs"},
		{args: "0x20 get temperature", code: 1, out: `cannot get "temperature"`},
		{args: "0x20 check", code: 1, out: "unsupported"},
	} {
		var out bytes.Buffer
		code := chassisControlMain(sock, strings.Fields(tc.args), &out)
		if code != tc.code || (tc.code == 0 && out.String() != tc.out) || !strings.Contains(out.String(), tc.out) {
			t.Errorf("%s: exit %d, output %q; want exit %d, output %q", tc.args, code, out.String(), tc.code, tc.out)
		}
		if got := m.BootOverride().PXE; got != tc.wantBoot {
			t.Errorf("after %s: PXE override %v, want %v", tc.args, got, tc.wantBoot)
		}
	}

	var out bytes.Buffer
	if code := chassisControlMain(filepath.Join(m.spec.Dir, "nothing.sock"), []string{"0x20", "get", "power"}, &out); code != 1 {
		t.Errorf("without a machine: exit %d, want 1", code)
	}
}
