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
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	apps "github.com/arcturus-cloud/arcturus/pkg/apis/apps/v1"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/controllerref"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/tenantcache"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// trimPod returns what the controller reads of a pod: its metadata
// (without managed fields and other annotations than the tenant and the
// deletion cost), its node, and the phase, conditions and restart counts of
// its status. Pods are only ever patched or deleted, never written back.
func trimPod(pod *v1.Pod) *v1.Pod {
	kept := &v1.Pod{TypeMeta: pod.TypeMeta, ObjectMeta: pod.ObjectMeta}
	tenantcache.KeepAnnotations(kept, corev1.PodDeletionCost)
	kept.Spec = v1.PodSpec{PodSpec: corev1.PodSpec{NodeName: pod.Spec.NodeName}}
	status := v1.PodStatus{PodStatus: corev1.PodStatus{Phase: pod.Status.Phase, Conditions: pod.Status.Conditions}}
	for _, cs := range pod.Status.ContainerStatuses {
		status.ContainerStatuses = append(status.ContainerStatuses, corev1.ContainerStatus{Name: cs.Name, RestartCount: cs.RestartCount})
	}
	if vm := pod.Status.VirtualMachineStatus; vm != nil {
		status.VirtualMachineStatus = &v1.VirtualMachineStatus{Name: vm.Name, RestartCount: vm.RestartCount}
	}
	kept.Status = status
	return kept
}

// podActive tells whether a pod counts towards its replica set: not
// finished and not being deleted.
func podActive(pod *v1.Pod) bool {
	return pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed && pod.DeletionTimestamp == nil
}

// podTerminating tells whether a pod is being deleted and not finished.
func podTerminating(pod *v1.Pod) bool {
	return pod.DeletionTimestamp != nil && pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed
}

func readyCondition(pod *v1.Pod) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodReady {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

func podReady(pod *v1.Pod) bool {
	c := readyCondition(pod)
	return c != nil && c.Status == corev1.ConditionTrue
}

// podAvailable tells whether a pod has been ready for minReadySeconds.
func podAvailable(pod *v1.Pod, minReadySeconds int32, now time.Time) bool {
	c := readyCondition(pod)
	if c == nil || c.Status != corev1.ConditionTrue {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	return !c.LastTransitionTime.IsZero() && c.LastTransitionTime.Add(time.Duration(minReadySeconds)*time.Second).Before(now)
}

// selects tells whether rs's selector matches set. A replica set with an
// empty or bad selector selects nothing rather than everything.
func selects(rs *apps.ReplicaSet, set map[string]string) bool {
	sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil || sel.Empty() {
		return false
	}
	return sel.Matches(labels.Set(set))
}

// newPod is a pod of rs's template: its labels, annotations and finalizers,
// its spec (containers or a VM), a name generated from the replica set's,
// and a controller reference to it.
func newPod(rs *apps.ReplicaSet) *v1.Pod {
	t := &rs.Spec.Template
	annotations := maps.Clone(t.Annotations)
	// The server records the pod's tenant itself.
	delete(annotations, tenancy.Annotation)
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       rs.Namespace,
			GenerateName:    namePrefix(rs.Name),
			Labels:          maps.Clone(t.Labels),
			Annotations:     annotations,
			Finalizers:      slices.Clone(t.Finalizers),
			OwnerReferences: []metav1.OwnerReference{controllerref.New(rs, controllerKind)},
		},
		Spec: *t.Spec.DeepCopy(),
	}
}

// namePrefix is the generateName of a controller's pods: its name and a
// dash, unless that is no valid name prefix.
func namePrefix(controller string) string {
	prefix := controller + "-"
	if len(validation.NameIsDNSSubdomain(prefix, true)) != 0 {
		return controller
	}
	return prefix
}

// podsToDelete picks diff of pods (all active and claimed) to delete,
// cheapest first: see rankedPods. related are the pods of every replica set
// of the same owner, which tell how crowded each node is.
func podsToDelete(pods, related []*v1.Pod, diff int, now time.Time) []*v1.Pod {
	if diff < len(pods) {
		sort.Sort(rank(pods, related, now))
	}
	return pods[:diff]
}

