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
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Targets of the node agent.
const (
	// podStartupTarget is the p99 from creating a container pod to seeing
	// it Running; podStartupSLO is Kubernetes' pod startup SLO.
	podStartupTarget = 2 * time.Second
	podStartupSLO    = 5 * time.Second
	// vmStartupTarget is the median from creating a VM pod to QEMU running.
	vmStartupTarget = 5 * time.Second
	// agentMemoryTarget bounds the agent of thousands of simulated nodes.
	agentMemoryTarget = 2 << 30
	// leaseDuration and leaseRenewInterval are the agent's (and the
	// kubelet's) node lease timing: a lease not renewed for leaseDuration
	// has expired. Heartbeats are on time when 99 % of renewals complete
	// within onTimeLag past one renew interval after the node's previous
	// renewal, and renewals keep up with the nodes (onTimeRate of one per
	// node and interval).
	leaseDuration      = 40 * time.Second
	leaseRenewInterval = 10 * time.Second
	onTimeLag          = time.Second
	onTimeRate         = 0.98
)

// NodeConfig sizes the node agent measurements. A count of zero skips its
// measurement.
type NodeConfig struct {
	// Pods container pods are started, PodConcurrency at a time, each
	// waited for until Running, to measure startup latency.
	Pods, PodConcurrency int
	// DensityPods are created at once by DensityClients clients; the node's
	// processes are then watched for DensityWindow with all of them running.
	DensityPods, DensityClients int
	DensityWindow               time.Duration
	// VMs VM pods are started one after another, each deleted before the
	// next, with VMCPU and VMMemory. VMKernel boots them (default: the
	// newest /boot/vmlinuz-*) with an initramfs the bench builds around
	// Busybox. Their serial console is followed for at most ConsoleTimeout
	// (0: not at all) until the guest's /init has run.
	VMs                int
	VMCPU, VMMemory    resource.Quantity
	VMKernel           string
	ConsoleTimeout     time.Duration
	Busybox            string
	PodTimeout         time.Duration
	PodCIDR, PodBridge string

	// SimNodes are the sizes of the simulated-node runs, each against a
	// fresh server: registration is waited for at most SimRegisterTimeout,
	// then, after SimWarmup, heartbeats are observed for SimWindow.
	SimNodes                                 []int
	SimRegisterTimeout, SimWarmup, SimWindow time.Duration

	// AgentVerbosity is the agents' -v; LogDir, when set, keeps the logs
	// of the agents and copies of the servers' error lines there.
	AgentVerbosity int
	LogDir         string
}

// NewNodeConfig returns the defaults.
func NewNodeConfig() *NodeConfig {
	return &NodeConfig{
		Pods:               50,
		PodConcurrency:     1,
		DensityPods:        110,
		DensityClients:     10,
		DensityWindow:      15 * time.Second,
		VMs:                10,
		VMCPU:              resource.MustParse("1"),
		VMMemory:           resource.MustParse("256Mi"),
		ConsoleTimeout:     time.Minute,
		Busybox:            "/bin/busybox",
		PodTimeout:         2 * time.Minute,
		PodCIDR:            "10.210.0.0/16",
		PodBridge:          "arcbench0",
		SimNodes:           []int{2000, 10000},
		SimRegisterTimeout: 10 * time.Minute,
		SimWarmup:          20 * time.Second,
		SimWindow:          time.Minute,
	}
}

