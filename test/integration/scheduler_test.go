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
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/scheduler"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
	"github.com/arcturus-cloud/arcturus/test/framework"
)

const schedulingTimeout = 30 * time.Second

func schedulerOptions() *scheduler.Options {
	o := scheduler.NewOptions()
	o.HealthAddress = ""
	o.LeaderElection.LeaseDuration, o.LeaderElection.RenewDeadline, o.LeaderElection.RetryPeriod = 4*time.Second, 3*time.Second, 500*time.Millisecond
	return o
}

// schedulingRig is a server with two tenants, four simulated nodes in two
// zones (4 cpus each) and one node without an agent or a VM runtime,
// tainted so that only pods that ask for it land there.
type schedulingRig struct {
	s     *framework.Server
	pods  map[string]*client.Core
	admin *client.Core
}

func newSchedulingRig(t *testing.T) *schedulingRig {
	s := framework.StartServer(t)
	s.CreateTenant(t, acme)
	s.CreateTenant(t, beta)
	o := simulatedAgent(4)
	o.SimulateZones = 2
	s.StartAgent(t, o)

	admin := typed(t, s.AdminConfig())
	ctx := context.Background()
	novm := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "novm", Labels: map[string]string{corev1.LabelHostname: "novm", corev1.LabelTopologyZone: "zone-9"}},
		Spec:       corev1.NodeSpec{Taints: []corev1.Taint{{Key: "dedicated", Value: "novm", Effect: corev1.TaintEffectNoSchedule}}},
	}
	created, err := admin.CoreV1().Nodes().Create(ctx, novm, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created.Status = corev1.NodeStatus{
		Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("110")},
		Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("110")},
		Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "Test", LastHeartbeatTime: metav1.Now()}},
	}
	if _, err := admin.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	heartbeat(t, admin, "novm")
	framework.Eventually(t, agentTimeout, "four Ready simulated nodes", func(ctx context.Context) error {
		nodes, err := admin.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: v1.LabelSimulated + "=true"})
		if err != nil {
			return err
		}
		ready := 0
		for _, n := range nodes.Items {
			if nodeCondition(&n, corev1.NodeReady) == corev1.ConditionTrue {
				ready++
			}
		}
		if ready != 4 {
			return fmt.Errorf("%d of %d nodes Ready", ready, len(nodes.Items))
		}
		return nil
	})

	r := &schedulingRig{s: s, pods: map[string]*client.Core{}}
	for _, tenant := range []string{acme, beta} {
		c, err := client.NewCore(s.TenantAdmin(t, tenant, user), nil)
		if err != nil {
			t.Fatal(err)
		}
		r.pods[tenant] = c
	}
	if r.admin, err = client.NewCore(s.AdminConfig(), nil); err != nil {
		t.Fatal(err)
	}
	return r
}

// heartbeat renews the node's Lease as a kubelet would until the test
// ends, so that the node lifecycle controller does not find an agentless
// node silent and taint it unreachable on a slow machine.
func heartbeat(t *testing.T, admin kubernetes.Interface, node string) {
	t.Helper()
	leases := admin.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: node},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To(node), LeaseDurationSeconds: ptr.To[int32](40), RenewTime: &metav1.MicroTime{Time: time.Now()}},
	}
	lease, err := leases.Create(context.Background(), lease, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating the lease of %s: %v", node, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() {
		wait.UntilWithContext(ctx, func(ctx context.Context) {
			lease.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
			renewed, err := leases.Update(ctx, lease, metav1.UpdateOptions{})
			if err != nil {
				if ctx.Err() == nil {
					t.Logf("renewing the lease of %s: %v", node, err)
				}
				return
			}
			lease = renewed
		}, 5*time.Second)
	})
}

func (r *schedulingRig) create(t *testing.T, tenant string, pod *v1.Pod) *v1.Pod {
	t.Helper()
	out := &v1.Pod{}
	if err := r.pods[tenant].RESTClient().Post().Namespace(pod.Namespace).Resource("pods").Body(pod).Do(context.Background()).Into(out); err != nil {
		t.Fatalf("creating pod %s in %s: %v", pod.Name, tenant, err)
	}
	return out
}

