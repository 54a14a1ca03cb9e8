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

package scheduler

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

func testNode(name, zone, cpu string, vm bool) *corev1.Node {
	alloc := corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse("16Gi"),
		corev1.ResourcePods: resource.MustParse("110"),
	}
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelHostname: name, corev1.LabelTopologyZone: zone}},
		Status: corev1.NodeStatus{Allocatable: alloc, Conditions: []corev1.NodeCondition{
			{Type: corev1.NodeReady, Status: corev1.ConditionTrue},
		}},
	}
	if vm {
		n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{Type: v1.NodeVMRuntimeReady, Status: corev1.ConditionTrue})
	}
	return n
}

var podSeq int

func testPod(tenant, name, cpu string, labels map[string]string) *v1.Pod {
	podSeq++
	p := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: "default", UID: types.UID(fmt.Sprintf("%s-%s-%d", tenant, name, podSeq)),
			Labels: labels, Annotations: map[string]string{tenancy.Annotation: tenant},
		},
		Spec: v1.PodSpec{PodSpec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}},
	}
	if cpu != "" {
		p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}
	}
	return p
}

// testScheduler is a scheduler with only a cache and a queue: what
// findNode and the queue need, without API servers.
func testScheduler(nodes ...*corev1.Node) *Scheduler {
	s := &Scheduler{cache: newCache(), queue: newQueue(), rand: rand.New(rand.NewPCG(1, 2))}
	for _, n := range nodes {
		s.cache.setNode(n)
	}
	return s
}

// place finds a node for pod and assumes it there, as scheduleOne does.
func (s *Scheduler) place(t testing.TB, pod *v1.Pod) (string, string) {
	t.Helper()
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	p := newPodInfo(pod, 0)
	n, d, err := s.findNode(p)
	if err != nil {
		t.Fatal(err)
	}
	if n == nil {
		return "", d.message
	}
	s.cache.assume(p, n.node.Name)
	return n.node.Name, ""
}

func TestFilters(t *testing.T) {
	tainted := testNode("tainted", "z", "4", true)
	tainted.Spec.Taints = []corev1.Taint{{Key: "gpu", Value: "yes", Effect: corev1.TaintEffectNoSchedule}}
	cordoned := testNode("cordoned", "z", "4", true)
	cordoned.Spec.Unschedulable = true
	notReady := testNode("notready", "z", "4", true)
	notReady.Status.Conditions[0].Status = corev1.ConditionUnknown
	small := testNode("small", "z", "1", false)
	big := testNode("big", "z", "8", true)
	big.Labels["disk"] = "ssd"

	vm := testPod("a", "vm", "", nil)
	vm.Spec.Containers = nil
	vm.Spec.VirtualMachine = &v1.VirtualMachineSpec{Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}}}
	ssd := testPod("a", "ssd", "", nil)
	ssd.Spec.NodeSelector = map[string]string{"disk": "ssd"}
	tolerant := testPod("a", "tolerant", "3", nil)
	tolerant.Spec.Tolerations = []corev1.Toleration{{Key: "gpu", Operator: corev1.TolerationOpExists}}

	for _, tc := range []struct {
		pod      *v1.Pod
		wantNode string
		wantMsg  string
	}{
		{pod: testPod("a", "huge", "9", nil), wantMsg: "0/5 nodes are available: 1 node(s) had untolerated taint {gpu: yes}, " +
			"1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 1 node(s) were unschedulable, 2 Insufficient cpu."},
		{pod: vm, wantNode: "big"},
		{pod: ssd, wantNode: "big"},
		{pod: tolerant, wantNode: "tainted"},
	} {
		s := testScheduler(tainted, cordoned, notReady, small, big)
		// Fill big, so that only the tainted node can take 3 cpus.
		if tc.pod == tolerant {
			s.place(t, testPod("a", "filler", "6", nil))
		}
		node, msg := s.place(t, tc.pod)
		if node != tc.wantNode || msg != tc.wantMsg {
			t.Errorf("%s: got node %q message %q, want %q %q", tc.pod.Name, node, msg, tc.wantNode, tc.wantMsg)
		}
	}
}

func TestLeastAllocatedSpreadsAndFillsUp(t *testing.T) {
	s := testScheduler(testNode("n1", "z1", "2", true), testNode("n2", "z2", "2", true))
	per := map[string]int{}
	for i := range 4 {
		node, msg := s.place(t, testPod("a", fmt.Sprintf("p%d", i), "1", nil))
		if node == "" {
			t.Fatalf("p%d: %s", i, msg)
		}
		per[node]++
	}
	if per["n1"] != 2 || per["n2"] != 2 {
		t.Errorf("pods per node %v, want 2 and 2", per)
	}
	if _, msg := s.place(t, testPod("a", "p5", "1", nil)); !strings.Contains(msg, "2 Insufficient cpu") {
		t.Errorf("fifth pod: %q", msg)
	}
}