// AddFlags binds the configuration to fs.
func (c *NodeConfig) AddFlags(fs *pflag.FlagSet) {
	fs.IntVar(&c.Pods, "pods", c.Pods, "Container pods started to measure startup latency, each waited for until Running.")
	fs.IntVar(&c.PodConcurrency, "pod-concurrency", c.PodConcurrency, "Container pods starting at a time in the latency run.")
	fs.IntVar(&c.DensityPods, "density-pods", c.DensityPods, "Container pods created at once on the node (its --max-pods, 110 by default, is raised to fit).")
	fs.IntVar(&c.DensityClients, "density-clients", c.DensityClients, "Concurrent clients creating them.")
	fs.DurationVar(&c.DensityWindow, "density-window", c.DensityWindow, "How long the node's CPU and memory are watched with all those pods running.")
	fs.IntVar(&c.VMs, "vms", c.VMs, "VM pods started one after another, each deleted before the next.")
	fs.Var(&quantityFlag{&c.VMCPU}, "vm-cpu", "CPU request of each VM pod (its vCPUs).")
	fs.Var(&quantityFlag{&c.VMMemory}, "vm-memory", "Memory request of each VM pod (its guest memory).")
	fs.StringVar(&c.VMKernel, "vm-kernel", c.VMKernel, "Kernel the VM pods boot (default: the newest /boot/vmlinuz-*).")
	fs.DurationVar(&c.ConsoleTimeout, "vm-console-timeout", c.ConsoleTimeout, "How long each VM's serial console is followed until its /init has run; 0 does not follow it.")
	fs.StringVar(&c.Busybox, "busybox", c.Busybox, "Static busybox for the container image and the VMs' initramfs (Debian: busybox-static).")
	fs.DurationVar(&c.PodTimeout, "pod-timeout", c.PodTimeout, "How long a pod may take to be Running, or to be gone once deleted.")
	fs.StringVar(&c.PodCIDR, "pod-cidr", c.PodCIDR, "Pod network of the bench's real node.")
	fs.StringVar(&c.PodBridge, "pod-bridge", c.PodBridge, "Host bridge of that pod network; removed at the end unless it existed before.")
	fs.IntSliceVar(&c.SimNodes, "sim-nodes", c.SimNodes, "Simulated nodes of one agent, one run against a fresh server per value (e.g. 2000,10000); 0 skips.")
	fs.DurationVar(&c.SimRegisterTimeout, "sim-register-timeout", c.SimRegisterTimeout, "How long the simulated nodes may take to register.")
	fs.DurationVar(&c.SimWarmup, "sim-warmup", c.SimWarmup, "Time after registration before heartbeats are observed; every lease is created by the first renewal of its node, within 10s of registration but as fast as the agent's client-side rate limit allows.")
	fs.DurationVar(&c.SimWindow, "sim-window", c.SimWindow, "How long the heartbeats of the simulated nodes are observed.")
	fs.IntVar(&c.AgentVerbosity, "agent-v", c.AgentVerbosity, "Log verbosity (-v) of the agents the bench starts.")
	fs.StringVar(&c.LogDir, "log-dir", c.LogDir, "Directory to keep the agents' logs in (by default they are removed with everything else).")
}

// quantityFlag is a pflag.Value for a resource quantity.
type quantityFlag struct{ q *resource.Quantity }

func (f *quantityFlag) String() string { return f.q.String() }
func (f *quantityFlag) Type() string   { return "quantity" }
func (f *quantityFlag) Set(s string) error {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return err
	}
	*f.q = q
	return nil
}

// Validate reports impossible sizes.
func (c *NodeConfig) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{{"pods", c.Pods}, {"density-pods", c.DensityPods}, {"vms", c.VMs}} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("--%s must not be negative", f.name))
		}
	}
	for _, n := range c.SimNodes {
		if n < 0 {
			errs = append(errs, errors.New("--sim-nodes must not be negative"))
		}
	}
	if c.Pods > 0 && c.PodConcurrency <= 0 {
		errs = append(errs, errors.New("--pod-concurrency must be positive"))
	}
	if c.DensityPods > 0 && c.DensityClients <= 0 {
		errs = append(errs, errors.New("--density-clients must be positive"))
	}
	if c.VMs > 0 && (c.VMCPU.Sign() <= 0 || c.VMMemory.Sign() <= 0) {
		errs = append(errs, errors.New("--vm-cpu and --vm-memory must be positive"))
	}
	if c.PodTimeout <= 0 {
		errs = append(errs, errors.New("--pod-timeout must be positive"))
	}
	if c.realNode() {
		if p, err := netip.ParsePrefix(c.PodCIDR); err != nil || !p.Addr().Is4() {
			errs = append(errs, fmt.Errorf("--pod-cidr %q: an IPv4 prefix is required", c.PodCIDR))
		}
		if c.PodBridge == "" || len(c.PodBridge) > 15 {
			errs = append(errs, errors.New("--pod-bridge must be a link name of 1 to 15 characters"))
		}
	}
	if c.simulated() && (c.SimWindow <= 0 || c.SimRegisterTimeout <= 0) {
		errs = append(errs, errors.New("--sim-window and --sim-register-timeout must be positive"))
	}
	return errors.Join(errs...)
}

func (c *NodeConfig) realNode() bool { return c.Pods > 0 || c.DensityPods > 0 || c.VMs > 0 }

func (c *NodeConfig) simulated() bool {
	for _, n := range c.SimNodes {
		if n > 0 {
			return true
		}
	}
	return false
}

// nodeRunner runs the node agent measurements.
type nodeRunner struct {
	cfg *NodeConfig
	out io.Writer
	log progress
	// run is unique to this run.
	run string

	// targets collects each measurement's verdict, cpu the CPU time of each
	// measurement, serverErrors the 5xx and 429 answers of the servers;
	// problems make the run fail once everything is printed.
	targets, cpu, serverErrors *table
	problems                   []string
}

