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

// Package ipmi is a power.Driver for BMCs that speak IPMI over the LAN:
// IPMI 2.0 RMCP+ ("lanplus"), or IPMI 1.5 ("lan") for old BMCs. Each call
// opens a session, sends its chassis commands and closes the session, as
// ipmitool does.
package ipmi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bougou/go-ipmi/pkg/client"
	"github.com/bougou/go-ipmi/pkg/command/chassis"
	"github.com/bougou/go-ipmi/pkg/types"
	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/metal/power"
)

// Interfaces.
const (
	Lanplus = "lanplus"
	Lan     = "lan"
)

const (
	// DefaultPort is the RMCP port.
	DefaultPort = 623
	// DefaultTimeout bounds one driver call when Config.Timeout is zero.
	DefaultTimeout = 20 * time.Second
	// exchangeTimeout is how long one UDP request waits for its answer
	// before it is sent again, as in ipmitool.
	exchangeTimeout = time.Second
	// closeTimeout bounds closing the session, which happens even when the
	// call's context has ended.
	closeTimeout = 2 * time.Second
)

// cipherSuites are offered in this order: 17 (SHA-256, AES) where the BMC
// has it, else 3 (SHA-1, AES), which every IPMI 2.0 BMC has. Naming them
// skips Get Channel Cipher Suites, which not every BMC answers.
var cipherSuites = []types.CipherSuiteID{types.CipherSuiteID17, types.CipherSuiteID3}

// Config says how to reach a BMC.
type Config struct {
	// Address is the BMC's host name or IP address.
	Address string
	// Port is the RMCP port; DefaultPort when zero.
	Port     int
	Username string
	Password string
	// Interface is Lanplus (the default) or Lan.
	Interface string
	// EFIBoot marks the network boot PXEOnce asks for as a UEFI boot,
	// which BMCs of servers that boot in UEFI mode may need.
	EFIBoot bool
	// Timeout bounds each driver call; DefaultTimeout when zero.
	Timeout time.Duration
}

// Client is a power.Driver for one BMC. It is safe for concurrent use.
type Client struct {
	cfg Config
}

var _ power.Driver = (*Client)(nil)

