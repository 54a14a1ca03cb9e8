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

package lab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
	"github.com/arcturus-cloud/arcturus/pkg/metal/service"
)

// upTimeout bounds how long `lab up` waits for the supervisor: building
// the agent's initramfs and starting the BMCs take seconds, not minutes.
const upTimeout = 3 * time.Minute

// Up makes the lab network and starts the supervisor in it, detached, then
// waits until the lab runs and prints its machines.
func Up(ctx context.Context, o *Options, out io.Writer) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if o.Kubeconfig == "" {
		return errors.New("--kubeconfig is required")
	}
	if pid, ok := runningPID(o.Dir); ok {
		return fmt.Errorf("a lab runs in %s already (pid %d); arcturus metal lab down --dir %s first", o.Dir, pid, o.Dir)
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", o.Dir, err)
	}
	_ = os.Remove(filepath.Join(o.Dir, stateFile))
	kubeconfig, err := filepath.Abs(o.Kubeconfig)
	if err != nil {
		return err
	}
	specs := o.members()
	taps := make([]string, 0, len(specs))
	for _, s := range specs {
		taps = append(taps, s.NICs[0].Tap)
	}
	fmt.Fprintf(out, "Creating network namespace %s with bridge %s (%s)\n", o.NetNS, o.Bridge, o.gatewayCIDR())
	if err := o.deleteNetwork(ctx); err != nil {
		return err
	}
	if err := o.createNetwork(ctx, taps); err != nil {
		return errors.Join(err, o.deleteNetwork(ctx))
	}
	started, err := o.startSupervisor(kubeconfig)
	if err != nil {
		return errors.Join(err, o.deleteNetwork(ctx))
	}
	fmt.Fprintf(out, "Started the lab's supervisor (pid %d, log %s)\n", started.Process.Pid, filepath.Join(o.Dir, logFile))
	st, err := o.waitUp(ctx, started, out)
	if err != nil {
		return errors.Join(err, Down(ctx, o, io.Discard))
	}
	fmt.Fprintf(out, "\nLab up: %d machines on %s, boot services at %s\n\n", len(st.Members), o.Bridge, st.URL)
	fmt.Fprintf(out, "%-10s %-36s %-17s %-5s %-8s %s\n", "NAME", "UUID", "MAC", "FW", "BMC", "ENDPOINT")
	for _, m := range st.Members {
		fmt.Fprintf(out, "%-10s %-36s %-17s %-5s %-8s %s\n", m.Name, m.UUID, m.MAC, m.Firmware, m.BMC, m.Endpoint)
	}
	fmt.Fprintf(out, "\nWatch them boot and register:  kubectl get servers -o wide -w\n")
	fmt.Fprintf(out, "Serial consoles:               %s/<name>/console.log\n", o.Dir)
	fmt.Fprintf(out, "The BMCs listen in the lab:    ip netns exec %s ipmitool -I lanplus -H 127.0.0.1 -p <port> ...\n", o.NetNS)
	return nil
}

// startSupervisor runs `arcturus metal lab run` in the lab's namespace, in
// a session of its own so that it outlives this command, handing it this
// process's network namespace to reach the region from.
func (o *Options) startSupervisor(kubeconfig string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the arcturus executable: %w", err)
	}
	hostNS, err := os.Open("/proc/self/ns/net")
	if err != nil {
		return nil, fmt.Errorf("opening this network namespace: %w", err)
	}
	defer hostNS.Close()
	log, err := os.OpenFile(filepath.Join(o.Dir, logFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	args := []string{"netns", "exec", o.NetNS, exe, "metal", "lab", "run", "--host-netns-fd", "3",
		"--dir", o.Dir, "--kubeconfig", kubeconfig, "--servers", strconv.Itoa(o.Servers),
		"--netns", o.NetNS, "--bridge", o.Bridge, "--subnet", o.Subnet,
		"--cpus", strconv.Itoa(o.CPUs), "--memory-mib", strconv.Itoa(o.MemoryMiB), "--disk-mib", strconv.Itoa(o.DiskMiB),
		"--firmware", o.Firmware, "--bmc", o.BMC, "--auto-accept=" + strconv.FormatBool(o.AutoAccept),
		"--boot-timeout", o.BootTimeout}
	cmd := exec.Command("ip", args...)
	cmd.ExtraFiles = []*os.File{hostNS}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the lab's supervisor: %w", err)
	}
	// ip netns exec execs arcturus, so the pid is the supervisor's.
	if err := os.WriteFile(filepath.Join(o.Dir, pidFile), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		return nil, err
	}
	return cmd, nil
}