func TestAffinityIsPerTenant(t *testing.T) {
	s := testScheduler(testNode("n1", "z1", "4", true), testNode("n2", "z1", "4", true))
	db := map[string]string{"app": "db"}
	anti := func(tenant, name string) *v1.Pod {
		p := testPod(tenant, name, "", db)
		p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				LabelSelector: &metav1.LabelSelector{MatchLabels: db}, TopologyKey: corev1.LabelHostname,
			}},
		}}
		return p
	}
	a1, _ := s.place(t, anti("a", "db1"))
	a2, _ := s.place(t, anti("a", "db2"))
	if a1 == a2 || a1 == "" || a2 == "" {
		t.Fatalf("tenant a's db pods on %q and %q", a1, a2)
	}
	if _, msg := s.place(t, anti("a", "db3")); !strings.Contains(msg, "anti-affinity") {
		t.Errorf("third db pod of a: %q", msg)
	}
	// Tenant b's identical pods do not see a's.
	if node, msg := s.place(t, anti("b", "db1")); node == "" {
		t.Errorf("tenant b's db pod: %q", msg)
	}

	affine := testPod("a", "near", "", nil)
	affine.Spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "cache"}}, TopologyKey: corev1.LabelHostname,
		}},
	}}
	if _, msg := s.place(t, affine); !strings.Contains(msg, "didn't match pod affinity rules") {
		t.Errorf("affinity to nothing: %q", msg)
	}
	cacheNode, _ := s.place(t, testPod("a", "cache", "", map[string]string{"app": "cache"}))
	if node, _ := s.place(t, affine.DeepCopy()); node != cacheNode {
		t.Errorf("affine pod on %q, cache on %q", node, cacheNode)
	}
}

func TestTopologySpread(t *testing.T) {
	s := testScheduler(testNode("a1", "za", "8", true), testNode("a2", "za", "8", true), testNode("b1", "zb", "8", true))
	app := map[string]string{"app": "web"}
	zones := map[string]int{}
	for i := range 6 {
		p := testPod("t", fmt.Sprintf("w%d", i), "", app)
		p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
			MaxSkew: 1, TopologyKey: corev1.LabelTopologyZone, WhenUnsatisfiable: corev1.DoNotSchedule,
			LabelSelector: &metav1.LabelSelector{MatchLabels: app},
		}}
		node, msg := s.place(t, p)
		if node == "" {
			t.Fatalf("w%d: %s", i, msg)
		}
		zones[node[:1]]++
	}
	if zones["a"] != 3 || zones["b"] != 3 {
		t.Errorf("pods per zone %v, want 3 and 3 although zone a has twice the nodes", zones)
	}
}

func TestSiblingsSpread(t *testing.T) {
	s := testScheduler(testNode("n1", "z1", "64", true), testNode("n2", "z2", "64", true), testNode("n3", "z3", "64", true))
	per := map[string]int{}
	for i := range 9 {
		p := testPod("t", fmt.Sprintf("r%d", i), "", nil)
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: "rs-uid", Controller: new(true)}}
		node, _ := s.place(t, p)
		per[node]++
	}
	for n, c := range per {
		if c != 3 {
			t.Errorf("replicas per node %v, want 3 on each (%s)", per, n)
			break
		}
	}
}

func TestQueueServesTenantsInTurn(t *testing.T) {
	q := newQueue()
	for i := range 10 {
		q.add(newPodInfo(testPod("flood", fmt.Sprintf("f%d", i), "", nil), 0))
	}
	for i := range 2 {
		q.add(newPodInfo(testPod("quiet", fmt.Sprintf("q%d", i), "", nil), 0))
	}
	var order []string
	for range 5 {
		e, ok := q.pop(context.Background())
		if !ok {
			t.Fatal("queue closed")
		}
		order = append(order, string(e.pod.tenant))
		q.done(e.pod.uid)
	}
	if got := strings.Join(order, ","); got != "flood,quiet,flood,quiet,flood" {
		t.Errorf("order %s", got)
	}
}

