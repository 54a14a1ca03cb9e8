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

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"

	"github.com/arcturus-cloud/arcturus/pkg/scheduler"
	"github.com/arcturus-cloud/arcturus/test/framework"
)

const (
	tenant     = "acme"
	nodeName   = "e2e-node"
	podTimeout = 90 * time.Second
)

// cluster is a region with one real node, seen by an admin of one tenant.
type cluster struct {
	server     *framework.Server
	node       *framework.Node
	pods       kubernetes.Interface
	kubeconfig string
}

func newCluster(t *testing.T) *cluster {
	s := framework.StartServer(t)
	s.CreateTenant(t, tenant)
	n := s.StartNode(t, nodeName)
	sched := scheduler.NewOptions()
	sched.HealthAddress = ""
	s.StartScheduler(t, sched)
	cfg := s.TenantAdmin(t, tenant, "alice")
	return &cluster{server: s, node: n, pods: framework.Clientset(t, cfg), kubeconfig: framework.KubeconfigFile(t, cfg)}
}

func (c *cluster) kubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := framework.Kubectl(t, c.kubeconfig, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// run starts a pod the way a user would, with kubectl run; the scheduler
// places it on the node.
func (c *cluster) run(t *testing.T, name, restart string, extra []string, command ...string) {
	t.Helper()
	args := append([]string{"run", name, "--image=" + framework.BusyboxImageName, "--restart=" + restart}, extra...)
	c.kubectl(t, append(append(args, "--"), command...)...)
}

func (c *cluster) waitPod(t *testing.T, name, what string, ok func(*corev1.Pod) error) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	framework.Eventually(t, podTimeout, name+" "+what, func(ctx context.Context) error {
		p, err := c.pods.CoreV1().Pods(metav1.NamespaceDefault).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		pod = p
		return ok(p)
	})
	return pod
}

func phase(want corev1.PodPhase) func(*corev1.Pod) error {
	return func(p *corev1.Pod) error {
		if p.Status.Phase != want {
			return fmt.Errorf("phase %s, containers %+v", p.Status.Phase, p.Status.ContainerStatuses)
		}
		return nil
	}
}

func (c *cluster) events(t *testing.T, pod string) string {
	t.Helper()
	list, err := c.pods.CoreV1().Events(metav1.NamespaceDefault).List(context.Background(), metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("involvedObject.name", pod).String(),
	})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range list.Items {
		fmt.Fprintf(&b, "%s %s: %s\n", e.Type, e.Reason, e.Message)
	}
	return b.String()
}

