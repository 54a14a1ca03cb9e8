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

package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
	"github.com/arcturus-cloud/arcturus/pkg/metal/agentapi"
	"github.com/arcturus-cloud/arcturus/pkg/metal/service"
)

// MetalConfig sizes the bare-metal plane's bench.
type MetalConfig struct {
	Agents    int
	Heartbeat time.Duration
	// WipeSteps is how many heartbeats a simulated wipe reports progress
	// over.
	WipeSteps int
}

// NewMetalConfig returns the defaults: a thousand agents, as many as a
// large data hall, reporting every five seconds.
func NewMetalConfig() *MetalConfig {
	return &MetalConfig{Agents: 1000, Heartbeat: 5 * time.Second, WipeSteps: 5}
}

// AddFlags adds the bench's flags.
func (c *MetalConfig) AddFlags(fs *pflag.FlagSet) {
	fs.IntVar(&c.Agents, "agents", c.Agents, "Simulated inventory agents, all registering at once.")
	fs.DurationVar(&c.Heartbeat, "heartbeat", c.Heartbeat, "How often the agents report (the metal service's --agent-heartbeat).")
	fs.IntVar(&c.WipeSteps, "wipe-steps", c.WipeSteps, "Heartbeats each simulated wipe reports progress over before it is done.")
}

// agentResult is what one simulated agent saw.
type agentResult struct {
	register      time.Duration
	heartbeats    []time.Duration
	cleanAfter    time.Duration
	failures      int
	firstFailure  error
	finalInstruct agentapi.Action
}

// RunMetal measures the agent protocol at scale: a fresh `arcturus server`
// and `arcturus metal` (no DHCP or TFTP, boot HTTP on loopback, servers
// auto-accepted), and Agents simulated agents that register at the same
// moment, then heartbeat through a wipe until the service tells them to
// power off. It reports registration and heartbeat latency, the time until
// every server is clean and listed available in class "any", and CPU.
func RunMetal(ctx context.Context, c *MetalConfig, out, log io.Writer) error {
	if c.Agents < 1 || c.Heartbeat < time.Second || c.WipeSteps < 1 {
		return errors.New("--agents and --wipe-steps must be positive and --heartbeat at least 1s")
	}
	p := progress{w: log, start: time.Now()}
	env := newTable("Environment", "", "", "")
	addEnvironment(env, "server, metal service and the simulated agents share it")
	env.add("Go", runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH)
	env.add("Agents", fmt.Sprintf("%d goroutines of the bench, each its own HTTP connection, speaking the agent protocol (pkg/metal/agentapi) with a realistic hardware report; every %v a heartbeat; %d heartbeats of wipe progress, then Wiped", c.Agents, c.Heartbeat, c.WipeSteps))
	env.write(out)

	server, config, err := startChild(ctx, true)
	if err != nil {
		return err
	}
	defer func() { _ = server.stop(p.printf) }()
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(server.dir, "data", "admin.kubeconfig")
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	metalDir := filepath.Join(server.dir, "metal")
	metalLog, err := os.Create(filepath.Join(server.dir, "metal.log"))
	if err != nil {
		return err
	}
	defer metalLog.Close()
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	cmd := exec.Command(exe, "metal", "--kubeconfig", kubeconfig, "--data-dir", metalDir,
		"--http-address", addr, "--advertise-address", "127.0.0.1", "--dhcp-mode", "off", "--tftp-address", "",
		"--health-address", "", "--leader-elect=false", "--auto-accept", "--agent-heartbeat", c.Heartbeat.String(),
		"--agent-timeout", (6 * c.Heartbeat).String())
	cmd.Stdout, cmd.Stderr = metalLog, metalLog
	metal, err := startProcess(cmd)
	if err != nil {
		return fmt.Errorf("starting arcturus metal: %w", err)
	}
	defer func() {
		if err := metal.terminate("metal service", stopTimeout); err != nil {
			p.printf("%v", err)
		}
	}()
	base := "http://" + addr
	if err := waitHTTP(ctx, base+"/boot.ipxe", metal.exited); err != nil {
		return fmt.Errorf("metal service (log %s): %w", metalLog.Name(), err)
	}
	p.printf("server and metal service ready; %d agents register", c.Agents)

	cl, err := client.New(config, client.Options{Scheme: service.Scheme})
	if err != nil {
		return err
	}
	before := readCPU(server.pid(), metal.pid())
	start := time.Now()
	results := make([]agentResult, c.Agents)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range c.Agents {
		wg.Go(func() {
			<-gate
			results[i] = simulateAgent(ctx, base, i, c)
		})
	}
	close(gate)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	available, err := waitAvailable(ctx, cl, c.Agents, done, p)
	wg.Wait()
	after := readCPU(server.pid(), metal.pid())
	wall := time.Since(start)
	if err != nil {
		return err
	}
	return reportMetal(out, c, results, available, wall, before, after)
}

