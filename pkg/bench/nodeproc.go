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
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

const (
	// agentStopTimeout bounds how long an agent may take to exit after
	// SIGTERM; it stops its containerd first.
	agentStopTimeout = 2 * time.Minute
	// clockTicks is USER_HZ, the unit of CPU times in /proc/<pid>/stat.
	clockTicks = 100
)

// component is a child process of the bench that serves /readyz and
// /metrics over plain HTTP: an agent or a scheduler. It runs in a process
// group of its own, so that an interrupted bench still stops it in order
// (an agent after its pods are deleted, a scheduler before its server).
type component struct {
	*process
	// what names it in messages.
	what    string
	logPath string
	log     *os.File
	// health serves /readyz and /metrics.
	health string
	http   *http.Client
}

// startComponent starts this executable's subcommand sub with args,
// logging to logPath; health is where it serves /readyz and /metrics.
func startComponent(sub, logPath, health string, args ...string) (*component, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the arcturus executable: %w", err)
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating the %s log: %w", sub, err)
	}
	cmd := exec.Command(exe, append([]string{sub}, args...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	proc, err := startProcess(cmd)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("starting %s %s: %w", exe, sub, err), logFile.Close())
	}
	return &component{
		process: proc, what: sub, logPath: logPath, log: logFile, health: health,
		http: &http.Client{Timeout: 10 * time.Second},
	}, nil
}

func (c *component) get(ctx context.Context, path string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.health+path, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return body, resp.StatusCode, err
}

// metrics reads the component's /metrics.
func (c *component) metrics(ctx context.Context) ([]sample, error) {
	body, code, err := c.get(ctx, "/metrics")
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("HTTP %d", code)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the %s's /metrics: %w", c.what, err)
	}
	return parseMetrics(body), nil
}

// waitReady waits until the component's /readyz answers 200, calling
// every, when not nil, every 10 seconds meanwhile. until says what ready
// means, for errors.
func (c *component) waitReady(ctx context.Context, timeout time.Duration, until string, every func()) error {
	last := time.Now()
	var lastErr error
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		select {
		case <-c.exited:
			return false, fmt.Errorf("%s exited before %s: %v", c.what, until, c.waitErr)
		default:
		}
		if every != nil && time.Since(last) >= 10*time.Second {
			every()
			last = time.Now()
		}
		body, code, err := c.get(ctx, "/readyz")
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("HTTP %d: %s", code, strings.TrimSpace(string(body)))
		}
		lastErr = err
		return err == nil, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the %s's /readyz (last error: %v): %w", c.what, lastErr, err)
	}
	return nil
}

// stop sends SIGTERM, waits for the component to exit (killing it after
// timeout) and closes its log.
func (c *component) stop(timeout time.Duration) error {
	var errs []error
	if err := c.terminate(c.what, timeout); err != nil {
		errs = append(errs, err)
	}
	if err := c.log.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing the %s log: %w", c.what, err))
	}
	return errors.Join(errs...)
}

// childAgent is an `arcturus agent` the bench runs as a separate process.
type childAgent struct{ *component }

// startAgent starts this executable's agent subcommand with args, serving
// its health endpoint on health and logging to logPath.
func startAgent(logPath, health string, verbosity int, args ...string) (*childAgent, error) {
	c, err := startComponent("agent", logPath, health,
		append([]string{"--health-address", health, "-v", strconv.Itoa(verbosity)}, args...)...)
	if err != nil {
		return nil, err
	}
	return &childAgent{c}, nil
}

// waitRegistered waits until the agent's /readyz says its nodes are
// registered, calling every, when not nil, every 10 seconds meanwhile.
func (a *childAgent) waitRegistered(ctx context.Context, timeout time.Duration, every func()) error {
	return a.waitReady(ctx, timeout, "registering its nodes", every)
}

// stop stops the agent (it stops its containerd first).
func (a *childAgent) stop() error { return a.component.stop(agentStopTimeout) }

// childScheduler is an `arcturus scheduler` the bench runs as a separate
// process, so that its CPU and memory are its own.
type childScheduler struct{ *component }

// startScheduler starts this executable's scheduler subcommand for the
// server of kubeconfig, without leader election, serving its health
// endpoint on health and logging to logPath.
func startScheduler(logPath, kubeconfig, health string) (*childScheduler, error) {
	c, err := startComponent("scheduler", logPath, health,
		"--kubeconfig", kubeconfig, "--leader-elect=false", "--health-address", health)
	if err != nil {
		return nil, err
	}
	return &childScheduler{c}, nil
}