func (r *schedulingRig) get(ctx context.Context, tenant, name string) (*v1.Pod, error) {
	return r.pods[tenant].GetPod(ctx, tenancy.Name(tenant), metav1.NamespaceDefault, name)
}

// nodeOf waits until the pod is bound and returns its node.
func (r *schedulingRig) nodeOf(t *testing.T, tenant, name string) string {
	t.Helper()
	var node string
	framework.Eventually(t, schedulingTimeout, tenant+"/"+name+" bound", func(ctx context.Context) error {
		p, err := r.get(ctx, tenant, name)
		if err != nil {
			return err
		}
		if p.Spec.NodeName == "" {
			return fmt.Errorf("not bound; conditions %v", p.Status.Conditions)
		}
		node = p.Spec.NodeName
		return nil
	})
	return node
}

// unschedulable waits until the pod says why it cannot be placed.
func (r *schedulingRig) unschedulable(t *testing.T, tenant, name string, want ...string) {
	t.Helper()
	framework.Eventually(t, schedulingTimeout, tenant+"/"+name+" unschedulable", func(ctx context.Context) error {
		p, err := r.get(ctx, tenant, name)
		if err != nil {
			return err
		}
		if p.Spec.NodeName != "" {
			return fmt.Errorf("bound to %s", p.Spec.NodeName)
		}
		for _, c := range p.Status.Conditions {
			if c.Type != corev1.PodScheduled || c.Status != corev1.ConditionFalse || c.Reason != corev1.PodReasonUnschedulable {
				continue
			}
			for _, w := range want {
				if !strings.Contains(c.Message, w) {
					return fmt.Errorf("message %q lacks %q", c.Message, w)
				}
			}
			return nil
		}
		return fmt.Errorf("conditions %v", p.Status.Conditions)
	})
}