func waitHTTP(ctx context.Context, url string, exited <-chan struct{}) error {
	for {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			return errors.New("exited")
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitAvailable polls class "any" until it lists want available servers,
// and returns how long after the call that was.
func waitAvailable(ctx context.Context, cl client.Client, want int, agentsDone <-chan struct{}, p progress) (time.Duration, error) {
	start := time.Now()
	last := -1
	var deadline time.Time
	for {
		var class metalv1alpha1.ServerClass
		if err := cl.Get(ctx, client.ObjectKey{Name: metalv1alpha1.ServerClassAny}, &class); err == nil {
			if n := len(class.Status.Available); n != last {
				p.printf("%d of %d servers available in class any", n, want)
				last = n
			}
			if len(class.Status.Available) >= want {
				return time.Since(start), nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-agentsDone:
			// The class's status follows the last wipe within moments.
			agentsDone, deadline = nil, time.Now().Add(time.Minute)
		case <-time.After(500 * time.Millisecond):
		}
		if agentsDone == nil && time.Now().After(deadline) {
			return 0, fmt.Errorf("only %d of %d servers available a minute after the last agent was done", last, want)
		}
	}
}

// simulateAgent registers agent i, then heartbeats as a real agent would
// through a wipe, until it is told to power off.
func simulateAgent(ctx context.Context, base string, i int, c *MetalConfig) agentResult {
	var res agentResult
	httpClient := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}
	defer httpClient.CloseIdleConnections()
	uuid := fmt.Sprintf("00000000-0000-4000-8000-%012x", i)
	call := func(path string, v any) (agentapi.Instruction, time.Duration, error) {
		body, _ := json.Marshal(v)
		t0 := time.Now()
		resp, err := httpClient.Post(base+path, "application/json", bytes.NewReader(body))
		if err != nil {
			return agentapi.Instruction{}, 0, err
		}
		defer resp.Body.Close()
		var in agentapi.Instruction
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			return in, 0, fmt.Errorf("%s: HTTP %d: %s", path, resp.StatusCode, bytes.TrimSpace(b))
		}
		err = json.NewDecoder(resp.Body).Decode(&in)
		return in, time.Since(t0), err
	}
	fail := func(err error) {
		res.failures++
		if res.firstFailure == nil {
			res.firstFailure = err
		}
	}
	start := time.Now()
	var in agentapi.Instruction
	for {
		var err error
		in, res.register, err = call(agentapi.RegisterPath, agentapi.Registration{UUID: uuid, Hardware: simulatedHardware(i)})
		if err == nil {
			break
		}
		fail(err)
		if sleepCtx(ctx, time.Second); ctx.Err() != nil {
			return res
		}
	}
	progress := int32(0)
	for in.Action != agentapi.ActionPowerOff && ctx.Err() == nil {
		if sleepCtx(ctx, c.Heartbeat); ctx.Err() != nil {
			break
		}
		hb := agentapi.Heartbeat{UUID: uuid, Phase: metalv1alpha1.AgentWaiting}
		if in.Action == agentapi.ActionWipe {
			progress += int32(100 / c.WipeSteps)
			hb.Phase, hb.WipeProgress = metalv1alpha1.AgentWiping, min(progress, 100)
			if progress >= 100 {
				hb.Phase, hb.Wiped = metalv1alpha1.AgentWiped, in.WipeMode
			}
		}
		next, d, err := call(agentapi.HeartbeatPath, hb)
		if err != nil {
			fail(err)
			continue
		}
		res.heartbeats = append(res.heartbeats, d)
		in = next
	}
	res.cleanAfter = time.Since(start)
	res.finalInstruct = in.Action
	return res
}

// simulatedHardware is a two-socket server's report, about 3 KB of JSON.
func simulatedHardware(i int) metalv1alpha1.Hardware {
	h := metalv1alpha1.Hardware{
		System:  metalv1alpha1.SystemInformation{Manufacturer: "Dell Inc.", ProductName: "PowerEdge R650", SerialNumber: fmt.Sprintf("SN%07d", i)},
		Compute: metalv1alpha1.ComputeInformation{ProcessorCount: 2, TotalCoreCount: 64, TotalThreadCount: 128},
		Memory:  metalv1alpha1.MemoryInformation{Total: resource.MustParse("512Gi")},
	}
	for s := range 2 {
		h.Compute.Processors = append(h.Compute.Processors, metalv1alpha1.Processor{Manufacturer: "Intel(R) Corporation", ProductName: "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz", SpeedMHz: 3200, CoreCount: 32, ThreadCount: 64})
		for m := range 8 {
			h.Memory.Modules = append(h.Memory.Modules, metalv1alpha1.MemoryModule{Locator: fmt.Sprintf("CPU%d_DIMM%d", s, m), Manufacturer: "Samsung", Type: "DDR4", Size: resource.MustParse("32Gi"), SpeedMTs: 3200})
		}
	}
	for d := range 4 {
		h.Storage.Disks = append(h.Storage.Disks, metalv1alpha1.Disk{Name: fmt.Sprintf("nvme%dn1", d), Size: resource.MustParse("3840Gi"), Type: "NVMe", Model: "Dell Ent NVMe P5600", SerialNumber: fmt.Sprintf("PHAB%06d%d", i, d)})
	}
	for n := range 2 {
		h.Network.Interfaces = append(h.Network.Interfaces, metalv1alpha1.NetworkInterface{Name: fmt.Sprintf("eno%d", n+1), MAC: fmt.Sprintf("02:00:%02x:%02x:%02x:%02x", byte(i>>16), byte(i>>8), byte(i), n), MTU: 1500, SpeedMbps: 25000})
	}
	return h
}

func reportMetal(out io.Writer, c *MetalConfig, results []agentResult, available, wall time.Duration, before, after cpuReading) error {
	var regs, hbs []time.Duration
	failures, notDone := 0, 0
	var firstFailure error
	var clean []time.Duration
	for _, r := range results {
		regs = append(regs, r.register)
		hbs = append(hbs, r.heartbeats...)
		clean = append(clean, r.cleanAfter)
		failures += r.failures
		if firstFailure == nil {
			firstFailure = r.firstFailure
		}
		if r.finalInstruct != agentapi.ActionPowerOff {
			notDone++
		}
	}
	slices.Sort(regs)
	slices.Sort(hbs)
	slices.Sort(clean)
	t := newTable("Agent protocol", fmt.Sprintf("%d agents registering at the same moment, then heartbeating every %v through a simulated wipe.", c.Agents, c.Heartbeat), "measure", "p50", "p99", "max", "count")
	t.add("registration latency", ms(percentile(regs, 0.5)), ms(percentile(regs, 0.99)), ms(regs[len(regs)-1]), strconv.Itoa(len(regs)))
	if len(hbs) > 0 {
		t.add("heartbeat latency", ms(percentile(hbs, 0.5)), ms(percentile(hbs, 0.99)), ms(hbs[len(hbs)-1]), strconv.Itoa(len(hbs)))
	}
	t.add("registration to poweroff instruction", seconds(percentile(clean, 0.5)), seconds(percentile(clean, 0.99)), seconds(clean[len(clean)-1]), strconv.Itoa(len(clean)))
	t.write(out)
	s := newTable("Summary", "", "", "")
	s.add("All servers available in class any", fmt.Sprintf("%s after the first registration", seconds(available)))
	s.add("Heartbeats per second", fmt.Sprintf("%.0f/s over %s", float64(len(hbs))/wall.Seconds(), seconds(wall)))
	s.add("Failed requests (retried)", strconv.Itoa(failures))
	if firstFailure != nil {
		s.add("First failure", firstFailure.Error())
	}
	s.add("Agents never told to power off", strconv.Itoa(notDone))
	s.add("Server CPU", fmt.Sprintf("%s (%.2f ms per agent)", seconds(after.server-before.server), float64(after.server-before.server)/float64(time.Millisecond)/float64(c.Agents)))
	s.add("Metal service CPU", fmt.Sprintf("%s (%.2f ms per agent)", seconds(after.scheduler-before.scheduler), float64(after.scheduler-before.scheduler)/float64(time.Millisecond)/float64(c.Agents)))
	s.add("Bench CPU (agents)", seconds(after.self-before.self))
	s.add("Load average at end", loadAverage())
	s.add("Speed probe at end", speedProbe())
	s.write(out)
	if notDone > 0 {
		return fmt.Errorf("%d agents were never told to power off", notDone)
	}
	return nil
}