// logErrors counts the klog error lines (those starting with E and a digit)
// of a log and returns the first max of them.
func logErrors(path string, max int) (int, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	total := 0
	var lines []string
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 64*1024), 1024*1024)
	for scanner.Scan() {
		if line := scanner.Text(); len(line) > 1 && line[0] == 'E' && line[1] >= '0' && line[1] <= '9' {
			total++
			if len(lines) < max {
				lines = append(lines, line)
			}
		}
	}
	return total, lines, scanner.Err()
}

// keepLog copies a log into dir, when dir is set, as name.
func keepLog(dir, name, path string) error {
	if dir == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name), data, 0o644)
}

// proc is one process as /proc/<pid>/stat shows it.
type proc struct {
	pid, ppid int
	comm      string
	// start is the process's start time in clock ticks since boot; with
	// pid it names one process even when pids are reused.
	start uint64
	// cpu is the process's own CPU time, children that of its children
	// it has waited for (runc for a shim, CNI plugins for containerd).
	cpu, children time.Duration
	rss           float64
}

type procKey struct {
	pid   int
	start uint64
}

func (p proc) key() procKey { return procKey{p.pid, p.start} }

// parseStat parses the content of /proc/<pid>/stat. The command name is in
// parentheses and may itself hold spaces and parentheses.
func parseStat(data string, pageSize int) (proc, error) {
	open, end := strings.IndexByte(data, '('), strings.LastIndexByte(data, ')')
	if open < 0 || end < open {
		return proc{}, fmt.Errorf("malformed stat %q", data)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(data[:open]))
	if err != nil {
		return proc{}, fmt.Errorf("malformed stat pid: %w", err)
	}
	// Fields from the state on, numbered from 3 as in proc(5).
	f := strings.Fields(data[end+1:])
	field := func(n int) (uint64, error) {
		if n-3 >= len(f) {
			return 0, fmt.Errorf("stat of %d has no field %d", pid, n)
		}
		return strconv.ParseUint(f[n-3], 10, 64)
	}
	p := proc{pid: pid, comm: data[open+1 : end]}
	var vals [7]uint64
	for i, n := range []int{4, 14, 15, 16, 17, 22, 24} { // ppid, utime, stime, cutime, cstime, starttime, rss
		if vals[i], err = field(n); err != nil {
			return proc{}, err
		}
	}
	p.ppid = int(vals[0])
	p.cpu = time.Duration(vals[1]+vals[2]) * time.Second / clockTicks
	p.children = time.Duration(vals[3]+vals[4]) * time.Second / clockTicks
	p.start = vals[5]
	p.rss = float64(vals[6]) * float64(pageSize)
	return p, nil
}

func readProc(pid int) (proc, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return proc{}, err
	}
	return parseStat(string(data), os.Getpagesize())
}

// procCPU is the CPU time process pid has used.
func procCPU(pid int) time.Duration {
	p, err := readProc(pid)
	if err != nil {
		return 0
	}
	return p.cpu
}

// cmdline is a process's command line with spaces between arguments.
func cmdline(pid int) string {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.ReplaceAll(string(data), "\x00", " ")
}

// pss is a process's proportional set size from smaps_rollup, which
// shares the pages of a binary among the processes that map it.
func pss(pid int) float64 {
	v := procField(fmt.Sprintf("/proc/%d/smaps_rollup", pid), "Pss")
	kb, err := strconv.ParseFloat(strings.TrimSuffix(v, " kB"), 64)
	if err != nil {
		return 0
	}
	return kb * 1024
}

// Process groups of a node.
const (
	groupAgent      = "agent"
	groupContainerd = "containerd"
	groupShims      = "shims"
	groupPods       = "pod processes"
	groupQEMU       = "QEMU"
)

var nodeGroups = []string{groupAgent, groupContainerd, groupShims, groupPods, groupQEMU}

// nodeProcs finds the processes of one node: its agent, the containerd it
// manages (whose command line names the agent's directory), the shims of
// that containerd (naming its socket), the processes of the pods under
// the shims, and QEMU processes (naming the agent's directory).
type nodeProcs struct {
	agent    int
	agentDir string
	runDir   string
}