// waitCordoned waits until the scheduler has seen node cordoned. It
// places pods by its informers' view of the nodes, which trails the API by
// a moment, as kube-scheduler's does: a pod created right after a cordon
// may still go to the node. A probe pod that may only go to node is found
// unschedulable once the scheduler knows; bound, it is deleted and tried
// again. Cordons made before this one, in order, are seen by then too.
func (r *schedulingRig) waitCordoned(t *testing.T, node string) {
	t.Helper()
	probe := simPod("cordon-probe", "", "")
	probe.Spec.NodeSelector = map[string]string{corev1.LabelHostname: node}
	remove := func(ctx context.Context) error {
		err := r.pods[acme].DeletePod(ctx, tenancy.Name(acme), metav1.NamespaceDefault, probe.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
	framework.Eventually(t, schedulingTimeout, "the scheduler sees "+node+" cordoned", func(ctx context.Context) error {
		p, err := r.get(ctx, acme, probe.Name)
		switch {
		case apierrors.IsNotFound(err):
			r.create(t, acme, probe)
			return errors.New("probe created")
		case err != nil:
			return err
		case p.Spec.NodeName != "":
			if err := remove(ctx); err != nil {
				return err
			}
			return fmt.Errorf("the probe went to %s before the scheduler saw the cordon", p.Spec.NodeName)
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				return nil
			}
		}
		return fmt.Errorf("probe conditions %v", p.Status.Conditions)
	})
	if err := remove(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitGoneWithin(t, schedulingTimeout, func(ctx context.Context) error { _, err := r.get(ctx, acme, probe.Name); return err })
}

func (r *schedulingRig) delete(t *testing.T, tenant string, names ...string) {
	t.Helper()
	for _, name := range names {
		if err := r.pods[tenant].DeletePod(context.Background(), tenancy.Name(tenant), metav1.NamespaceDefault, name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
			t.Fatalf("deleting %s/%s: %v", tenant, name, err)
		}
	}
}

func labelled(name, cpu string, labels map[string]string) *v1.Pod {
	p := simPod(name, "", cpu)
	p.Labels = labels
	return p
}

// TestScheduler runs the scheduler against simulated nodes and checks each
// filter and score a user relies on, the reasons it gives when nothing
// fits, retries on cluster changes, tenant isolation of affinity, and
// fairness between tenants.
func TestScheduler(t *testing.T) {
	r := newSchedulingRig(t)
	sched := r.s.StartScheduler(t, schedulerOptions())
	admin := typed(t, r.s.AdminConfig())
	ctx := context.Background()

	t.Run("pending pods are placed, spread and run", func(t *testing.T) {
		perNode := map[string]int{}
		for i := range 8 {
			r.create(t, acme, simPod(fmt.Sprintf("web-%d", i), "", "500m"))
		}
		for i := range 8 {
			perNode[r.nodeOf(t, acme, fmt.Sprintf("web-%d", i))]++
		}
		for node, n := range perNode {
			if n != 2 || node == "novm" {
				t.Errorf("pods per node %v, want 2 on each simulated node", perNode)
				break
			}
		}
		framework.Eventually(t, agentTimeout, "web-0 Running", func(ctx context.Context) error {
			p, err := r.get(ctx, acme, "web-0")
			if err != nil {
				return err
			}
			if p.Status.Phase != corev1.PodRunning {
				return fmt.Errorf("phase %s", p.Status.Phase)
			}
			return nil
		})
		events := typed(t, r.s.TenantAdmin(t, acme, user)).CoreV1().Events(metav1.NamespaceDefault)
		framework.Eventually(t, schedulingTimeout, "a Scheduled event", func(ctx context.Context) error {
			list, err := events.List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("involvedObject.name", "web-0").String()})
			if err != nil {
				return err
			}
			for _, e := range list.Items {
				if e.Reason == "Scheduled" && e.Source.Component == scheduler.DefaultName && strings.Contains(e.Message, "Successfully assigned default/web-0 to ") {
					return nil
				}
			}
			return fmt.Errorf("events %v", list.Items)
		})
		names := make([]string, 8)
		for i := range names {
			names[i] = fmt.Sprintf("web-%d", i)
		}
		r.delete(t, acme, names...)
	})

	t.Run("a pod that fits nowhere says why and is placed once the cluster changes", func(t *testing.T) {
		p := simPod("ssd", "", "")
		p.Spec.NodeSelector = map[string]string{"disk": "ssd"}
		r.create(t, acme, p)
		r.unschedulable(t, acme, "ssd",
			"0/5 nodes are available: 1 node(s) had untolerated taint {dedicated: novm}, 4 node(s) didn't match Pod's node affinity/selector.")
		events := typed(t, r.s.TenantAdmin(t, acme, user)).CoreV1().Events(metav1.NamespaceDefault)
		framework.Eventually(t, schedulingTimeout, "a FailedScheduling event", func(ctx context.Context) error {
			list, err := events.List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("involvedObject.name", "ssd").String()})
			if err != nil {
				return err
			}
			for _, e := range list.Items {
				if e.Reason == "FailedScheduling" && e.Type == corev1.EventTypeWarning {
					return nil
				}
			}
			return fmt.Errorf("events %v", list.Items)
		})
		labelNode(t, admin, "sim-00002", "disk", "ssd")
		if node := r.nodeOf(t, acme, "ssd"); node != "sim-00002" {
			t.Errorf("ssd on %s, want sim-00002", node)
		}

		r.create(t, acme, simPod("huge", "", "100"))
		r.unschedulable(t, acme, "huge", "4 Insufficient cpu")
		r.delete(t, acme, "ssd", "huge")
	})

	t.Run("VM pods go only to nodes that run VMs", func(t *testing.T) {
		vm := simPod("vm", "", "")
		vm.Spec.Containers = nil
		vm.Spec.VirtualMachine = &v1.VirtualMachineSpec{Kernel: &v1.KernelBoot{Kernel: "/boot/vmlinuz"}}
		vm.Spec.NodeSelector = map[string]string{corev1.LabelHostname: "novm"}
		vm.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists}}
		r.create(t, acme, vm)
		r.unschedulable(t, acme, "vm", "1 node(s) cannot run virtual machines")
		r.delete(t, acme, "vm")

		vm.Spec.NodeSelector, vm.Name = nil, "vm2"
		vm.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			// Preferring the node without a VM runtime must not put it there.
			PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{Weight: 100, Preference: corev1.NodeSelectorTerm{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: []string{"novm"}}},
			}}},
		}}
		r.create(t, acme, vm)
		if node := r.nodeOf(t, acme, "vm2"); !strings.HasPrefix(node, "sim-") {
			t.Errorf("VM pod on %s", node)
		}
		r.delete(t, acme, "vm2")
	})

	t.Run("taints, tolerations and cordoned nodes", func(t *testing.T) {
		t.Cleanup(func() {
			for _, n := range []string{"sim-00000", "sim-00001", "sim-00002", "sim-00003"} {
				setUnschedulable(t, admin, n, false)
			}
		})
		for _, n := range []string{"sim-00000", "sim-00001", "sim-00002"} {
			setUnschedulable(t, admin, n, true)
		}
		r.waitCordoned(t, "sim-00002")
		r.create(t, acme, simPod("lonely", "", ""))
		if node := r.nodeOf(t, acme, "lonely"); node != "sim-00003" {
			t.Errorf("lonely on %s, want the one uncordoned node sim-00003", node)
		}
		setUnschedulable(t, admin, "sim-00003", true)
		r.waitCordoned(t, "sim-00003")
		r.create(t, acme, simPod("nowhere", "", ""))
		r.unschedulable(t, acme, "nowhere", "4 node(s) were unschedulable")
		setUnschedulable(t, admin, "sim-00001", false)
		if node := r.nodeOf(t, acme, "nowhere"); node != "sim-00001" {
			t.Errorf("nowhere on %s, want sim-00001 once uncordoned", node)
		}
		for _, n := range []string{"sim-00000", "sim-00002", "sim-00003"} {
			setUnschedulable(t, admin, n, false)
		}
		tolerant := simPod("tolerant", "", "")
		tolerant.Spec.NodeSelector = map[string]string{corev1.LabelHostname: "novm"}
		tolerant.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Value: "novm", Effect: corev1.TaintEffectNoSchedule}}
		r.create(t, acme, tolerant)
		if node := r.nodeOf(t, acme, "tolerant"); node != "novm" {
			t.Errorf("tolerant on %s", node)
		}
		r.delete(t, acme, "lonely", "nowhere", "tolerant")
	})

	t.Run("pod anti-affinity counts only the pod's own tenant", func(t *testing.T) {
		db := map[string]string{"app": "db"}
		antiAffine := func(name string) *v1.Pod {
			p := labelled(name, "", db)
			p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
					LabelSelector: &metav1.LabelSelector{MatchLabels: db}, TopologyKey: corev1.LabelHostname,
				}},
			}}
			return p
		}
		for _, tenant := range []string{acme, beta} {
			nodes := map[string]bool{}
			for i := range 4 {
				name := fmt.Sprintf("db-%d", i)
				r.create(t, tenant, antiAffine(name))
				nodes[r.nodeOf(t, tenant, name)] = true
			}
			if len(nodes) != 4 {
				t.Errorf("%s: db pods on %v, want four nodes", tenant, nodes)
			}
		}
		r.create(t, acme, antiAffine("db-4"))
		r.unschedulable(t, acme, "db-4", "4 node(s) didn't satisfy existing pods anti-affinity rules")
		// A pod without anti-affinity of its own must still keep away
		// from the pods whose anti-affinity it matches.
		r.create(t, acme, labelled("db-plain", "", db))
		r.unschedulable(t, acme, "db-plain", "4 node(s) didn't satisfy existing pods anti-affinity rules")
		r.delete(t, acme, "db-0")
		r.nodeOf(t, acme, "db-4")
		r.delete(t, acme, "db-1", "db-2", "db-3", "db-4", "db-plain")
		r.delete(t, beta, "db-0", "db-1", "db-2", "db-3")
	})

	t.Run("topology spread by zone", func(t *testing.T) {
		spread := map[string]string{"app": "spread"}
		zones := map[string]int{}
		for i := range 6 {
			p := labelled(fmt.Sprintf("spread-%d", i), "", spread)
			p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
				MaxSkew: 1, TopologyKey: corev1.LabelTopologyZone, WhenUnsatisfiable: corev1.DoNotSchedule,
				LabelSelector: &metav1.LabelSelector{MatchLabels: spread},
			}}
			// Nodes in zone-0 are preferred: only the constraint keeps
			// the pods spread.
			p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
					MatchExpressions: []corev1.NodeSelectorRequirement{{Key: v1.LabelSimulated, Operator: corev1.NodeSelectorOpExists}},
				}}},
				PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{Weight: 100, Preference: corev1.NodeSelectorTerm{
					MatchExpressions: []corev1.NodeSelectorRequirement{{Key: corev1.LabelTopologyZone, Operator: corev1.NodeSelectorOpIn, Values: []string{"zone-0"}}},
				}}},
			}}
			r.create(t, acme, p)
			node := r.nodeOf(t, acme, p.Name)
			n, err := admin.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			zones[n.Labels[corev1.LabelTopologyZone]]++
		}
		if zones["zone-0"] != 3 || zones["zone-1"] != 3 {
			t.Errorf("pods per zone %v, want 3 and 3", zones)
		}
		for i := range 6 {
			r.delete(t, acme, fmt.Sprintf("spread-%d", i))
		}
	})

	t.Run("one tenant's flood does not starve another", func(t *testing.T) {
		sched.Stop(t)
		const flood = 200
		for i := range flood {
			r.create(t, acme, simPod(fmt.Sprintf("flood-%d", i), "", ""))
		}
		for i := range 3 {
			r.create(t, beta, simPod(fmt.Sprintf("late-%d", i), "", ""))
		}
		// The scheduler has up to 64 bindings in flight, and they complete
		// in any order, so only a flood several times that shows the
		// queue's order: first come first served would start beta's
		// bindings after 200 of acme's and finish them after at least 137;
		// round-robin starts them among the first six.
		order := r.watchBindings(t, flood+3, func() { sched = r.s.StartScheduler(t, schedulerOptions()) })
		var places []int
		for i, who := range order {
			if !strings.HasPrefix(who, beta+"/") {
				continue
			}
			places = append(places, i+1)
			if i >= 100 {
				t.Errorf("%s was bound %dth of %d; bindings in order: %v", who, i+1, len(order), order)
			}
		}
		t.Logf("beta's pods were bound %v of %d", places, len(order))
		names := make([]string, flood)
		for i := range names {
			names[i] = fmt.Sprintf("flood-%d", i)
		}
		r.delete(t, acme, names...)
	})
}

