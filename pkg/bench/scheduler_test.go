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
	"fmt"
	"math"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/arcturus-cloud/arcturus/pkg/scheduler"
)

// schedulerChildEnv makes the test binary schedule like `arcturus
// scheduler`, so that RunScheduler can start it as its child.
const schedulerChildEnv = "ARCTURUS_BENCH_TEST_SCHEDULER"

// init runs before TestMain, which serves `server` children; a scheduler
// child never reaches it.
func init() {
	if os.Getenv(schedulerChildEnv) != "" && len(os.Args) > 1 && os.Args[1] == "scheduler" {
		os.Exit(scheduleAsChild(os.Args[2:]))
	}
}

// scheduleAsChild runs the scheduler from the arguments RunScheduler gives
// `arcturus scheduler`, until SIGTERM.
func scheduleAsChild(args []string) int {
	o := scheduler.NewOptions()
	fs := pflag.NewFlagSet("scheduler", pflag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := o.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestRunScheduler runs the whole command, server and scheduler child
// processes included, with small sizes.
func TestRunScheduler(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and a scheduler")
	}
	t.Setenv(serverChildEnv, "1")
	t.Setenv(schedulerChildEnv, "1")
	c := NewSchedulerConfig()
	c.Nodes, c.InitPods, c.Pods, c.Clients, c.BindTimeout = 20, 30, 150, 4, time.Minute
	// TestRunSchedulerDeployment covers the Deployment run.
	c.Deployment.Replicas = 0
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := RunScheduler(ctx, c, &out, logWriter{t})
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatalf("RunScheduler: %v", err)
	}
	for _, want := range []string{
		"## Environment", "## 150 pods on 20 nodes, container pods", "## 150 pods on 20 nodes, 20 % VM pods",
		"| Pods bound / created | 150 / 150 (0 VM pods); 0 creates failed |",
		"| Pods bound / created | 150 / 150 (30 VM pods); 0 creates failed |",
		"| Latency, VM pods | p50 ", "0 unschedulable, 0 errors", "; 0 failures |",
		"## Server errors\n\napiserver_request_total", "None.", "| container pods | 150 pods |",
		"| 20 % VM pods no slower than container pods only",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestSchedulerConfigValidate(t *testing.T) {
	if err := NewSchedulerConfig().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	c := NewSchedulerConfig()
	c.Nodes, c.InitPods, c.Clients, c.VMShares, c.BindTimeout = 0, -1, -1, []float64{0, 1.5}, 0
	err := c.Validate()
	for _, want := range []string{"--nodes", "--init-pods", "--clients", "--vm-share 1.5", "--bind-timeout"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want an error about %s", err, want)
		}
	}
}

func TestIsVMSpreadsEvenly(t *testing.T) {
	for _, tc := range []struct {
		share float64
		n     int
		want  int
	}{{0, 100, 0}, {0.2, 10000, 2000}, {0.2, 7, 1}, {1, 10, 10}, {0.5, 9, 4}} {
		vms, run := 0, 0
		for i := range tc.n {
			if isVM(i, tc.share) {
				vms++
				run = 0
			} else if run++; tc.share > 0 && float64(run) > 1/tc.share {
				t.Errorf("share %g: %d container pods in a row at %d", tc.share, run, i)
			}
		}
		if vms != tc.want {
			t.Errorf("share %g of %d: %d VM pods, want %d", tc.share, tc.n, vms, tc.want)
		}
	}
}

func TestBoundPerSecond(t *testing.T) {
	at := func(ms ...int) []time.Time {
		base := time.Unix(1000, 0)
		var out []time.Time
		for _, m := range ms {
			out = append(out, base.Add(time.Duration(m)*time.Millisecond))
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		times []time.Time
		want  []float64
	}{
		{"none", nil, nil},
		{"one", at(5), []float64{1}},
		// Half a second: its rate.
		{"partial", at(0, 100, 500), []float64{6}},
		// Whole seconds from the first binding; the partial third second
		// (the bindings at 2.0 and 2.5 s) is left out.
		{"whole", at(2000, 0, 999, 1000, 1500, 1999, 2500), []float64{2, 3}},
	} {
		got := boundPerSecond(tc.times)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if m := median([]float64{3, 1, 2, 10}); m != 2.5 {
		t.Errorf("median = %v, want 2.5", m)
	}
	if m := mean([]float64{1, 2, 6}); m != 3 {
		t.Errorf("mean = %v, want 3", m)
	}
	if !math.IsNaN(median(nil)) || !math.IsNaN(mean(nil)) {
		t.Error("median or mean of nothing is not NaN")
	}
}

func TestPodIndex(t *testing.T) {
	if i, ok := podIndex(podName(42)); !ok || i != 42 {
		t.Errorf("podIndex(%q) = %d, %v", podName(42), i, ok)
	}
	for _, bad := range []string{"node-00001", "pod-x", ""} {
		if _, ok := podIndex(bad); ok {
			t.Errorf("podIndex(%q) succeeded", bad)
		}
	}
}

func TestMachineOthers(t *testing.T) {
	m := machineCPU{busy: 10 * time.Second}
	if got := m.others(3*time.Second, 2*time.Second); got != 5*time.Second {
		t.Errorf("others = %v, want 5s", got)
	}
	// Under steal the processes' counters can exceed the machine's busy time.
	if got := m.others(8*time.Second, 3*time.Second); got != 0 {
		t.Errorf("others = %v, want 0", got)
	}
}