// procSnapshot is the processes of each group at one moment.
type procSnapshot struct {
	at     time.Time
	groups map[string][]proc
}

func (n nodeProcs) snapshot() procSnapshot {
	s := procSnapshot{at: time.Now(), groups: map[string][]proc{}}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return s
	}
	all := map[int]proc{}
	shims := map[int]bool{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		p, err := readProc(pid)
		if err != nil {
			continue
		}
		all[pid] = p
		group := ""
		switch {
		case pid == n.agent:
			group = groupAgent
		case n.agentDir == "":
		case p.comm == "containerd" && strings.Contains(cmdline(pid), n.agentDir):
			group = groupContainerd
		case strings.HasPrefix(p.comm, "containerd-shim") && strings.Contains(cmdline(pid), n.runDir):
			group = groupShims
			shims[pid] = true
		case strings.HasPrefix(p.comm, "qemu-system") && strings.Contains(cmdline(pid), n.agentDir):
			group = groupQEMU
		}
		if group != "" {
			s.groups[group] = append(s.groups[group], p)
		}
	}
	// A pod's processes descend from its shim.
	for pid, p := range all {
		if shims[pid] {
			continue
		}
		for anc, hops := p.ppid, 0; anc > 1 && hops < 64; anc, hops = all[anc].ppid, hops+1 {
			if shims[anc] {
				s.groups[groupPods] = append(s.groups[groupPods], p)
				break
			}
		}
	}
	return s
}

// rss is the resident memory of a group, counting shared pages once per
// process.
func (s procSnapshot) rss(group string) float64 {
	total := 0.0
	for _, p := range s.groups[group] {
		total += p.rss
	}
	return total
}

// pss is the proportional set size of a group, read now.
func (s procSnapshot) pss(group string) float64 {
	total := 0.0
	for _, p := range s.groups[group] {
		total += pss(p.pid)
	}
	return total
}

func (s procSnapshot) count(group string) int { return len(s.groups[group]) }

// cpuSince is the CPU time a group used between before and s: all of it
// for processes that started since, and nothing of processes that exited.
// containerd and the shims are charged with their children's time, which
// is what runc and the CNI plugins use; the agent is not, since its
// children are the QEMU processes counted on their own.
func (s procSnapshot) cpuSince(before procSnapshot, group string) time.Duration {
	used := func(p proc) time.Duration {
		if group == groupContainerd || group == groupShims {
			return p.cpu + p.children
		}
		return p.cpu
	}
	earlier := map[procKey]time.Duration{}
	for _, p := range before.groups[group] {
		earlier[p.key()] = used(p)
	}
	var total time.Duration
	for _, p := range s.groups[group] {
		total += used(p) - earlier[p.key()]
	}
	return total
}

// reapedSince is the CPU time of the children a group's processes waited
// for between before and s.
func (s procSnapshot) reapedSince(before procSnapshot, group string) time.Duration {
	earlier := map[procKey]time.Duration{}
	for _, p := range before.groups[group] {
		earlier[p.key()] = p.children
	}
	var total time.Duration
	for _, p := range s.groups[group] {
		total += p.children - earlier[p.key()]
	}
	return total
}

// procSampler snapshots a node's processes every second and keeps the
// peak resident memory of each group.
type procSampler struct {
	procs nodeProcs
	stop  chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	peak  map[string]float64
}

func startSampler(procs nodeProcs) *procSampler {
	s := &procSampler{procs: procs, stop: make(chan struct{}), done: make(chan struct{}), peak: map[string]float64{}}
	go func() {
		defer close(s.done)
		ticker := time.NewTicker(time.Second)
		defer ticker.Stop()
		for {
			s.observe(procs.snapshot())
			select {
			case <-s.stop:
				return
			case <-ticker.C:
			}
		}
	}()
	return s
}

func (s *procSampler) observe(snap procSnapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range nodeGroups {
		s.peak[g] = max(s.peak[g], snap.rss(g))
	}
}

// finish stops sampling and returns the peaks.
func (s *procSampler) finish() map[string]float64 {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// benchCPU is the CPU time the bench process has used.
func benchCPU() time.Duration {
	var self syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &self); err != nil {
		return 0
	}
	return time.Duration(self.Utime.Nano() + self.Stime.Nano())
}
