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

package replicaset

import (
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	apps "github.com/arcturus-cloud/arcturus/pkg/apis/apps/v1"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

var now = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// pod is a pod created ago before now; options change it.
func pod(name string, ago time.Duration, options ...func(*v1.Pod)) *v1.Pod {
	p := &v1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: name, Namespace: "default", UID: types.UID(name),
		Labels:            map[string]string{"app": "web"},
		CreationTimestamp: metav1.NewTime(now.Add(-ago)),
	}}
	p.Spec.NodeName = "node-a"
	p.Status.Phase = corev1.PodRunning
	for _, o := range options {
		o(p)
	}
	return p
}

func onNode(n string) func(*v1.Pod) { return func(p *v1.Pod) { p.Spec.NodeName = n } }

func phase(ph corev1.PodPhase) func(*v1.Pod) { return func(p *v1.Pod) { p.Status.Phase = ph } }

// ready makes the pod ready since ago before now.
func ready(ago time.Duration) func(*v1.Pod) {
	return func(p *v1.Pod) {
		p.Status.Conditions = []corev1.PodCondition{{
			Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now.Add(-ago)),
		}}
	}
}

func restarts(n int32) func(*v1.Pod) {
	return func(p *v1.Pod) { p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", RestartCount: n}} }
}

func cost(c string) func(*v1.Pod) {
	return func(p *v1.Pod) { p.Annotations = map[string]string{corev1.PodDeletionCost: c} }
}

func names(pods []*v1.Pod) []string {
	out := make([]string, len(pods))
	for i, p := range pods {
		out[i] = p.Name
	}
	return out
}

func ranked(pods []*v1.Pod, related []*v1.Pod) []string {
	pods = slices.Clone(pods)
	return names(podsToDelete(pods, related, len(pods)-1, now))
}

func TestRankedPods(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pods    []*v1.Pod
		related []*v1.Pod
		want    []string // the order of deletion, but for the last
	}{{
		name: "unassigned, pending, unknown, not ready, ready",
		pods: []*v1.Pod{
			pod("ready", time.Hour, ready(time.Hour)),
			pod("running", time.Hour),
			pod("unknown", time.Hour, phase(corev1.PodUnknown)),
			pod("pending", time.Hour, phase(corev1.PodPending)),
			pod("unassigned", time.Hour, onNode(""), phase(corev1.PodPending)),
		},
		want: []string{"unassigned", "pending", "unknown", "running"},
	}, {
		name: "lower deletion cost first",
		pods: []*v1.Pod{
			pod("expensive", time.Minute, ready(time.Minute), cost("100")),
			pod("cheap", time.Hour, ready(time.Hour), cost("-5")),
			pod("default", time.Hour, ready(time.Hour)),
		},
		want: []string{"cheap", "default"},
	}, {
		name: "doubled up on a node first",
		pods: []*v1.Pod{
			pod("alone", time.Minute, ready(time.Minute), onNode("b")),
			pod("crowded", time.Hour, ready(time.Hour), onNode("a")),
		},
		related: []*v1.Pod{
			pod("alone", 0, onNode("b")), pod("crowded", 0, onNode("a")), pod("sibling", 0, onNode("a")),
		},
		want: []string{"crowded"},
	}, {
		name: "ready for less time first",
		pods: []*v1.Pod{
			pod("long", 2*time.Hour, ready(2*time.Hour)),
			pod("short", 2*time.Hour, ready(time.Minute)),
			pod("medium", 2*time.Hour, ready(10*time.Minute)),
		},
		want: []string{"short", "medium"},
	}, {
		name: "more restarts first",
		pods: []*v1.Pod{
			pod("steady", time.Hour, ready(time.Hour)),
			pod("flaky", time.Hour, ready(time.Hour), restarts(4)),
		},
		want: []string{"flaky"},
	}, {
		name: "newer first",
		pods: []*v1.Pod{
			pod("old", 8*time.Hour, phase(corev1.PodPending)),
			pod("new", time.Minute, phase(corev1.PodPending)),
			pod("middle", time.Hour, phase(corev1.PodPending)),
		},
		want: []string{"new", "middle"},
	}, {
		name: "about the same age: by UID",
		pods: []*v1.Pod{
			pod("b", 70*time.Second, phase(corev1.PodPending)),
			pod("a", 65*time.Second, phase(corev1.PodPending)),
			pod("c", 69*time.Second, phase(corev1.PodPending)),
		},
		want: []string{"a", "b"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ranked(tc.pods, tc.related); !slices.Equal(got, tc.want) {
				t.Errorf("deletion order %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPodsToDeleteAll(t *testing.T) {
	pods := []*v1.Pod{pod("a", time.Hour), pod("b", time.Minute)}
	if got := names(podsToDelete(pods, nil, 2, now)); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("deleting all: %v", got)
	}
}

func TestSlowStartBatch(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		count, failFrom        int
		wantCalls, wantSuccess int
		wantErr                bool
	}{
		{name: "all succeed", count: 10, failFrom: 100, wantCalls: 10, wantSuccess: 10},
		{name: "first fails: one call", count: 100, failFrom: 0, wantCalls: 1, wantErr: true},
		// Batches of 1, 2, 4: the third fails, no fourth.
		{name: "failures stop the doubling", count: 100, failFrom: 3, wantCalls: 7, wantSuccess: 3, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			ok, err := slowStartBatch(tc.count, slowStartInitialBatchSize, func() error {
				if int(calls.Add(1)) > tc.failFrom {
					return errors.New("quota exceeded")
				}
				return nil
			})
			if int(calls.Load()) != tc.wantCalls || (err != nil) != tc.wantErr {
				t.Errorf("calls %d, error %v; want %d calls, error %t", calls.Load(), err, tc.wantCalls, tc.wantErr)
			}
			// A failing batch runs in parallel: which of its calls fail
			// depends on timing, so only the earlier batches count for sure.
			if ok < tc.wantSuccess || ok > tc.wantCalls {
				t.Errorf("successes %d, want at least %d", ok, tc.wantSuccess)
			}
		})
	}
}

func TestExpectations(t *testing.T) {
	clock := now
	e := newExpectations(func() time.Time { return clock })
	key := Key{Tenant: "acme", Namespace: "default", Name: "web"}
	other := Key{Tenant: "beta", Namespace: "default", Name: "web"}
	if !e.satisfied(key) {
		t.Error("no expectations: not satisfied")
	}
	e.expectCreations(key, 2)
	e.creationObserved(key)
	if e.satisfied(key) || !e.satisfied(other) {
		t.Error("one creation of two seen: satisfied, or the same name in another tenant is not")
	}
	e.creationObserved(key)
	if !e.satisfied(key) {
		t.Error("both creations seen: not satisfied")
	}

	e.expectDeletions(key, []types.UID{"p1", "p2"})
	e.deletionObserved(key, "p1")
	e.deletionObserved(key, "p1") // terminating, then gone: counts once
	e.deletionObserved(key, "p3") // not ours to wait for
	if e.satisfied(key) {
		t.Error("one deletion of two seen: satisfied")
	}
	clock = clock.Add(expectationsTimeout + time.Second)
	if !e.satisfied(key) {
		t.Error("expired expectations still hold the replica set back")
	}
	e.forget(key)
	if !e.satisfied(key) {
		t.Error("forgotten expectations hold")
	}
}

func replicaSet(replicas int32, minReadySeconds int32) *apps.ReplicaSet {
	return &apps.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-abc", Namespace: "default", UID: "rs-uid", Generation: 2,
			Annotations: map[string]string{tenancy.Annotation: "acme"}},
		Spec: apps.ReplicaSetSpec{
			Replicas: ptr.To(replicas), MinReadySeconds: minReadySeconds,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: apps.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "front"}}},
		},
	}
}

