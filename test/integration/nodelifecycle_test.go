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

package integration

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/arcturus-cloud/arcturus/pkg/agent"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/controllers"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/nodelifecycle"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
	"github.com/arcturus-cloud/arcturus/test/framework"
)

// lifecyclePods are pod clients of tenants acme and beta.
type lifecyclePods map[string]*client.Core

func newLifecyclePods(t *testing.T, s *framework.Server) lifecyclePods {
	t.Helper()
	pods := lifecyclePods{}
	for _, tenant := range []string{acme, beta} {
		s.CreateTenant(t, tenant)
		c, err := client.NewCore(s.TenantAdmin(t, tenant, user), nil)
		if err != nil {
			t.Fatal(err)
		}
		pods[tenant] = c
	}
	return pods
}

func (p lifecyclePods) create(t *testing.T, tenant string, pod *v1.Pod) *v1.Pod {
	t.Helper()
	out := &v1.Pod{}
	if err := p[tenant].RESTClient().Post().Namespace(pod.Namespace).Resource("pods").Body(pod).Do(context.Background()).Into(out); err != nil {
		t.Fatalf("creating pod %s in %s: %v", pod.Name, tenant, err)
	}
	return out
}

func (p lifecyclePods) get(ctx context.Context, tenant, name string) (*v1.Pod, error) {
	return p[tenant].GetPod(ctx, tenancy.Name(tenant), metav1.NamespaceDefault, name)
}

// tolerating is a pod on node that tolerates the unreachable taint for
// seconds (nil: forever), with a grace period long enough that its
// deletion time tells when it was evicted.
func tolerating(name, node string, seconds *int64) *v1.Pod {
	p := simPod(name, node, "")
	p.Spec.TerminationGracePeriodSeconds = ptr.To[int64](evictionGrace)
	p.Spec.Tolerations = []corev1.Toleration{{
		Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: seconds,
	}}
	return p
}

const evictionGrace = 120

func controllerTaint(n *corev1.Node) *corev1.Taint {
	for i, t := range n.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoExecute && (t.Key == corev1.TaintNodeUnreachable || t.Key == corev1.TaintNodeNotReady) {
			return &n.Spec.Taints[i]
		}
	}
	return nil
}

// unknown says whether the agent's conditions of n are all Unknown, as the
// controller sets them.
func unknown(n *corev1.Node) error {
	for _, want := range nodelifecycle.AgentConditions {
		found := false
		for _, c := range n.Status.Conditions {
			if c.Type != want {
				continue
			}
			found = true
			if c.Status != corev1.ConditionUnknown || c.Reason != nodelifecycle.ReasonStatusUnknown || c.Message != nodelifecycle.MessageStatusUnknown {
				return fmt.Errorf("node %s: %s is %s (%s: %s)", n.Name, c.Type, c.Status, c.Reason, c.Message)
			}
		}
		if !found {
			return fmt.Errorf("node %s has no %s condition", n.Name, want)
		}
	}
	return nil
}

func healthy(n *corev1.Node) error {
	for _, c := range nodelifecycle.AgentConditions {
		if status := nodeCondition(n, c); status != corev1.ConditionTrue {
			return fmt.Errorf("node %s: %s is %q", n.Name, c, status)
		}
	}
	if t := controllerTaint(n); t != nil {
		return fmt.Errorf("node %s still has %s", n.Name, t.ToString())
	}
	return nil
}

func listNodes(ctx context.Context, admin kubernetes.Interface, prefix string) ([]corev1.Node, error) {
	list, err := admin.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []corev1.Node
	for _, n := range list.Items {
		if strings.HasPrefix(n.Name, prefix) {
			out = append(out, n)
		}
	}
	return out, nil
}

