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
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/pflag"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/agent"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

// agentChildEnv makes the test binary run like `arcturus agent`, so that
// the Deployment run can start it as its child.
const agentChildEnv = "ARCTURUS_BENCH_TEST_AGENT"

// init runs before TestMain, which serves `server` children; an agent
// child never reaches it.
func init() {
	if os.Getenv(agentChildEnv) != "" && len(os.Args) > 1 && os.Args[1] == "agent" {
		os.Exit(agentAsChild(os.Args[2:]))
	}
}

// agentAsChild runs the agent from the arguments the bench gives `arcturus
// agent`, until SIGTERM.
func agentAsChild(args []string) int {
	o := agent.NewOptions()
	fs := pflag.NewFlagSet("agent", pflag.ContinueOnError)
	o.AddFlags(fs)
	// -v, which the real command gets from component-base.
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	fs.AddGoFlagSet(klogFlags)
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

// TestRunSchedulerDeployment runs the Deployment run alone, server,
// scheduler and agent child processes included, with small sizes.
func TestRunSchedulerDeployment(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server, a scheduler and an agent")
	}
	t.Setenv(serverChildEnv, "1")
	t.Setenv(schedulerChildEnv, "1")
	t.Setenv(agentChildEnv, "1")
	c := NewSchedulerConfig()
	c.Pods = 0
	c.Deployment = DeploymentConfig{Replicas: 40, Nodes: 3, Timeout: 2 * time.Minute}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := RunScheduler(ctx, c, &out, logWriter{t})
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatalf("RunScheduler: %v", err)
	}
	for _, want := range []string{
		"## Environment", "| Deployment | One apps/v1 Deployment of 40 replicas",
		"## Deployment of 40 replicas on 3 simulated nodes",
		"|  | create, 40 replicas | scale to 80 | image update, 80 replicas |",
		"| New pods Running and Ready / expected | 40 / 40 (40 created, 40 bound) | 40 / 40 (40 created, 40 bound) | 80 / 80 (80 created, 80 bound) |",
		"| Old pods gone | — | — | 80 of 80, the last after ",
		"## CPU time by phase, Deployment", "| 3 nodes: agent started",
		"| create, 40 replicas | ", "| image update, 80 replicas | ",
		"## Server errors\n\napiserver_request_total", "None.",
		"| Deployment of 40 replicas on 3 simulated nodes: time to all Running | ", "reported (no target number given)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, unwanted := range []string{"pods on", "## CPU time by phase\n"} {
		if strings.Contains(out.String(), unwanted) {
			t.Errorf("output has %q of the skipped throughput runs", unwanted)
		}
	}
}

func TestDeploymentConfigValidate(t *testing.T) {
	c := NewSchedulerConfig()
	c.Pods, c.Deployment.Replicas = 0, 0
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "nothing to measure") {
		t.Errorf("nothing to run: Validate() = %v", err)
	}
	// Skipped throughput runs do not check their flags.
	c.Nodes, c.Deployment.Replicas = 0, 10
	if err := c.Validate(); err != nil {
		t.Errorf("deployment only: %v", err)
	}
	c.Deployment = DeploymentConfig{Replicas: 1000, Nodes: 9, Timeout: 0}
	err := c.Validate()
	for _, want := range []string{"--deployment-nodes 9 hold 990 pods; the update of 2000 replicas runs up to 2500", "--deployment-timeout"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want an error about %s", err, want)
		}
	}
	c.Deployment.Replicas = -1
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--deployment-replicas") {
		t.Errorf("negative replicas: Validate() = %v", err)
	}
}

func TestRolledOut(t *testing.T) {
	dep := func(observed int64, replicas, updated, available int32) *appsv1.Deployment {
		return &appsv1.Deployment{Status: appsv1.DeploymentStatus{
			ObservedGeneration: observed, Replicas: replicas, UpdatedReplicas: updated, AvailableReplicas: available,
		}}
	}
	for _, tc := range []struct {
		name string
		d    *appsv1.Deployment
		want bool
	}{
		{"done", dep(3, 10, 10, 10), true},
		{"old generation", dep(2, 10, 10, 10), false},
		{"old pods left", dep(3, 12, 10, 10), false},
		{"not all available", dep(3, 10, 10, 9), false},
		{"not all updated", dep(3, 10, 8, 10), false},
	} {
		if got := rolledOut(tc.d, 3, 10); got != tc.want {
			t.Errorf("%s: rolledOut = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDeployPods(t *testing.T) {
	d := &deployPods{phase: -1, pods: map[types.UID]*deployPod{}}
	base := time.Unix(1000, 0)
	pod := func(uid, node string, phase corev1.PodPhase, ready bool, deleting bool) *v1.Pod {
		p := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p-" + uid, UID: types.UID(uid)}}
		p.Spec.NodeName = node
		p.Status.Phase = phase
		status := corev1.ConditionFalse
		if ready {
			status = corev1.ConditionTrue
		}
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}
		if deleting {
			p.DeletionTimestamp = &metav1.Time{Time: base}
		}
		return p
	}
	d.startPhase(0)
	d.observe(pod("a", "", corev1.PodPending, false, false), base)
	d.observe(pod("a", "n", corev1.PodPending, false, false), base.Add(time.Second))
	// Running but not Ready, then Ready: only the latter counts.
	d.observe(pod("a", "n", corev1.PodRunning, false, false), base.Add(2*time.Second))
	d.observe(pod("a", "n", corev1.PodRunning, true, false), base.Add(3*time.Second))
	if old := d.startPhase(1); len(old) != 1 || old[0] != "p-a" {
		t.Errorf("startPhase = %v, want [p-a]", old)
	}
	// A pod being deleted is not running, and a later pod is the new phase's.
	d.observe(pod("a", "n", corev1.PodRunning, true, true), base.Add(4*time.Second))
	d.observe(pod("b", "n", corev1.PodRunning, true, true), base.Add(5*time.Second))
	a := d.pods["a"]
	if a.phase != 0 || !a.seen.Equal(base) || !a.bound.Equal(base.Add(time.Second)) || !a.running.Equal(base.Add(3*time.Second)) {
		t.Errorf("pod a: %+v", a)
	}
	for phase, want := range [][3]int{{1, 1, 1}, {1, 1, 0}} {
		if c, b, r := d.count(phase); [3]int{c, b, r} != want {
			t.Errorf("phase %d: created, bound, running = %d, %d, %d, want %v", phase, c, b, r, want)
		}
	}
}

func TestPeakPods(t *testing.T) {
	for replicas, want := range map[int]int{1000: 2500, 1: 3, 3: 8, 0: 0} {
		if got := peakPods(replicas); got != want {
			t.Errorf("peakPods(%d) = %d, want %d", replicas, got, want)
		}
	}
}