// watchBindings runs start, then records the order in which n pods of any
// tenant get bound, as tenant/name. Like any watcher it resumes from the
// last event when the server closes the watch, as the watch cache does
// with watchers that fall behind a burst.
func (r *schedulingRig) watchBindings(t *testing.T, n int, start func()) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*schedulingTimeout)
	defer cancel()
	list, err := r.admin.ListPods(ctx, tenancy.Wildcard, "", metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rv := list.ResourceVersion
	seen := map[types.UID]bool{}
	var order []string
	started := false
	for len(order) < n {
		w, err := r.admin.WatchPods(ctx, tenancy.Wildcard, "", metav1.ListOptions{ResourceVersion: rv})
		if err != nil {
			t.Fatalf("watching after %d bindings: %v", len(order), err)
		}
		if !started {
			start()
			started = true
		}
		for ev := range w.ResultChan() {
			if ev.Type == watch.Error {
				t.Fatalf("watch failed after %d bindings: %v", len(order), ev.Object)
			}
			p, isPod := ev.Object.(*v1.Pod)
			if !isPod {
				continue
			}
			rv = p.ResourceVersion
			if ev.Type == watch.Deleted || p.Spec.NodeName == "" || seen[p.UID] {
				continue
			}
			seen[p.UID] = true
			order = append(order, tenantOf(p)+"/"+p.Name)
			if len(order) == n {
				break
			}
		}
		w.Stop()
		if ctx.Err() != nil {
			t.Fatalf("only %d of %d pods bound: %v", len(order), n, order)
		}
	}
	return order
}