// TestNodeLifecycle stops the agent of three simulated nodes, while four
// others of the same zone stay, and checks the node lifecycle controller:
// the silent nodes' conditions go Unknown and they are tainted unreachable;
// pods of two tenants on one of them are evicted when their tolerations run
// out (at once, after 5 s, never), with an Event; a restarted agent gets
// its nodes back untainted. Then every node falls silent, and the zone's
// disruption stops new taints.
func TestNodeLifecycle(t *testing.T) {
	const grace = 20 * time.Second
	s := framework.StartServer(t, framework.WithControllers(func(o *controllers.Options) {
		// Twice the agent's renewal interval, so that a late renewal under
		// load does not make a node flap.
		o.NodeMonitorGracePeriod = grace
		o.NodeMonitorPeriod = time.Second
		// The rate limit has unit tests; here every node may go at once.
		o.NodeEvictionRate = 100
	}))
	pods := newLifecyclePods(t, s)
	admin := typed(t, s.AdminConfig())
	ctx := context.Background()

	// One zone of seven nodes, of which three will fall silent: less than
	// the 55 % that would stop tainting.
	steadyOptions := simulatedAgent(4)
	steadyOptions.SimulatePrefix, steadyOptions.SimulateZones = "steady", 1
	steady := s.StartAgent(t, steadyOptions)
	simOptions := func() *agent.Options {
		o := simulatedAgent(3)
		o.SimulateZones = 1
		return o
	}
	sim := s.StartAgent(t, simOptions())
	framework.Eventually(t, agentTimeout, "seven ready nodes", func(ctx context.Context) error {
		nodes, err := listNodes(ctx, admin, "")
		if err != nil {
			return err
		}
		if len(nodes) != 7 {
			return fmt.Errorf("%d nodes", len(nodes))
		}
		for _, n := range nodes {
			if err := healthy(&n); err != nil {
				return err
			}
		}
		return nil
	})

	const node = "sim-00001"
	for _, tenant := range []string{acme, beta} {
		pods.create(t, tenant, tolerating("now", node, ptr.To[int64](0)))
		pods.create(t, tenant, tolerating("soon", node, ptr.To[int64](5)))
		pods.create(t, tenant, tolerating("forever", node, nil))
		p := simPod("default", node, "")
		p.Spec.TerminationGracePeriodSeconds = ptr.To[int64](evictionGrace)
		created := pods.create(t, tenant, p)
		t.Run("default tolerations of "+tenant, func(t *testing.T) {
			want := map[string]bool{corev1.TaintNodeNotReady: true, corev1.TaintNodeUnreachable: true}
			for _, tol := range created.Spec.Tolerations {
				if tol.Effect == corev1.TaintEffectNoExecute && tol.Operator == corev1.TolerationOpExists &&
					tol.TolerationSeconds != nil && *tol.TolerationSeconds == v1.DefaultTolerationSeconds {
					delete(want, tol.Key)
				}
			}
			if len(want) != 0 {
				t.Errorf("tolerations %+v lack the defaults for %v", created.Spec.Tolerations, want)
			}
			// Defaults are for creation only: an update keeps what is there.
			// The scheduler and the agent write the pod too, hence the retry.
			err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
				current, err := pods.get(ctx, tenant, "default")
				if err != nil {
					return err
				}
				current.Labels = map[string]string{"updated": "yes"}
				return pods[tenant].Request(http.MethodPut, tenancy.Name(tenant)).Namespace(metav1.NamespaceDefault).
					Resource("pods").Name("default").Body(current).Do(ctx).Error()
			})
			if err != nil {
				t.Errorf("updating a pod with default tolerations: %v", err)
			}
		})
	}
	for _, tenant := range []string{acme, beta} {
		framework.Eventually(t, agentTimeout, tenant+" pods running", func(ctx context.Context) error {
			for _, name := range []string{"now", "soon", "forever", "default"} {
				p, err := pods.get(ctx, tenant, name)
				if err != nil {
					return err
				}
				if p.Status.Phase != corev1.PodRunning {
					return fmt.Errorf("%s/%s is %s", tenant, name, p.Status.Phase)
				}
			}
			return nil
		})
	}

	var tainted time.Time
	t.Run("silent nodes go unknown and are tainted", func(t *testing.T) {
		stopped := time.Now()
		sim.Stop(t)
		framework.Eventually(t, grace+20*time.Second, "the stopped agent's nodes tainted unreachable", func(ctx context.Context) error {
			nodes, err := listNodes(ctx, admin, "")
			if err != nil {
				return err
			}
			for _, n := range nodes {
				if strings.HasPrefix(n.Name, "steady-") {
					if err := healthy(&n); err != nil {
						return fmt.Errorf("a node whose agent runs: %w", err)
					}
					continue
				}
				if err := unknown(&n); err != nil {
					return err
				}
				taint := controllerTaint(&n)
				if taint == nil || taint.Key != corev1.TaintNodeUnreachable || taint.TimeAdded == nil {
					return fmt.Errorf("node %s: taints %+v", n.Name, n.Spec.Taints)
				}
				if n.Name == node {
					tainted = taint.TimeAdded.Time
				}
			}
			return nil
		})
		t.Logf("node %s tainted %v after its agent stopped (grace period %v)", node, tainted.Sub(stopped).Round(time.Second), grace)
	})

	t.Run("pods are evicted as their tolerations say", func(t *testing.T) {
		// A pod's deletion time is its eviction plus its grace period.
		evictedAt := func(ctx context.Context, tenant, name string) (time.Time, error) {
			p, err := pods.get(ctx, tenant, name)
			if err != nil {
				return time.Time{}, err
			}
			if p.DeletionTimestamp == nil {
				return time.Time{}, errors.New("not being deleted")
			}
			return p.DeletionTimestamp.Add(-evictionGrace * time.Second), nil
		}
		for _, tc := range []struct {
			name  string
			delay time.Duration
		}{{"now", 0}, {"soon", 5 * time.Second}} {
			for _, tenant := range []string{acme, beta} {
				var at time.Time
				framework.Eventually(t, agentTimeout, tenant+"/"+tc.name+" evicted", func(ctx context.Context) (err error) {
					at, err = evictedAt(ctx, tenant, tc.name)
					return err
				})
				// Both times are in whole seconds.
				if d := at.Sub(tainted); d < tc.delay-time.Second || d > tc.delay+3*time.Second {
					t.Errorf("%s/%s evicted %v after the taint, want %v", tenant, tc.name, d, tc.delay)
				} else {
					t.Logf("%s/%s evicted %v after the taint", tenant, tc.name, d)
				}
			}
		}
		for _, tenant := range []string{acme, beta} {
			events := typed(t, s.TenantAdmin(t, tenant, user)).CoreV1().Events(metav1.NamespaceDefault)
			framework.Eventually(t, agentTimeout, tenant+" eviction events", func(ctx context.Context) error {
				for _, name := range []string{"now", "soon"} {
					list, err := events.List(ctx, metav1.ListOptions{FieldSelector: fields.AndSelectors(
						fields.OneTermEqualSelector("involvedObject.name", name),
						fields.OneTermEqualSelector("reason", nodelifecycle.ReasonTaintManagerEviction)).String()})
					if err != nil {
						return err
					}
					if len(list.Items) != 1 || list.Items[0].Message != "Marking for deletion Pod default/"+name {
						return fmt.Errorf("events of %s: %+v", name, list.Items)
					}
				}
				return nil
			})
		}
		// Three seconds past the last eviction, the others are still there.
		time.Sleep(3 * time.Second)
		for _, tenant := range []string{acme, beta} {
			for _, name := range []string{"forever", "default"} {
				p, err := pods.get(ctx, tenant, name)
				if err != nil {
					t.Errorf("%s/%s, which tolerates the taint for long: %v", tenant, name, err)
				} else if p.DeletionTimestamp != nil {
					t.Errorf("%s/%s, which tolerates the taint for long, is being deleted", tenant, name)
				}
			}
		}
	})

	t.Run("a restarted agent gets its nodes back", func(t *testing.T) {
		restarted := time.Now()
		sim = s.StartAgent(t, simOptions())
		framework.Eventually(t, agentTimeout, "nodes healthy and untainted", func(ctx context.Context) error {
			nodes, err := listNodes(ctx, admin, "")
			if err != nil {
				return err
			}
			for _, n := range nodes {
				if err := healthy(&n); err != nil {
					return err
				}
			}
			return nil
		})
		t.Logf("taints removed %v after the agent restarted", time.Since(restarted).Round(100*time.Millisecond))
		// The agent finishes the evictions; the rest run on.
		for _, tenant := range []string{acme, beta} {
			for _, name := range []string{"now", "soon"} {
				waitGone(t, func(ctx context.Context) error { _, err := pods.get(ctx, tenant, name); return err })
			}
			for _, name := range []string{"forever", "default"} {
				p, err := pods.get(ctx, tenant, name)
				if err != nil {
					t.Errorf("%s/%s after the restart: %v", tenant, name, err)
				} else if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
					t.Errorf("%s/%s after the restart: deletion %v, phase %s", tenant, name, p.DeletionTimestamp, p.Status.Phase)
				}
			}
		}
	})

	t.Run("a zone mostly silent is not tainted", func(t *testing.T) {
		sim.Stop(t)
		steady.Stop(t)
		var last string
		framework.Eventually(t, grace+30*time.Second, "every node unknown", func(ctx context.Context) error {
			nodes, err := listNodes(ctx, admin, "")
			if err != nil {
				return err
			}
			for _, n := range nodes {
				if err := unknown(&n); err != nil {
					return err
				}
			}
			return nil
		})
		// Give the controller a few passes more to taint what it would.
		time.Sleep(3 * time.Second)
		nodes, err := listNodes(ctx, admin, "")
		if err != nil {
			t.Fatal(err)
		}
		var taintedNodes []string
		for _, n := range nodes {
			if controllerTaint(&n) != nil {
				taintedNodes = append(taintedNodes, n.Name)
			}
		}
		// Nodes are tainted while at most 55 % of the zone is silent: 3 of 7.
		if len(taintedNodes) > 3 {
			t.Errorf("tainted %v: more than the 55 %% of the zone", taintedNodes)
		}
		t.Logf("tainted as the zone went silent: %v", taintedNodes)
		r := do(t, s.AdminConfig(), http.MethodGet, "/metrics", "", nil)
		for _, line := range strings.Split(string(r.body), "\n") {
			if strings.HasPrefix(line, "arcturus_node_lifecycle_zone_disrupted{") {
				last = line
			}
		}
		if last != `arcturus_node_lifecycle_zone_disrupted{zone="zone-0"} 1` {
			t.Errorf("zone disruption metric: %q", last)
		}
	})
}

