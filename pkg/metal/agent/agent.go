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

// Package agent is the inventory agent: what a bare-metal server runs when
// it network-boots into Arcturus's agent Environment. Its initramfs (see
// package initramfs) has the arcturus binary as /init; as PID 1 it sets up
// the system (Init), configures the network from DHCP, finds the hardware
// (Inventory), registers it with the metal service and heartbeats, wiping
// the disks, powering off or rebooting when the service says so (Run).
package agent

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
	"github.com/arcturus-cloud/arcturus/pkg/metal/agentapi"
)

const (
	// requestTimeout bounds each request to the metal service.
	requestTimeout = 30 * time.Second
	// maxResponseBytes bounds what the agent reads of an answer; an
	// instruction is a few dozen bytes.
	maxResponseBytes = 64 << 10
	// defaultHeartbeat is the heartbeat interval when the service names
	// none.
	defaultHeartbeat = 10 * time.Second
)

// Options configure the agent.
type Options struct {
	// URL is the metal service's base URL; when empty, the value of the
	// kernel argument agentapi.KernelArgURL.
	URL string
	// Root is where the agent finds /proc, /sys and the disks in /dev; "/"
	// when empty.
	Root string
	// ConfigureNetwork configures the network interfaces from DHCP first,
	// as the agent must on the server it runs on.
	ConfigureNetwork bool
	// Addresses gives the interfaces' addresses for the inventory; the
	// kernel's when nil.
	Addresses AddressFunc
	// PowerOff and Reboot end the agent when the service asks; when nil
	// they sync the disks and power off or restart the machine, so they
	// return only on failure. Run returns what they return.
	PowerOff, Reboot func() error
	// Client sends the requests to the metal service; a client without
	// proxy when nil, since the service is on the server's own network.
	Client *http.Client
}

func (o Options) withDefaults() Options {
	o.Root = cmp.Or(o.Root, "/")
	if o.Addresses == nil {
		o.Addresses = linkAddresses
	}
	if o.PowerOff == nil {
		o.PowerOff = func() error { return halt(unix.LINUX_REBOOT_CMD_POWER_OFF) }
	}
	if o.Reboot == nil {
		o.Reboot = func() error { return halt(unix.LINUX_REBOOT_CMD_RESTART) }
	}
	if o.Client == nil {
		o.Client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	}
	return o
}

func halt(cmd int) error {
	unix.Sync()
	if err := unix.Reboot(cmd); err != nil {
		return fmt.Errorf("reboot(%#x): %w", cmd, err)
	}
	return nil
}

// Run is the agent: it configures the network if asked, finds the
// hardware, registers it and follows the metal service's instructions
// until one powers the server off or reboots it. It returns when ctx ends,
// when the inventory fails, or with what PowerOff or Reboot returned.
func Run(ctx context.Context, opts Options) error {
	opts = opts.withDefaults()
	log := klog.FromContext(ctx)
	url := opts.URL
	if url == "" {
		var err error
		if url, err = kernelArg(opts.Root, agentapi.KernelArgURL); err != nil {
			return err
		}
	}

	// The lease renewals end with Run.
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if opts.ConfigureNetwork {
		if err := configureNetwork(ctx, opts.Root, &wg); err != nil {
			return err
		}
	}

	reg, err := Inventory(ctx, opts.Root, opts.Addresses)
	if err != nil {
		return fmt.Errorf("inventory: %w", err)
	}
	hw := reg.Hardware
	log.Info("Found the hardware", "uuid", reg.UUID, "manufacturer", hw.System.Manufacturer, "product", hw.System.ProductName,
		"threads", hw.Compute.TotalThreadCount, "memory", hw.Memory.Total.String(),
		"disks", len(hw.Storage.Disks), "storage", hw.Storage.Total.String(), "interfaces", len(hw.Network.Interfaces))
	a := &agent{opts: opts, url: strings.TrimSuffix(url, "/"), reg: reg, phase: metalv1alpha1.AgentWaiting}
	for _, d := range hw.Storage.Disks {
		a.disks = append(a.disks, filepath.Join(opts.Root, "dev", d.Name))
	}
	return a.run(ctx)
}