// TestSchedulerReplicas runs two schedulers that do not elect a leader:
// they race for every pod, and the API server's binding rules must leave
// each pod bound exactly once.
func TestSchedulerReplicas(t *testing.T) {
	r := newSchedulingRig(t)
	for range 2 {
		o := schedulerOptions()
		o.LeaderElection.Enabled = false
		r.s.StartScheduler(t, o)
	}
	const pods = 100
	var wg sync.WaitGroup
	order := r.watchBindings(t, pods, func() {
		for i := range pods {
			wg.Go(func() { r.create(t, acme, simPod(fmt.Sprintf("race-%d", i), "", "10m")) })
		}
	})
	wg.Wait()
	if len(order) != pods {
		t.Fatalf("%d bindings seen", len(order))
	}
	// No pod moved after its first binding.
	list, err := r.admin.ListPods(context.Background(), tenancy.Wildcard, "", metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range list.Items {
		if p.Spec.NodeName == "" {
			t.Errorf("%s/%s not bound", tenantOf(&p), p.Name)
		}
	}
}

// TestSchedulerFailover kills the leading scheduler process and expects
// the standby to take over and place new pods within 15 seconds.
func TestSchedulerFailover(t *testing.T) {
	r := newSchedulingRig(t)
	kubeconfig := r.s.AdminKubeconfigPath()
	args := []string{"scheduler", "--kubeconfig", kubeconfig, "--health-address", ""}
	leader := framework.Command(context.Background(), t, args...)
	if err := leader.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = leader.Process.Kill(); _ = leader.Wait() }()
	r.create(t, acme, simPod("before", "", ""))
	r.nodeOf(t, acme, "before")

	standby := framework.Command(context.Background(), t, args...)
	if err := standby.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = standby.Process.Signal(syscall.SIGTERM); _ = standby.Wait() }()
	// Give the standby time to list and watch, as a real standby would
	// have had.
	time.Sleep(2 * time.Second)

	if err := leader.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	r.create(t, acme, simPod("after", "", ""))
	framework.Eventually(t, 20*time.Second, "after bound by the standby", func(ctx context.Context) error {
		p, err := r.get(ctx, acme, "after")
		if err != nil {
			return err
		}
		if p.Spec.NodeName == "" {
			return fmt.Errorf("not bound")
		}
		return nil
	})
	took := time.Since(killed)
	t.Logf("standby placed a pod %v after the leader was killed", took.Round(100*time.Millisecond))
	if took > 15*time.Second {
		t.Errorf("failover took %v, want at most 15s", took)
	}
}

func labelNode(t *testing.T, admin kubernetes.Interface, node, key, value string) {
	t.Helper()
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, key, value)
	if _, err := admin.CoreV1().Nodes().Patch(context.Background(), node, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatalf("labelling %s: %v", node, err)
	}
}

func setUnschedulable(t *testing.T, admin kubernetes.Interface, node string, unschedulable bool) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"unschedulable":%t}}`, unschedulable)
	if _, err := admin.CoreV1().Nodes().Patch(context.Background(), node, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatalf("cordoning %s: %v", node, err)
	}
}