func TestCalculateStatus(t *testing.T) {
	rs := replicaSet(4, 30)
	full := func(p *v1.Pod) { p.Labels = map[string]string{"app": "web", "tier": "front"} }
	pods := []*v1.Pod{
		pod("a", time.Hour, full, ready(time.Minute)),    // available
		pod("b", time.Hour, full, ready(10*time.Second)), // ready, not yet available
		pod("c", time.Hour),                              // not ready, partly labelled
	}
	s := calculateStatus(rs, pods, []*v1.Pod{pod("d", time.Hour)}, errors.New("exceeded quota"), now)
	if s.Replicas != 3 || s.FullyLabeledReplicas != 2 || s.ReadyReplicas != 2 || s.AvailableReplicas != 1 || *s.TerminatingReplicas != 1 {
		t.Errorf("status %+v", s)
	}
	c := condition(s, appsv1.ReplicaSetReplicaFailure)
	if c == nil || c.Status != corev1.ConditionTrue || c.Reason != reasonFailedCreate || c.Message != "exceeded quota" {
		t.Errorf("ReplicaFailure after a failed create: %+v", c)
	}
	rs.Status = s
	s = calculateStatus(rs, pods, nil, nil, now)
	if condition(s, appsv1.ReplicaSetReplicaFailure) != nil || *s.TerminatingReplicas != 0 {
		t.Errorf("a sync without failure keeps %+v", s.Conditions)
	}
	if len(rs.Status.Conditions) != 1 {
		t.Error("calculateStatus changed the replica set")
	}
}