// RunNode measures the node agent and prints the tables on out and progress
// on log: container pod startup latency on a real node, 110 pods on it, VM
// pod startup, and thousands of simulated nodes of one agent. Each part runs
// against a fresh `arcturus server` child process, with `arcturus agent`
// child processes. RunNode fails when a pod did not start or go away, a
// lease expired, a server answered 5xx or 429, or the node left processes
// or iptables rules behind, after printing every figure; it removes every
// pod, process, directory, bridge and rule it made.
func RunNode(ctx context.Context, c *NodeConfig, out, log io.Writer) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if os.Geteuid() != 0 && c.realNode() {
		return errors.New("a real node needs root (containerd, pod network); run with --pods 0 --density-pods 0 --vms 0 for simulated nodes only")
	}
	if c.LogDir != "" {
		if err := os.MkdirAll(c.LogDir, 0o755); err != nil {
			return fmt.Errorf("creating --log-dir: %w", err)
		}
	}
	r := &nodeRunner{
		cfg: c, out: out, log: progress{w: log, start: time.Now()},
		run: fmt.Sprintf("%06x", time.Now().UnixMilli()&0xffffff),
		targets: newTable("Against the targets", "",
			"target", "result", "ratio", "verdict"),
		cpu: newTable("CPU time by measurement",
			"CPU seconds from /proc/<pid>/stat of each process over the measurement. containerd includes its shims, the pods' processes alive at the end, and the runc and CNI plugin processes they waited for; processes that ended unwaited for (shims, QEMU) count only while they ran under observation.",
			"measurement", "wall time", "server CPU", "agent CPU", "containerd CPU", "QEMU CPU", "bench CPU"),
		serverErrors: newTable("Server errors",
			"apiserver_request_total samples with a 5xx or 429 code, counted since each server started.",
			"server", "verb", "resource", "code", "count"),
	}
	r.header()
	var err error
	if c.realNode() {
		err = r.realNode(ctx)
	}
	for _, n := range c.SimNodes {
		if n > 0 && err == nil {
			err = r.simulatedNodes(ctx, n)
		}
	}
	r.serverErrors.write(r.out)
	r.cpu.write(r.out)
	r.targets.write(r.out)
	fmt.Fprintf(r.out, "\n%s\n", atEnd())
	if err != nil {
		return err
	}
	if len(r.problems) > 0 {
		return errors.New(strings.Join(r.problems, "; "))
	}
	return nil
}

// problem notes something that makes the run fail and shows it at once.
func (r *nodeRunner) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.log.printf("PROBLEM: %s", msg)
	r.problems = append(r.problems, msg)
}

// target adds a verdict: result is what was measured, ratio the measured
// value over the target, lower being better.
func (r *nodeRunner) target(name, result string, ratio float64) {
	r.targetMet(name, result, ratio, ratio < 1)
}

// targetMet adds a verdict decided by more than the ratio.
func (r *nodeRunner) targetMet(name, result string, ratio float64, met bool) {
	verdict := "met"
	if !met {
		verdict = "missed"
	}
	r.targets.add(name, result, fmt.Sprintf("%.2f×", ratio), verdict)
}

// header prints what was measured, where and when.
func (r *nodeRunner) header() {
	t := newTable("Environment", "", "", "")
	addEnvironment(t, "server, agents, containerd, QEMU and the bench share it")
	t.add("Kernel", strings.TrimSpace(readFileOr("/proc/sys/kernel/osrelease", "unknown")))
	t.add("Go", runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH)
	if r.cfg.realNode() {
		t.add("Runtimes", strings.Join([]string{
			toolVersion("containerd", "--version"), toolVersion("runc", "--version"), toolVersion("qemu-system-x86_64", "--version"),
		}, "; "))
	}
	t.add("Server", "`arcturus server` child process with embedded etcd and watch cache, a fresh one for the real node and for each simulated size")
	t.add("Agent", fmt.Sprintf("`arcturus agent` child process (-v=%d); the real node runs its own containerd", r.cfg.AgentVerbosity))
	t.write(r.out)
}

func readFileOr(path, fallback string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fallback
	}
	return string(data)
}

// toolVersion is the first line of what a tool says about its version.
func toolVersion(tool string, args ...string) string {
	out, err := exec.Command(tool, args...).Output()
	if err != nil {
		return tool + " (not found)"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(line)
}

// cores formats CPU time used over a wall time as cores.
func cores(cpu, wall time.Duration) string {
	if wall <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f cores", cpu.Seconds()/wall.Seconds())
}