// New returns a client for cfg. It does not contact the BMC.
func New(cfg Config) (*Client, error) {
	if cfg.Address == "" {
		return nil, errors.New("ipmi: no BMC address")
	}
	if cfg.Port == 0 {
		cfg.Port = DefaultPort
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("ipmi: invalid port %d", cfg.Port)
	}
	switch cfg.Interface {
	case "":
		cfg.Interface = Lanplus
	case Lanplus, Lan:
	default:
		return nil, fmt.Errorf("ipmi: unknown interface %q, want %q or %q", cfg.Interface, Lanplus, Lan)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Client{cfg: cfg}, nil
}

// State returns the chassis power state.
func (c *Client) State(ctx context.Context) (power.State, error) {
	state := power.StateUnknown
	err := c.session(ctx, func(ctx context.Context, cl *client.Client) error {
		on, err := powerIsOn(ctx, cl)
		if err == nil {
			state = onOff(on)
		}
		return err
	})
	return state, err
}

// On powers the chassis up unless it is on.
func (c *Client) On(ctx context.Context) error {
	return c.control(ctx, func(on bool) (chassis.ChassisControl, bool) {
		return chassis.ChassisControlPowerUp, !on
	})
}

// Off powers the chassis down, without asking the operating system, unless
// it is off.
func (c *Client) Off(ctx context.Context) error {
	return c.control(ctx, func(on bool) (chassis.ChassisControl, bool) {
		return chassis.ChassisControlPowerDown, on
	})
}

// Cycle power cycles the chassis, or powers it up if it is off: BMCs
// refuse to cycle a chassis that is off.
func (c *Client) Cycle(ctx context.Context) error {
	return c.control(ctx, func(on bool) (chassis.ChassisControl, bool) {
		if on {
			return chassis.ChassisControlPowerCycle, true
		}
		return chassis.ChassisControlPowerUp, true
	})
}

// PXEOnce sets the boot flags to force a PXE boot at the next boot only.
func (c *Client) PXEOnce(ctx context.Context) error {
	bootType := types.BIOSBootTypeLegacy
	if c.cfg.EFIBoot {
		bootType = types.BIOSBootTypeEFI
	}
	return c.session(ctx, func(ctx context.Context, cl *client.Client) error {
		if err := cl.SetBootDevice(ctx, types.BootDeviceSelectorForcePXE, bootType, false); err != nil {
			return fmt.Errorf("setting a PXE boot: %w", err)
		}
		klog.FromContext(ctx).V(2).Info("Set a one-time PXE boot", "bmc", c.address())
		return nil
	})
}

// control reads the power state and sends the chassis control that
// decide returns, if it says to.
func (c *Client) control(ctx context.Context, decide func(on bool) (chassis.ChassisControl, bool)) error {
	return c.session(ctx, func(ctx context.Context, cl *client.Client) error {
		on, err := powerIsOn(ctx, cl)
		if err != nil {
			return err
		}
		ctl, send := decide(on)
		if !send {
			return nil
		}
		if _, err := cl.ChassisControl(ctx, ctl); err != nil {
			return fmt.Errorf("chassis control %d: %w", ctl, err)
		}
		klog.FromContext(ctx).V(2).Info("Sent a chassis control", "bmc", c.address(), "control", int(ctl))
		return nil
	})
}

func powerIsOn(ctx context.Context, cl *client.Client) (bool, error) {
	st, err := cl.GetChassisStatus(ctx)
	if err != nil {
		return false, fmt.Errorf("reading the chassis status: %w", err)
	}
	return st.PowerIsOn, nil
}

func onOff(on bool) power.State {
	if on {
		return power.StateOn
	}
	return power.StateOff
}

func (c *Client) address() string {
	return net.JoinHostPort(c.cfg.Address, strconv.Itoa(c.cfg.Port))
}

// session runs fn in a session with the BMC, bounded by the timeout.
func (c *Client) session(ctx context.Context, fn func(context.Context, *client.Client) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	cl, err := client.NewClient(c.cfg.Address, c.cfg.Port, c.cfg.Username, c.cfg.Password)
	if err != nil {
		return fmt.Errorf("ipmi: %w", err)
	}
	cl.WithInterface(client.Interface(c.cfg.Interface)).
		WithTimeout(min(exchangeTimeout, c.cfg.Timeout)).
		// Retries stop at the deadline of ctx; this only has to be
		// enough to fill it.
		WithRetry(int(c.cfg.Timeout / exchangeTimeout)).
		WithCipherSuiteID(cipherSuites...)
	if err := cl.Connect(ctx); err != nil {
		return classify(fmt.Errorf("ipmi: connecting to %s: %w", c.address(), err))
	}
	defer func() {
		// Sessions are few on a BMC: close it even if ctx has ended.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		defer cancel()
		if err := cl.Close(cctx); err != nil {
			klog.FromContext(ctx).V(4).Info("Closing the IPMI session failed", "bmc", c.address(), "err", err)
		}
	}()
	if err := fn(ctx, cl); err != nil {
		return classify(fmt.Errorf("ipmi: %s: %w", c.address(), err))
	}
	return nil
}

// Messages of errors that go-ipmi does not let errors.Is find: it joins the
// errors of the cipher suites it tried into text, and does not export the
// error of a BMC that sent nothing back.
var (
	authFailedMessage = client.ErrRAKPAuthentication.Error()
	noAnswerMessages  = []string{"no datagram matched", "no matching IPMI response"}
)

// classify marks errors of BMCs that did not answer, and of BMCs that
// rejected the credentials in RMCP+ authentication. (IPMI 1.5 BMCs refuse
// sessions with completion codes that do not single out credentials.)
func classify(err error) error {
	var netErr net.Error
	msg := err.Error()
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, client.ErrRAKPAuthentication), strings.Contains(msg, authFailedMessage):
		return fmt.Errorf("%w: %w", power.ErrUnauthorized, err)
	case errors.As(err, &netErr), errors.Is(err, context.DeadlineExceeded),
		slices.ContainsFunc(noAnswerMessages, func(m string) bool { return strings.Contains(msg, m) }):
		return fmt.Errorf("%w: %w", power.ErrUnreachable, err)
	}
	return err
}