// kernelArg returns the value of the kernel argument name=value.
func kernelArg(root, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "proc/cmdline"))
	if err != nil {
		return "", fmt.Errorf("reading the kernel arguments: %w", err)
	}
	for _, f := range strings.Fields(string(b)) {
		if v, ok := strings.CutPrefix(f, name+"="); ok && v != "" {
			return v, nil
		}
	}
	return "", fmt.Errorf("no kernel argument %s=", name)
}

// agent is the protocol's state. Only run's goroutine touches it; a wipe
// reports through its job.
type agent struct {
	opts  Options
	url   string
	reg   agentapi.Registration
	disks []string

	phase   metalv1alpha1.AgentPhase
	wiped   metalv1alpha1.WipeMode
	message string
	job     *wipeJob
}

// wipeJob is a wipe running in the background.
type wipeJob struct {
	mode     metalv1alpha1.WipeMode
	cancel   context.CancelFunc
	done     chan error
	progress wipeProgress
}

// run registers, then heartbeats. Each answer is authoritative: it may
// start a wipe, cancel one (wait, or another mode), start another after
// the last finished, or end the agent.
func (a *agent) run(ctx context.Context) error {
	log := klog.FromContext(ctx)
	defer a.cancelWipe()
	inst, err := a.register(ctx)
	if err != nil {
		return err
	}
	for {
		now := false
		switch inst.Action {
		case agentapi.ActionPowerOff:
			return a.end(ctx, "Powering off", a.opts.PowerOff)
		case agentapi.ActionReboot:
			return a.end(ctx, "Rebooting", a.opts.Reboot)
		case agentapi.ActionWipe:
			now = a.startWipe(ctx, cmp.Or(inst.WipeMode, metalv1alpha1.WipeFast))
		case agentapi.ActionWait:
			if a.job != nil {
				a.cancelWipe()
				a.phase, a.message = metalv1alpha1.AgentWaiting, "wipe cancelled by the metal service"
				log.Info("The metal service cancelled the wipe")
			}
		default:
			log.Info("Ignoring an unknown instruction", "action", inst.Action)
		}
		// A new phase is reported at once; otherwise after the interval or
		// when the wipe ends.
		if !now {
			interval := defaultHeartbeat
			if inst.HeartbeatSeconds > 0 {
				interval = time.Duration(inst.HeartbeatSeconds) * time.Second
			}
			if err := a.waitNext(ctx, interval); err != nil {
				return err
			}
		}
		if inst, err = a.heartbeat(ctx); err != nil {
			return err
		}
	}
}

// startWipe starts a wipe in mode unless one is running already, and says
// whether it did.
func (a *agent) startWipe(ctx context.Context, mode metalv1alpha1.WipeMode) bool {
	if a.job != nil {
		if a.job.mode == mode {
			return false
		}
		a.cancelWipe()
	}
	wctx, cancel := context.WithCancel(ctx)
	job := &wipeJob{mode: mode, cancel: cancel, done: make(chan error, 1)}
	go func() { job.done <- wipe(wctx, a.disks, mode, &job.progress) }()
	a.job = job
	a.phase, a.wiped = metalv1alpha1.AgentWiping, ""
	a.message = fmt.Sprintf("wiping %d disks (%s)", len(a.disks), mode)
	klog.FromContext(ctx).Info("Wiping the disks", "mode", mode, "disks", a.disks)
	return true
}

// cancelWipe stops the running wipe, if any, and waits for it.
func (a *agent) cancelWipe() {
	if a.job != nil {
		a.job.cancel()
		<-a.job.done
		a.job = nil
	}
}

// waitNext waits for d, or less if the wipe succeeds meanwhile. A failed
// wipe is reported after d: a service that keeps asking for a wipe that
// keeps failing at once must not make the agent flood it.
func (a *agent) waitNext(ctx context.Context, d time.Duration) error {
	var done <-chan error
	if a.job != nil {
		done = a.job.done
	}
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if a.job != nil {
				klog.FromContext(ctx).Info("Wiping", "progress", fmt.Sprintf("%d%%", a.job.progress.percent()))
			}
			return nil
		case err := <-done:
			a.finishWipe(ctx, err)
			if err == nil {
				return nil
			}
			done = nil
		}
	}
}

