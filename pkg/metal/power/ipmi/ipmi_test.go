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

package ipmi

import (
	"context"
	"errors"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bougou/go-ipmi/pkg/bmc"
	"github.com/bougou/go-ipmi/pkg/clock"
	"github.com/bougou/go-ipmi/pkg/hal"
	"github.com/bougou/go-ipmi/pkg/hal/mock"
	"github.com/bougou/go-ipmi/pkg/server"
	"github.com/bougou/go-ipmi/pkg/transport/udp"
	"github.com/bougou/go-ipmi/pkg/types"
	"go.uber.org/goleak"

	"github.com/arcturus-cloud/arcturus/pkg/metal/power"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The driver against ipmi_sim, with a QEMU machine behind it, is tested in
// pkg/metal/lab/machine. These tests use go-ipmi's reference BMC, whose
// chassis is a mock.

const (
	testUser = "admin"
	testPass = "secret"
)

// recordingHAL is the reference BMC's mock hardware, with its chassis
// recording the power commands it gets.
type recordingHAL struct {
	*mock.HAL
	chassis *recordingChassis
}

func (h *recordingHAL) Chassis() hal.ChassisHAL { return h.chassis }

type recordingChassis struct {
	hal.ChassisHAL
	mu       sync.Mutex
	commands []string
}

func (c *recordingChassis) record(cmd string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.commands = append(c.commands, cmd)
}

// recorded returns the commands so far and forgets them.
func (c *recordingChassis) recorded() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	cmds := c.commands
	c.commands = nil
	return cmds
}

func (c *recordingChassis) SetPower(ctx context.Context, on bool) error {
	c.record(map[bool]string{true: "up", false: "down"}[on])
	return c.ChassisHAL.SetPower(ctx, on)
}

func (c *recordingChassis) PowerCycle(ctx context.Context) error {
	c.record("cycle")
	return c.ChassisHAL.PowerCycle(ctx)
}

// startBMC serves a reference BMC on a free port until the test ends.
func startBMC(t *testing.T) (*recordingChassis, Config) {
	t.Helper()
	m := mock.New()
	h := &recordingHAL{HAL: m, chassis: &recordingChassis{ChassisHAL: m.Chassis()}}
	b := bmc.New(bmc.DeviceInfo{DeviceID: 32, IPMIVersion: 0x20}, [16]byte{1}, h, bmc.WithClock(clock.Real))
	u, err := b.Users.Add(2, testUser)
	if err != nil {
		t.Fatal(err)
	}
	u.SetPassword([]byte(testPass))
	u.Enabled = true
	u.ChannelAccess[1] = bmc.UserChannelAccess{MaxPrivilege: bmc.PrivilegeLevelAdministrator, Enabled: true}
	conn, err := udp.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.NewServer(b, conn)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		_ = srv.Close()
		_ = conn.Close()
		<-done
	})
	port := conn.LocalAddr().(*net.UDPAddr).Port
	return h.chassis, Config{Address: "127.0.0.1", Port: port, Username: testUser, Password: testPass, Timeout: 5 * time.Second}
}

func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPower(t *testing.T) {
	for _, intf := range []string{Lanplus, Lan} {
		t.Run(intf, func(t *testing.T) {
			chassis, cfg := startBMC(t)
			cfg.Interface = intf
			c := newClient(t, cfg)
			ctx := context.Background()
			for _, step := range []struct {
				name string
				op   func(context.Context) error
				want []string
			}{
				{"off when off", c.Off, nil},
				{"cycle when off", c.Cycle, []string{"up"}},
				{"on when on", c.On, nil},
				{"cycle when on", c.Cycle, []string{"cycle"}},
				{"off", c.Off, []string{"down"}},
				{"on", c.On, []string{"up"}},
			} {
				if err := step.op(ctx); err != nil {
					t.Fatalf("%s: %v", step.name, err)
				}
				if got := chassis.recorded(); !slices.Equal(got, step.want) {
					t.Errorf("%s: chassis got %v, want %v", step.name, got, step.want)
				}
			}
			if got, err := c.State(ctx); err != nil || got != power.StateOn {
				t.Errorf("State() = %s, %v; want On", got, err)
			}
			if err := c.Off(ctx); err != nil {
				t.Fatal(err)
			}
			if got, err := c.State(ctx); err != nil || got != power.StateOff {
				t.Errorf("State() = %s, %v; want Off", got, err)
			}
		})
	}
}

func TestPXEOnce(t *testing.T) {
	for _, efi := range []bool{false, true} {
		chassis, cfg := startBMC(t)
		cfg.EFIBoot = efi
		if err := newClient(t, cfg).PXEOnce(context.Background()); err != nil {
			t.Fatalf("PXEOnce: %v", err)
		}
		f, err := chassis.GetBootFlags(context.Background())
		if err != nil || !f.BootFlagsValid || f.Persist || f.BootDeviceSelector != types.BootDeviceSelectorForcePXE ||
			f.BIOSBootType != types.BIOSBootType(efi) {
			t.Errorf("EFI %v: boot flags %+v, %v; want a valid PXE boot for the next boot only", efi, f, err)
		}
	}
}

func TestWrongPassword(t *testing.T) {
	for _, intf := range []string{Lanplus, Lan} {
		_, cfg := startBMC(t)
		cfg.Interface = intf
		cfg.Password = "wrong"
		_, err := newClient(t, cfg).State(context.Background())
		// IPMI 1.5 BMCs answer with completion codes that do not tell
		// credentials from other refusals.
		if err == nil || errors.Is(err, power.ErrUnreachable) || (intf == Lanplus && !errors.Is(err, power.ErrUnauthorized)) {
			t.Errorf("%s: State with a wrong password: %v; want it refused", intf, err)
		}
	}
}

func TestUnreachable(t *testing.T) {
	// A port nobody listens on: the kernel refuses at once.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	// A socket that never answers: the driver gives up at its timeout.
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	for name, port := range map[string]int{"refused": closedPort, "silent": silent.LocalAddr().(*net.UDPAddr).Port} {
		const timeout = 2 * time.Second
		c := newClient(t, Config{Address: "127.0.0.1", Port: port, Username: testUser, Password: testPass, Timeout: timeout})
		start := time.Now()
		_, err := c.State(context.Background())
		if !errors.Is(err, power.ErrUnreachable) {
			t.Errorf("%s: %v; want ErrUnreachable", name, err)
		}
		if took := time.Since(start); took > timeout+time.Second {
			t.Errorf("%s: took %s, timeout %s", name, took, timeout)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := newClient(t, Config{Address: "127.0.0.1", Port: closedPort, Timeout: time.Second})
	if err := c.On(ctx); !errors.Is(err, context.Canceled) || errors.Is(err, power.ErrUnreachable) {
		t.Errorf("On with a canceled context: %v; want context.Canceled only", err)
	}
}

func TestNew(t *testing.T) {
	c, err := New(Config{Address: "bmc.example"})
	if err != nil {
		t.Fatal(err)
	}
	if c.cfg.Port != DefaultPort || c.cfg.Interface != Lanplus || c.cfg.Timeout != DefaultTimeout {
		t.Errorf("defaults: %+v", c.cfg)
	}
	for _, cfg := range []Config{
		{},
		{Address: "bmc.example", Port: 70000},
		{Address: "bmc.example", Interface: "open"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}