// waitUp waits for the supervisor's state file, echoing its log's progress.
func (o *Options) waitUp(ctx context.Context, cmd *exec.Cmd, out io.Writer) (*state, error) {
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(upTimeout)
	logPath := filepath.Join(o.Dir, logFile)
	var shown int
	for {
		shown = echoProgress(logPath, shown, out)
		if st, err := readState(o.Dir); err == nil {
			return st, nil
		}
		select {
		case err := <-exited:
			echoProgress(logPath, shown, out)
			return nil, fmt.Errorf("the lab's supervisor exited (%v); see %s", err, logPath)
		case <-deadline:
			return nil, fmt.Errorf("the lab did not come up within %v; see %s", upTimeout, logPath)
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// echoProgress prints the lines of the supervisor's log past the first
// shown that say what it did or what failed.
func echoProgress(path string, shown int, out io.Writer) int {
	f, err := os.Open(path)
	if err != nil {
		return shown
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if n > shown && (strings.Contains(line, "Lab machine ready") || strings.Contains(line, "Built the inventory agent") ||
			strings.HasPrefix(line, "E") || strings.HasPrefix(line, "Error")) {
			fmt.Fprintln(out, "  "+line)
		}
	}
	return n
}

func runningPID(dir string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(dir, pidFile))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, alive(pid)
}

// alive is whether process pid runs: it exists and is no zombie, which the
// supervisor becomes when it exits before whoever adopted it reaps it.
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	i := strings.LastIndexByte(string(stat), ')')
	return i > 0 && i+2 < len(stat) && stat[i+2] != 'Z'
}

// Down decommissions the lab's servers while its metal service still runs,
// stops the supervisor, kills what is left in the namespace, deletes the
// namespace and the lab's directory. It does what it can of that when the
// lab is half made or half gone.
func Down(ctx context.Context, o *Options, out io.Writer) error {
	if o.Dir == "" {
		return errors.New("--dir is required")
	}
	var errs []error
	pid, running := runningPID(o.Dir)
	if st, err := readState(o.Dir); err == nil && st.Kubeconfig != "" {
		o.Kubeconfig = st.Kubeconfig
	}
	if running && o.Kubeconfig != "" {
		fmt.Fprintln(out, "Deleting the lab's servers")
		if err := o.deleteServers(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if running {
		fmt.Fprintf(out, "Stopping the lab's supervisor (pid %d)\n", pid)
		errs = append(errs, stopPID(pid, time.Minute))
	}
	if out, err := exec.CommandContext(ctx, "ip", "netns", "pids", o.NetNS).Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			if p, err := strconv.Atoi(f); err == nil {
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
		}
	}
	fmt.Fprintf(out, "Deleting network namespace %s\n", o.NetNS)
	errs = append(errs, o.deleteNetwork(ctx))
	if err := os.RemoveAll(o.Dir); err != nil {
		errs = append(errs, fmt.Errorf("removing %s: %w", o.Dir, err))
	}
	return errors.Join(errs...)
}

// deleteServers deletes the Servers the lab registered, waits until they
// are decommissioned, then deletes their BMC credentials.
func (o *Options) deleteServers(ctx context.Context) error {
	config, err := clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
	if err != nil {
		return fmt.Errorf("loading kubeconfig %s: %w", o.Kubeconfig, err)
	}
	c, err := client.New(config, client.Options{Scheme: service.Scheme})
	if err != nil {
		return err
	}
	mine := client.MatchingLabels{LabelLab: o.NetNS}
	if err := c.DeleteAllOf(ctx, &metalv1alpha1.Server{}, mine); err != nil {
		return fmt.Errorf("deleting the lab's servers: %w", err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		var list metalv1alpha1.ServerList
		if err := c.List(ctx, &list, mine); err != nil {
			return err
		}
		if len(list.Items) == 0 {
			// Only now: decommissioning powers servers off with these.
			if err := c.DeleteAllOf(ctx, &corev1.Secret{}, mine, client.InNamespace(secretNamespace)); err != nil {
				return fmt.Errorf("deleting the lab's BMC credentials: %w", err)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d lab servers still not decommissioned after a minute", len(list.Items))
		}
		time.Sleep(time.Second)
	}
}

// stopPID sends SIGTERM and waits for pid to exit, killing it after timeout.
func stopPID(pid int, timeout time.Duration) error {
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return nil
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if !alive(pid) {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	return fmt.Errorf("the lab's supervisor (pid %d) did not stop within %v; killed it", pid, timeout)
}