func (a *agent) finishWipe(ctx context.Context, err error) {
	log := klog.FromContext(ctx)
	mode := a.job.mode
	a.job.cancel()
	a.job = nil
	if err != nil {
		a.phase, a.wiped, a.message = metalv1alpha1.AgentWaiting, "", "wipe failed: "+err.Error()
		log.Error(err, "Wipe failed")
		return
	}
	a.phase, a.wiped = metalv1alpha1.AgentWiped, mode
	a.message = fmt.Sprintf("wiped %d disks (%s)", len(a.disks), mode)
	log.Info("Wiped the disks", "mode", mode)
}

// end reports that the agent ends, once and best effort since the server
// goes away anyway, then calls fn.
func (a *agent) end(ctx context.Context, what string, fn func() error) error {
	log := klog.FromContext(ctx)
	a.cancelWipe()
	a.phase, a.message = metalv1alpha1.AgentPoweringOff, strings.ToLower(what)
	if _, err := a.post(ctx, agentapi.HeartbeatPath, a.heartbeatBody()); err != nil {
		log.Error(err, "Cannot report the end to the metal service")
	}
	log.Info(what)
	return fn()
}

func (a *agent) register(ctx context.Context) (agentapi.Instruction, error) {
	var inst agentapi.Instruction
	err := retry(ctx, "register with the metal service at "+a.url, func() error {
		var err error
		inst, err = a.post(ctx, agentapi.RegisterPath, a.reg)
		return err
	})
	if err == nil {
		klog.FromContext(ctx).Info("Registered with the metal service", "url", a.url, "action", inst.Action)
	}
	return inst, err
}

// heartbeat reports the agent's state until the service answers. A
// service that no longer knows the server gets a new registration.
func (a *agent) heartbeat(ctx context.Context) (agentapi.Instruction, error) {
	var inst agentapi.Instruction
	registered := true
	err := retry(ctx, "heartbeat to the metal service", func() error {
		var err error
		if registered {
			inst, err = a.post(ctx, agentapi.HeartbeatPath, a.heartbeatBody())
		} else {
			inst, err = a.post(ctx, agentapi.RegisterPath, a.reg)
		}
		if se := (*statusError)(nil); errors.As(err, &se) && se.code == http.StatusNotFound {
			registered = false
		}
		return err
	})
	return inst, err
}

func (a *agent) heartbeatBody() agentapi.Heartbeat {
	hb := agentapi.Heartbeat{UUID: a.reg.UUID, Phase: a.phase, Wiped: a.wiped, Message: a.message}
	if a.job != nil {
		hb.WipeProgress = a.job.progress.percent()
	}
	return hb
}

// statusError is an answer other than 200 OK.
type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.code, e.body)
}

// post sends body as JSON to path and decodes the instruction it gets.
func (a *agent) post(ctx context.Context, path string, body any) (agentapi.Instruction, error) {
	var inst agentapi.Instruction
	b, err := json.Marshal(body)
	if err != nil {
		return inst, err
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url+path, bytes.NewReader(b))
	if err != nil {
		return inst, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.opts.Client.Do(req)
	if err != nil {
		return inst, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return inst, &statusError{code: resp.StatusCode, body: strings.TrimSpace(string(msg))}
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes)).Decode(&inst); err != nil {
		return inst, fmt.Errorf("decoding the instruction: %w", err)
	}
	return inst, nil
}

// retry calls fn until it succeeds or ctx ends, logging each failure and
// backing off exponentially, with jitter so that a rack of servers booting
// together does not retry in step.
func retry(ctx context.Context, what string, fn func() error) error {
	b := wait.Backoff{Duration: time.Second, Factor: 2, Jitter: 0.2, Steps: math.MaxInt32, Cap: 30 * time.Second}
	for {
		err := fn()
		if err == nil {
			return nil
		}
		d := b.Step()
		klog.FromContext(ctx).Error(err, "Failed to "+what, "retryIn", d.Round(100*time.Millisecond))
		if sleep(ctx, d) != nil {
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
	}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