func TestNewPod(t *testing.T) {
	rs := replicaSet(1, 0)
	rs.Spec.Template.Annotations = map[string]string{"note": "x", tenancy.Annotation: "beta"}
	rs.Spec.Template.Spec.VirtualMachine = &v1.VirtualMachineSpec{Name: "vm", Image: "local/vm-disk:1"}
	p := newPod(rs)
	if p.GenerateName != "web-abc-" || p.Namespace != "default" || p.Labels["tier"] != "front" ||
		p.Annotations["note"] != "x" || p.Annotations[tenancy.Annotation] != "" {
		t.Errorf("pod metadata %+v", p.ObjectMeta)
	}
	if p.Spec.VirtualMachine == nil || p.Spec.VirtualMachine.Image != "local/vm-disk:1" {
		t.Errorf("the VM did not carry over: %+v", p.Spec)
	}
	refs := p.OwnerReferences
	if len(refs) != 1 || refs[0].APIVersion != "apps/v1" || refs[0].Kind != "ReplicaSet" || refs[0].Name != "web-abc" ||
		refs[0].UID != "rs-uid" || !ptr.Deref(refs[0].Controller, false) || !ptr.Deref(refs[0].BlockOwnerDeletion, false) {
		t.Errorf("owner references %+v", refs)
	}
	p.Labels["tier"] = "changed"
	if rs.Spec.Template.Labels["tier"] != "front" {
		t.Error("the pod shares its labels with the template")
	}
}

func TestTrimPod(t *testing.T) {
	p := pod("a", time.Hour, ready(time.Minute), restarts(2), cost("3"))
	p.Annotations["big"] = "value"
	p.Annotations[tenancy.Annotation] = "acme"
	p.Spec.Containers = []corev1.Container{{Name: "c", Image: "i", Env: []corev1.EnvVar{{Name: "A", Value: "B"}}}}
	p.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	handed := p.DeepCopy()
	kept := trimPod(p)
	if len(kept.Annotations) != 2 || kept.Annotations[corev1.PodDeletionCost] != "3" || kept.ManagedFields != nil ||
		kept.Spec.Containers != nil || kept.Spec.NodeName != "node-a" || !podReady(kept) || maxRestarts(kept) != 2 {
		t.Errorf("trimmed pod %+v", kept)
	}
	// The pod feed hands the same pod to other controllers.
	if !apiequality.Semantic.DeepEqual(p, handed) {
		t.Errorf("trimming changed the pod it was handed: %+v", p)
	}
}