// TestContainers walks through what a tenant does with container pods on
// a real node: run, logs, exec, completion, environment, restart policies
// and back-off, limits, broken pods, graceful deletion, and an agent
// restart that leaves running containers alone.
func TestContainers(t *testing.T) {
	c := newCluster(t)
	ctx := context.Background()

	t.Run("hello", func(t *testing.T) {
		start := time.Now()
		c.run(t, "hello", "Never", nil, "sh", "-c", "echo hi; sleep 4")
		running := c.waitPod(t, "hello", "Running", phase(corev1.PodRunning))
		t.Logf("created to Running in %s", time.Since(start).Round(time.Millisecond))
		if running.Status.PodIP == "" || running.Status.HostIP == "" {
			t.Errorf("pod IP %q, host IP %q", running.Status.PodIP, running.Status.HostIP)
		}
		framework.Eventually(t, 30*time.Second, "logs", func(context.Context) error {
			out, _, err := framework.Kubectl(t, c.kubeconfig, "logs", "hello")
			if err != nil || out != "hi\n" {
				return fmt.Errorf("logs %q: %v", out, err)
			}
			return nil
		})
		if out := c.kubectl(t, "exec", "hello", "--", "cat", "/etc/hostname"); strings.TrimSpace(out) != "hello" {
			t.Errorf("exec cat /etc/hostname = %q", out)
		}
		if out := c.kubectl(t, "logs", "-f", "hello"); out != "hi\n" {
			t.Errorf("logs -f = %q", out)
		}
		done := c.waitPod(t, "hello", "Succeeded", phase(corev1.PodSucceeded))
		term := done.Status.ContainerStatuses[0].State.Terminated
		if term == nil || term.ExitCode != 0 || term.Reason != "Completed" {
			t.Errorf("terminated state %+v", term)
		}
		if ev := c.events(t, "hello"); !strings.Contains(ev, "Started") {
			t.Errorf("events lack Started:\n%s", ev)
		}
	})

	t.Run("environment, command and args", func(t *testing.T) {
		c.kubectl(t, "create", "configmap", "settings", "--from-literal=greeting=hello-from-configmap")
		pod := busybox("env", corev1.RestartPolicyNever)
		pod.Spec.Containers[0].Command = []string{"sh", "-c"}
		pod.Spec.Containers[0].Args = []string{`echo "$(GREETING) $POD_NAME $MESSAGE"`}
		pod.Spec.Containers[0].Env = []corev1.EnvVar{
			{Name: "GREETING", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: "greeting"}}},
			{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "MESSAGE", Value: "and $(GREETING)"},
		}
		c.create(t, pod)
		c.waitPod(t, "env", "Succeeded", phase(corev1.PodSucceeded))
		if out := c.kubectl(t, "logs", "env"); out != "hello-from-configmap env and hello-from-configmap\n" {
			t.Errorf("logs = %q", out)
		}
	})

	t.Run("restart with back-off", func(t *testing.T) {
		pod := busybox("crash", corev1.RestartPolicyAlways)
		pod.Spec.Containers[0].Command = []string{"sh", "-c", "echo crashing; exit 3"}
		c.create(t, pod)
		p := c.waitPod(t, "crash", "in CrashLoopBackOff", func(p *corev1.Pod) error {
			if len(p.Status.ContainerStatuses) == 0 {
				return fmt.Errorf("no container status")
			}
			cs := p.Status.ContainerStatuses[0]
			if cs.State.Waiting == nil || cs.State.Waiting.Reason != "CrashLoopBackOff" || cs.RestartCount < 1 {
				return fmt.Errorf("state %+v, restarts %d", cs.State, cs.RestartCount)
			}
			if last := cs.LastTerminationState.Terminated; last == nil || last.ExitCode != 3 {
				return fmt.Errorf("last state %+v", cs.LastTerminationState)
			}
			return nil
		})
		if p.Status.Phase != corev1.PodRunning {
			t.Errorf("a crash-looping pod with restartPolicy Always is %s, want Running", p.Status.Phase)
		}
		if out := c.kubectl(t, "logs", "crash", "--previous"); out != "crashing\n" {
			t.Errorf("logs --previous = %q", out)
		}
		if ev := c.events(t, "crash"); !strings.Contains(ev, "BackOff") {
			t.Errorf("events lack BackOff:\n%s", ev)
		}
	})

	t.Run("memory limit", func(t *testing.T) {
		pod := busybox("limited", corev1.RestartPolicyNever)
		pod.Spec.Containers[0].Command = []string{"sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max 2>/dev/null; sleep 60"}
		pod.Spec.Containers[0].Resources.Limits = corev1.ResourceList{
			corev1.ResourceMemory: resource.MustParse("64Mi"), corev1.ResourceCPU: resource.MustParse("500m"),
		}
		c.create(t, pod)
		c.waitPod(t, "limited", "Running", phase(corev1.PodRunning))
		framework.Eventually(t, 30*time.Second, "the cgroup limit", func(context.Context) error {
			out, _, err := framework.Kubectl(t, c.kubeconfig, "logs", "limited")
			if err != nil || strings.TrimSpace(out) != "67108864" {
				return fmt.Errorf("memory limit %q: %v", out, err)
			}
			return nil
		})
	})

	t.Run("broken pods", func(t *testing.T) {
		missing := busybox("no-image", corev1.RestartPolicyNever)
		missing.Spec.Containers[0].Image = "registry.invalid/nothing:1"
		c.create(t, missing)
		c.waitPod(t, "no-image", "waiting for its image", waitingFor("ErrImagePull", "ImagePullBackOff"))

		noCommand := busybox("no-command", corev1.RestartPolicyNever)
		noCommand.Spec.Containers[0].Command = []string{"/no/such/command"}
		c.create(t, noCommand)
		p := c.waitPod(t, "no-command", "Failed", phase(corev1.PodFailed))
		if term := p.Status.ContainerStatuses[0].State.Terminated; term == nil || term.ExitCode == 0 || term.Message == "" {
			t.Errorf("a command that does not exist ended %+v", term)
		}

		huge := busybox("too-big", corev1.RestartPolicyNever)
		huge.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("100Ti")}
		c.create(t, huge)
		p = c.waitPod(t, "too-big", "rejected", phase(corev1.PodFailed))
		if p.Status.Reason != "OutOfmemory" {
			t.Errorf("reason %q, want OutOfmemory", p.Status.Reason)
		}

		// Pods that never ran, failed to start or crash-loop go away
		// without a trace, as running ones do.
		c.deleteClean(t, "no-image", "no-command", "too-big", "crash")
	})

	t.Run("graceful deletion", func(t *testing.T) {
		polite := busybox("polite", corev1.RestartPolicyNever)
		polite.Spec.Containers[0].Command = []string{"sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"}
		stubborn := busybox("stubborn", corev1.RestartPolicyNever)
		stubborn.Spec.Containers[0].Command = []string{"sh", "-c", "trap '' TERM; while true; do sleep 0.2; done"}
		for _, p := range []*corev1.Pod{polite, stubborn} {
			c.create(t, p)
			c.waitPod(t, p.Name, "Running", phase(corev1.PodRunning))
		}
		for _, tc := range []struct {
			name    string
			grace   int64
			atLeast time.Duration
			atMost  time.Duration
		}{
			{"polite", 30, 0, 15 * time.Second},
			{"stubborn", 3, 3 * time.Second, 20 * time.Second},
		} {
			start := time.Now()
			c.kubectl(t, "delete", "pod", tc.name, fmt.Sprintf("--grace-period=%d", tc.grace))
			took := time.Since(start)
			t.Logf("%s deleted in %s", tc.name, took.Round(time.Millisecond))
			if took < tc.atLeast || took > tc.atMost {
				t.Errorf("deleting %s took %s, want between %s and %s", tc.name, took, tc.atLeast, tc.atMost)
			}
		}
	})

	t.Run("agent restart keeps containers", func(t *testing.T) {
		c.create(t, busybox("survivor", corev1.RestartPolicyAlways))
		before := c.waitPod(t, "survivor", "Running", phase(corev1.PodRunning)).Status.ContainerStatuses[0].ContainerID
		c.node.Restart(t, c.server)
		time.Sleep(3 * time.Second)
		after := c.waitPod(t, "survivor", "Running", phase(corev1.PodRunning)).Status.ContainerStatuses[0]
		if after.ContainerID != before || after.RestartCount != 0 {
			t.Errorf("after an agent restart: container %s (restarts %d), was %s", after.ContainerID, after.RestartCount, before)
		}
		uid := c.waitPod(t, "survivor", "Running", phase(corev1.PodRunning)).UID
		c.deleteClean(t, "survivor")
		refs, err := c.node.CRI(t).Pods(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ref := range refs {
			if ref.UID == uid {
				t.Errorf("the deleted pod's sandbox is still on the node")
			}
		}
	})
}

func busybox(name string, restart corev1.RestartPolicy) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: metav1.NamespaceDefault},
		Spec: corev1.PodSpec{
			NodeName:      nodeName,
			RestartPolicy: restart,
			Containers:    []corev1.Container{{Name: name, Image: framework.BusyboxImageName, Command: []string{"sleep", "3600"}}},
		},
	}
}

func (c *cluster) create(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	if _, err := c.pods.CoreV1().Pods(pod.Namespace).Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating pod %s: %v", pod.Name, err)
	}
}

func waitingFor(reasons ...string) func(*corev1.Pod) error {
	return func(p *corev1.Pod) error {
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil {
				for _, r := range reasons {
					if w.Reason == r {
						return nil
					}
				}
			}
		}
		return fmt.Errorf("containers %+v", p.Status.ContainerStatuses)
	}
}