// TestPodGC checks the pod garbage collector: pods bound to a node that
// does not exist are deleted once the quarantine is over, unless the node
// appears meanwhile; finished pods beyond the threshold are deleted oldest
// first, across tenants.
func TestPodGC(t *testing.T) {
	const quarantine = 4 * time.Second
	s := framework.StartServer(t, framework.WithControllers(func(o *controllers.Options) {
		o.PodGCPeriod = time.Second
		o.OrphanedPodQuarantine = quarantine
		o.TerminatedPodGCThreshold = 3
	}))
	pods := newLifecyclePods(t, s)
	admin := typed(t, s.AdminConfig())
	ctx := context.Background()

	t.Run("orphaned pods", func(t *testing.T) {
		created := time.Now()
		for _, tenant := range []string{acme, beta} {
			pods.create(t, tenant, simPod("orphan", "ghost", ""))
		}
		pods.create(t, acme, simPod("waits", "late", ""))
		time.Sleep(time.Until(created.Add(quarantine / 2)))
		for _, tenant := range []string{acme, beta} {
			if _, err := pods.get(ctx, tenant, "orphan"); err != nil {
				t.Errorf("%s/orphan within the quarantine: %v", tenant, err)
			}
		}
		if _, err := admin.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "late"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, tenant := range []string{acme, beta} {
			waitGone(t, func(ctx context.Context) error { _, err := pods.get(ctx, tenant, "orphan"); return err })
		}
		took := time.Since(created)
		if took < quarantine {
			t.Errorf("orphans deleted after %v, within the quarantine of %v", took, quarantine)
		}
		t.Logf("orphans deleted %v after their creation (quarantine %v, period 1s)", took.Round(100*time.Millisecond), quarantine)
		time.Sleep(2 * time.Second)
		if _, err := pods.get(ctx, acme, "waits"); err != nil {
			t.Errorf("a pod whose node registered during the quarantine: %v", err)
		}
	})

	t.Run("finished pods beyond the threshold", func(t *testing.T) {
		var names []string
		for i := range 5 {
			tenant := []string{acme, beta}[i%2]
			name := fmt.Sprintf("done-%d", i)
			names = append(names, tenant+"/"+name)
			p := pods.create(t, tenant, simPod(name, "", ""))
			p.Status.Phase = []corev1.PodPhase{corev1.PodSucceeded, corev1.PodFailed}[i%2]
			if _, err := pods[tenant].UpdatePodStatus(ctx, tenancy.Name(tenant), p); err != nil {
				t.Fatalf("finishing %s: %v", name, err)
			}
			// Creation times are in seconds: one apart orders them.
			time.Sleep(1100 * time.Millisecond)
		}
		remaining := func(ctx context.Context) ([]string, error) {
			var out []string
			for _, name := range names {
				tenant, pod, _ := strings.Cut(name, "/")
				_, err := pods.get(ctx, tenant, pod)
				switch {
				case err == nil:
					out = append(out, name)
				case !apierrors.IsNotFound(err):
					return nil, err
				}
			}
			return out, nil
		}
		want := strings.Join(names[2:], ",")
		framework.Eventually(t, agentTimeout, "the oldest two deleted", func(ctx context.Context) error {
			got, err := remaining(ctx)
			if err != nil {
				return err
			}
			if strings.Join(got, ",") != want {
				return fmt.Errorf("remaining %v, want %v", got, want)
			}
			return nil
		})
		time.Sleep(2 * time.Second)
		if got, err := remaining(ctx); err != nil || strings.Join(got, ",") != want {
			t.Errorf("later: remaining %v (%v), want %v", got, err, want)
		}
	})
}