// rank wraps pods with, for each, the number of active related pods on
// its node.
func rank(pods, related []*v1.Pod, now time.Time) rankedPods {
	onNode := map[string]int{}
	for _, p := range related {
		if podActive(p) {
			onNode[p.Spec.NodeName]++
		}
	}
	ranks := make([]int, len(pods))
	for i, p := range pods {
		ranks[i] = onNode[p.Spec.NodeName]
	}
	return rankedPods{pods: pods, ranks: ranks, now: now}
}

// rankedPods orders pods the way Kubernetes picks pods to scale down
// (ActivePodsWithRanks, with logarithmic scale-down), cheapest to lose
// first:
//
//  1. not yet assigned to a node before assigned;
//  2. Pending, then Unknown, then Running;
//  3. not ready before ready;
//  4. lower controller.kubernetes.io/pod-deletion-cost first;
//  5. more related pods on the same node first (spreads what remains);
//  6. ready for less time first (see newerFirst);
//  7. more container (or VM) restarts first;
//  8. newer first (see newerFirst).
type rankedPods struct {
	pods  []*v1.Pod
	ranks []int
	now   time.Time
}

func (r rankedPods) Len() int { return len(r.pods) }

func (r rankedPods) Swap(i, j int) {
	r.pods[i], r.pods[j] = r.pods[j], r.pods[i]
	r.ranks[i], r.ranks[j] = r.ranks[j], r.ranks[i]
}

var phaseOrder = map[corev1.PodPhase]int{corev1.PodPending: 0, corev1.PodUnknown: 1, corev1.PodRunning: 2}

func (r rankedPods) Less(i, j int) bool {
	a, b := r.pods[i], r.pods[j]
	if a.Spec.NodeName != b.Spec.NodeName && (a.Spec.NodeName == "" || b.Spec.NodeName == "") {
		return a.Spec.NodeName == ""
	}
	if pa, pb := phaseOrder[a.Status.Phase], phaseOrder[b.Status.Phase]; pa != pb {
		return pa < pb
	}
	if ra, rb := podReady(a), podReady(b); ra != rb {
		return !ra
	}
	if ca, cb := deletionCost(a), deletionCost(b); ca != cb {
		return ca < cb
	}
	if r.ranks[i] != r.ranks[j] {
		return r.ranks[i] > r.ranks[j]
	}
	if podReady(a) && podReady(b) {
		ta, tb := readyCondition(a).LastTransitionTime, readyCondition(b).LastTransitionTime
		if !ta.Equal(&tb) {
			return r.newerFirst(ta, tb, a.UID, b.UID)
		}
	}
	if ra, rb := maxRestarts(a), maxRestarts(b); ra != rb {
		return ra > rb
	}
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return r.newerFirst(a.CreationTimestamp, b.CreationTimestamp, a.UID, b.UID)
	}
	return false
}

// newerFirst orders two different times, the more recent first, a zero
// time first of all. Times are compared in powers of two of how long ago
// they were, so that of pods of about the same age, which go is left to
// chance (their UIDs) rather than to small differences: Kubernetes'
// LogarithmicScaleDown.
func (r rankedPods) newerFirst(a, b metav1.Time, ua, ub types.UID) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero()
	}
	if d := logRank(a, r.now) - logRank(b, r.now); d != 0 {
		return d < 0
	}
	return ua < ub
}

// logRank is log2 of the nanoseconds since t, -1 for a time not past.
func logRank(t metav1.Time, now time.Time) int64 {
	d := now.Sub(t.Time)
	if d <= 0 {
		return -1
	}
	return int64(math.Log2(float64(d)))
}

// deletionCost reads controller.kubernetes.io/pod-deletion-cost; a missing
// or bad value costs 0.
func deletionCost(pod *v1.Pod) int32 {
	v, ok := pod.Annotations[corev1.PodDeletionCost]
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0
	}
	return int32(n)
}

func maxRestarts(pod *v1.Pod) int32 {
	var n int32
	for _, cs := range pod.Status.ContainerStatuses {
		n = max(n, cs.RestartCount)
	}
	if vm := pod.Status.VirtualMachineStatus; vm != nil {
		n = max(n, vm.RestartCount)
	}
	return n
}