func TestQueueUnschedulableWaitsForAHelpfulEvent(t *testing.T) {
	q := newQueue()
	q.add(newPodInfo(testPod("t", "p", "", nil), 0))
	e, _ := q.pop(context.Background())
	q.retry(e, nodeChanged)
	if a, b, u := q.lengths(); a != 0 || b != 0 || u != 1 {
		t.Fatalf("after failing: active %d backoff %d unschedulable %d", a, b, u)
	}
	q.onEvent(podAssigned)
	if _, _, u := q.lengths(); u != 1 {
		t.Fatal("an unrelated event moved the pod")
	}
	q.onEvent(nodeChanged)
	q.flush(time.Now())
	if a, b, _ := q.lengths(); a != 0 || b != 1 {
		t.Fatalf("after the event: active %d backoff %d; want it backing off first", a, b)
	}
	q.flush(time.Now().Add(maxBackoff))
	if a, _, _ := q.lengths(); a != 1 {
		t.Fatal("not active after its back-off")
	}
}

func TestQueueKeepsUpdatesToPodsInFlight(t *testing.T) {
	q := newQueue()
	pod := testPod("t", "p", "", nil)
	q.add(newPodInfo(pod, 0))
	e, _ := q.pop(context.Background())
	changed := pod.DeepCopy()
	changed.Labels = map[string]string{"new": "label"}
	q.add(newPodInfo(changed, 0))
	// The attempt failed for lack of nodes, but the pod changed meanwhile:
	// it backs off rather than waiting for a node event.
	q.retry(e, nodeChanged)
	if _, b, u := q.lengths(); b != 1 || u != 0 {
		t.Fatalf("backoff %d unschedulable %d", b, u)
	}
	q.remove(pod.UID)
	if a, b, u := q.lengths(); a+b+u != 0 {
		t.Fatal("removed pod still queued")
	}
}

func TestFeasibleNodesToFind(t *testing.T) {
	s := &Scheduler{}
	for _, tc := range []struct{ nodes, want int }{{50, 50}, {1000, 420}, {5000, 500}, {100000, 5000}} {
		if got := s.feasibleNodesToFind(tc.nodes); got != tc.want {
			t.Errorf("%d nodes: %d, want %d", tc.nodes, got, tc.want)
		}
	}
}

// BenchmarkSchedule5000Nodes measures finding and assuming a node for one
// pod among 5,000 nodes holding 10,000 pods, the shape of the throughput
// benchmark, without the API server.
func BenchmarkSchedule5000Nodes(b *testing.B) {
	s := testScheduler()
	for i := range 5000 {
		s.cache.setNode(testNode(fmt.Sprintf("n%05d", i), fmt.Sprintf("z%d", i%3), "4", i%2 == 0))
	}
	for i := range 10000 {
		p := newPodInfo(testPod("t", fmt.Sprintf("existing-%d", i), "100m", nil), 0)
		p.node = fmt.Sprintf("n%05d", i%5000)
		s.cache.setPod(p)
	}
	pods := make([]*v1.Pod, b.N)
	for i := range pods {
		pods[i] = testPod(fmt.Sprintf("t%d", i%10), fmt.Sprintf("p%d", i), "100m", nil)
	}
	b.ResetTimer()
	for i := range b.N {
		if node, msg := s.place(b, pods[i]); node == "" {
			b.Fatal(msg)
		}
	}
}

func TestBadInput(t *testing.T) {
	ssd := testNode("ssd", "z", "4", true)
	ssd.Labels["disk"] = "ssd"
	s := testScheduler(ssd, testNode("hdd", "z", "4", true))

	contradictory := testPod("a", "contradictory", "", nil)
	contradictory.Spec.NodeSelector = map[string]string{"disk": "ssd"}
	contradictory.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "disk", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"ssd"}}},
		}}},
	}}
	if _, msg := s.place(t, contradictory); msg != "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector." {
		t.Errorf("contradictory affinity: %q", msg)
	}

	// A node deleted with pods on it: they are forgotten with it, and new
	// pods go to the nodes that are left.
	p := testPod("a", "p", "3", nil)
	p.Spec.NodeName = "ssd"
	s.cache.setPod(newPodInfo(p, 0))
	s.cache.removeNode("ssd")
	if node, msg := s.place(t, testPod("a", "after", "3", nil)); node != "hdd" {
		t.Errorf("after deleting ssd: node %q, %s", node, msg)
	}
	if _, msg := s.place(t, testPod("a", "more", "3", nil)); msg != "0/1 nodes are available: 1 Insufficient cpu." {
		t.Errorf("with ssd gone: %q", msg)
	}
	// The node comes back (re-registered): its pods count again.
	s.cache.setNode(ssd)
	if node, msg := s.place(t, testPod("a", "big", "2", nil)); msg != "0/2 nodes are available: 2 Insufficient cpu." {
		t.Errorf("ssd back with its 3-cpu pod: placed on %q, message %q", node, msg)
	}
}
