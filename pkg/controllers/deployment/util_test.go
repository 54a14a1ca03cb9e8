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

package deployment

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/dump"
	"k8s.io/utils/ptr"

	apps "github.com/arcturus-cloud/arcturus/pkg/apis/apps/v1"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

func containerTemplate(image string) apps.PodTemplateSpec {
	return apps.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec: v1.PodSpec{PodSpec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "busybox", Image: image, Command: []string{"sleep", "3600"}}},
		}},
	}
}

// kubernetesHash is Kubernetes' controller.ComputeHash of a Kubernetes
// template, written out from its definition.
func kubernetesHash(t *corev1.PodTemplateSpec, collisionCount *int32) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "%v", dump.ForHash(*t))
	if collisionCount != nil {
		b := make([]byte, 8)
		b[0], b[1], b[2], b[3] = byte(*collisionCount), byte(*collisionCount>>8), byte(*collisionCount>>16), byte(*collisionCount>>24)
		h.Write(b)
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

func TestComputeHash(t *testing.T) {
	tmpl := containerTemplate("local/busybox:1")
	k8s := corev1.PodTemplateSpec{ObjectMeta: tmpl.ObjectMeta, Spec: tmpl.Spec.PodSpec}
	for _, cc := range []*int32{nil, ptr.To[int32](0), ptr.To[int32](7)} {
		if got, want := computeHash(&tmpl, cc), kubernetesHash(&k8s, cc); got != want {
			t.Errorf("collisionCount %v: hash %q, Kubernetes would name it %q", cc, got, want)
		}
	}
	h := computeHash(&tmpl, nil)
	if h != computeHash(&tmpl, nil) {
		t.Error("hash is not stable")
	}
	if computeHash(&tmpl, ptr.To[int32](1)) == h {
		t.Error("collisionCount does not change the hash")
	}
	other := containerTemplate("local/busybox:2")
	if computeHash(&other, nil) == h {
		t.Error("a different image hashes alike")
	}
	for _, r := range h {
		if !strings.ContainsRune("bcdfghjklmnpqrstvwxz2456789", r) {
			t.Errorf("hash %q has %q, outside Kubernetes' alphabet", h, r)
		}
	}

	vm := apps.PodTemplateSpec{
		ObjectMeta: tmpl.ObjectMeta,
		Spec:       v1.PodSpec{VirtualMachine: &v1.VirtualMachineSpec{Name: "vm", Image: "local/vm-disk:1"}},
	}
	vm2 := *vm.DeepCopy()
	vm2.Spec.VirtualMachine.Image = "local/vm-disk:2"
	if computeHash(&vm, nil) == computeHash(&vm2, nil) {
		t.Error("VM templates with different disks hash alike")
	}
	empty := apps.PodTemplateSpec{ObjectMeta: tmpl.ObjectMeta}
	if computeHash(&vm, nil) == computeHash(&empty, nil) {
		t.Error("a VM template hashes like a template without its VM")
	}
}

func TestEqualIgnoreHash(t *testing.T) {
	a, b := containerTemplate("x"), containerTemplate("x")
	b.Labels = cloneAndAddLabel(b.Labels, appsv1.DefaultDeploymentUniqueLabelKey, "abc")
	if !equalIgnoreHash(&a, &b) {
		t.Error("templates differing in the hash label only are not equal")
	}
	if a.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != "" || b.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != "abc" {
		t.Error("equalIgnoreHash changed its arguments")
	}
	c := containerTemplate("y")
	if equalIgnoreHash(&a, &c) {
		t.Error("different images are equal")
	}
}

func TestResolveFenceposts(t *testing.T) {
	pct := intstr.FromString
	num := intstr.FromInt32
	for _, tc := range []struct {
		surge, unavailable intstr.IntOrString
		desired            int32
		wantSurge, wantUn  int32
	}{
		{pct("25%"), pct("25%"), 10, 3, 2}, // surge rounds up, unavailable down
		{pct("25%"), pct("25%"), 3, 1, 0},
		{pct("25%"), pct("25%"), 1, 1, 0},
		{pct("0%"), pct("1%"), 2, 0, 1}, // both zero: one may be unavailable
		{num(0), num(0), 5, 0, 1},
		{num(2), num(3), 10, 2, 3},
		{pct("100%"), pct("0%"), 4, 4, 0},
		{pct("50%"), pct("50%"), 5, 3, 2},
	} {
		s, u, err := resolveFenceposts(&tc.surge, &tc.unavailable, tc.desired)
		if err != nil || s != tc.wantSurge || u != tc.wantUn {
			t.Errorf("surge %s unavailable %s of %d: got %d, %d (%v), want %d, %d",
				tc.surge.String(), tc.unavailable.String(), tc.desired, s, u, err, tc.wantSurge, tc.wantUn)
		}
	}
}

func deployment(replicas int32, surge, unavailable string) *apps.Deployment {
	s, u := intstr.Parse(surge), intstr.Parse(unavailable)
	return &apps.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "d-uid", Generation: 1},
		Spec: apps.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: containerTemplate("local/busybox:1"),
			Strategy: appsv1.DeploymentStrategy{
				Type:          appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &s, MaxUnavailable: &u},
			},
			RevisionHistoryLimit:    ptr.To[int32](10),
			ProgressDeadlineSeconds: ptr.To[int32](600),
		},
	}
}

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// replicaSet is a replica set of size replicas with available pods,
// created age minutes after epoch.
func replicaSet(name string, replicas, available int32, age int) *apps.ReplicaSet {
	return &apps.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: "default", UID: types.UID(name + "-uid"),
			CreationTimestamp: metav1.NewTime(epoch.Add(time.Duration(age) * time.Minute)),
		},
		Spec:   apps.ReplicaSetSpec{Replicas: ptr.To(replicas)},
		Status: appsv1.ReplicaSetStatus{Replicas: replicas, ReadyReplicas: available, AvailableReplicas: available},
	}
}

func withMaxReplicas(rs *apps.ReplicaSet, n int32) *apps.ReplicaSet {
	rs.Annotations = map[string]string{maxReplicasAnnotation: strconv.Itoa(int(n))}
	return rs
}

func sizes(plan []resize) map[string]int32 {
	out := map[string]int32{}
	for _, r := range plan {
		out[r.rs.Name] = r.to
	}
	return out
}

func equalSizes(a, b map[string]int32) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestNewRSReplicas(t *testing.T) {
	d := deployment(10, "25%", "25%") // surge 3
	for _, tc := range []struct {
		old, cur, want int32
	}{
		{old: 10, cur: 0, want: 3},  // up to the surge
		{old: 8, cur: 3, want: 5},   // old scaled down by 2: 2 more
		{old: 10, cur: 3, want: 3},  // at the surge already
		{old: 0, cur: 8, want: 10},  // never beyond the desired
		{old: 2, cur: 10, want: 10}, // saturated
	} {
		newRS := replicaSet("new", tc.cur, 0, 1)
		got, err := newRSReplicas(d, []*apps.ReplicaSet{replicaSet("old", tc.old, tc.old, 0), newRS}, newRS)
		if err != nil || got != tc.want {
			t.Errorf("old %d, new %d: got %d (%v), want %d", tc.old, tc.cur, got, err, tc.want)
		}
	}
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	newRS := replicaSet("new", 0, 0, 1)
	if got, _ := newRSReplicas(d, []*apps.ReplicaSet{newRS}, newRS); got != 10 {
		t.Errorf("Recreate: got %d, want all 10", got)
	}
}

// TestPlanOldScaleDown walks a rollout of 10 replicas with 25% surge and
// unavailability (3 and 2 pods): availability never goes below 8.
func TestPlanOldScaleDown(t *testing.T) {
	d := deployment(10, "25%", "25%")
	for _, tc := range []struct {
		name string
		old  []*apps.ReplicaSet
		new  *apps.ReplicaSet
		want map[string]int32
	}{{
		name: "new pods not available yet: only the unavailability budget",
		old:  []*apps.ReplicaSet{replicaSet("old", 10, 10, 0)},
		new:  replicaSet("new", 3, 0, 1),
		want: map[string]int32{"old": 8},
	}, {
		name: "after that, nothing until new pods are available",
		old:  []*apps.ReplicaSet{replicaSet("old", 8, 8, 0)},
		new:  replicaSet("new", 5, 0, 1),
		want: map[string]int32{},
	}, {
		name: "new pods available: old ones down to the minimum",
		old:  []*apps.ReplicaSet{replicaSet("old", 8, 8, 0)},
		new:  replicaSet("new", 5, 5, 1),
		want: map[string]int32{"old": 3},
	}, {
		name: "unhealthy old pods go first, without using availability",
		old:  []*apps.ReplicaSet{replicaSet("old", 10, 7, 0)},
		new:  replicaSet("new", 3, 0, 1),
		want: map[string]int32{"old": 8},
	}, {
		name: "older replica sets first",
		old:  []*apps.ReplicaSet{replicaSet("b", 5, 5, 1), replicaSet("a", 5, 5, 0)},
		new:  replicaSet("new", 3, 3, 2),
		want: map[string]int32{"a": 0},
	}, {
		name: "status behind size: nothing this time",
		old:  []*apps.ReplicaSet{replicaSet("old", 8, 10, 0)},
		new:  replicaSet("new", 5, 5, 1),
		want: map[string]int32{},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			all := withNew(tc.old, tc.new)
			plan := planOldScaleDown(d, all, tc.old, tc.new)
			if got := sizes(plan); !equalSizes(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			// What stays available: the unchanged available counts
			// of the new and of what old replica sets keep.
			available := tc.new.Status.AvailableReplicas
			for _, rs := range tc.old {
				keep := *rs.Spec.Replicas
				if to, ok := sizes(plan)[rs.Name]; ok {
					keep = to
				}
				available += min(keep, rs.Status.AvailableReplicas)
			}
			if before := availableCount(all); available < min(before, 8) {
				t.Errorf("availability would drop to %d (from %d), below 8", available, before)
			}
		})
	}
}

func TestProportionalScale(t *testing.T) {
	t.Run("scale up mid-rollout", func(t *testing.T) {
		// 10 replicas (max 13) mid-rollout, scaled to 20 (max 25).
		d := deployment(20, "25%", "25%")
		old := withMaxReplicas(replicaSet("old", 7, 7, 0), 13)
		newRS := withMaxReplicas(replicaSet("new", 6, 0, 1), 13)
		got := sizes(proportionalScale(d, newRS, []*apps.ReplicaSet{old}))
		if want := map[string]int32{"old": 13, "new": 12}; !equalSizes(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("scale down mid-rollout", func(t *testing.T) {
		d := deployment(10, "25%", "25%") // max 13
		old := withMaxReplicas(replicaSet("old", 13, 13, 0), 25)
		newRS := withMaxReplicas(replicaSet("new", 12, 0, 1), 25)
		got := sizes(proportionalScale(d, newRS, []*apps.ReplicaSet{old}))
		if want := map[string]int32{"old": 7, "new": 6}; !equalSizes(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("leftovers go to the largest", func(t *testing.T) {
		d := deployment(5, "0", "1") // max 5
		a := withMaxReplicas(replicaSet("a", 1, 1, 0), 3)
		b := withMaxReplicas(replicaSet("b", 1, 1, 1), 3)
		c := withMaxReplicas(replicaSet("c", 1, 1, 2), 3)
		plan := proportionalScale(d, c, []*apps.ReplicaSet{a, b})
		var total int32
		for _, r := range plan {
			total += r.to
		}
		if total != 5 {
			t.Errorf("sizes %v add up to %d, want 5", sizes(plan), total)
		}
	})
	t.Run("scale to zero", func(t *testing.T) {
		d := deployment(0, "25%", "25%")
		got := sizes(proportionalScale(d, replicaSet("new", 3, 0, 1), []*apps.ReplicaSet{replicaSet("old", 5, 5, 0)}))
		if want := map[string]int32{"old": 0, "new": 0}; !equalSizes(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("nothing to add keeps sizes", func(t *testing.T) {
		d := deployment(10, "25%", "25%")
		old := withMaxReplicas(replicaSet("old", 8, 8, 0), 13)
		newRS := withMaxReplicas(replicaSet("new", 5, 0, 1), 13)
		got := sizes(proportionalScale(d, newRS, []*apps.ReplicaSet{old}))
		if want := map[string]int32{"old": 8, "new": 5}; !equalSizes(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
}

func TestFindActiveOrLatest(t *testing.T) {
	old1, old2 := replicaSet("old1", 0, 0, 0), replicaSet("old2", 0, 0, 1)
	if got := findActiveOrLatest(nil, []*apps.ReplicaSet{old1, old2}); got != old2 {
		t.Errorf("none active: got %v, want the newest", got)
	}
	newRS := replicaSet("new", 0, 0, 2)
	if got := findActiveOrLatest(newRS, []*apps.ReplicaSet{old1, old2}); got != newRS {
		t.Errorf("none active: got %v, want the new one", got)
	}
	old1.Spec.Replicas = ptr.To[int32](3)
	if got := findActiveOrLatest(newRS, []*apps.ReplicaSet{old1, old2}); got != old1 {
		t.Errorf("one active: got %v", got)
	}
	newRS.Spec.Replicas = ptr.To[int32](1)
	if got := findActiveOrLatest(newRS, []*apps.ReplicaSet{old1, old2}); got != nil {
		t.Errorf("two active: got %v, want nil", got)
	}
}

func TestNewReplicaSetAnnotations(t *testing.T) {
	d := deployment(4, "1", "0")
	d.Annotations = map[string]string{
		"kubernetes.io/change-cause":       "kubectl set image",
		corev1.LastAppliedConfigAnnotation: "{}",
		revisionAnnotation:                 "7",
	}
	rs := &apps.ReplicaSet{}
	if !setNewReplicaSetAnnotations(d, rs, "3", false) {
		t.Fatal("no change reported")
	}
	want := map[string]string{
		"kubernetes.io/change-cause": "kubectl set image", revisionAnnotation: "3",
		desiredReplicasAnnotation: "4", maxReplicasAnnotation: "5",
	}
	if len(rs.Annotations) != len(want) {
		t.Errorf("annotations %v, want %v", rs.Annotations, want)
	}
	for k, v := range want {
		if rs.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, rs.Annotations[k], v)
		}
	}
	if setNewReplicaSetAnnotations(d, rs, "3", true) {
		t.Error("a second pass changed something")
	}
	// Rolled back to: the revision rises and the old one is remembered.
	setNewReplicaSetAnnotations(d, rs, "5", true)
	setNewReplicaSetAnnotations(d, rs, "8", true)
	if rs.Annotations[revisionAnnotation] != "8" || rs.Annotations[revisionHistoryAnnotation] != "3,5" {
		t.Errorf("revision %q, history %q", rs.Annotations[revisionAnnotation], rs.Annotations[revisionHistoryAnnotation])
	}
	// Never lowered.
	if setNewReplicaSetAnnotations(d, rs, "2", true) || rs.Annotations[revisionAnnotation] != "8" {
		t.Errorf("revision lowered to %q", rs.Annotations[revisionAnnotation])
	}
}

func TestCalculateStatus(t *testing.T) {
	d := deployment(10, "25%", "25%")
	old := replicaSet("old", 5, 5, 0)
	newRS := replicaSet("new", 5, 3, 1)
	s := calculateStatus([]*apps.ReplicaSet{old, newRS}, newRS, d, epoch)
	if s.Replicas != 10 || s.UpdatedReplicas != 5 || s.ReadyReplicas != 8 || s.AvailableReplicas != 8 ||
		s.UnavailableReplicas != 2 || s.ObservedGeneration != 1 {
		t.Errorf("status %+v", s)
	}
	if c := getCondition(s, appsv1.DeploymentAvailable); c == nil || c.Status != corev1.ConditionTrue || c.Reason != reasonMinimumAvailable {
		t.Errorf("8 of 10 available with 2 allowed unavailable: Available = %+v", c)
	}
	newRS.Status.AvailableReplicas = 2
	s = calculateStatus([]*apps.ReplicaSet{old, newRS}, newRS, d, epoch)
	if c := getCondition(s, appsv1.DeploymentAvailable); c == nil || c.Status != corev1.ConditionFalse || c.Reason != reasonMinimumUnavailable {
		t.Errorf("7 of 10 available: Available = %+v", c)
	}
	if s.TerminatingReplicas != nil {
		t.Errorf("terminating replicas %v, want unknown when replica sets do not report them", *s.TerminatingReplicas)
	}
}

func TestSetCondition(t *testing.T) {
	var s appsv1.DeploymentStatus
	t0, t1 := epoch, epoch.Add(time.Minute)
	setCondition(&s, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, reasonNewReplicaSet, "a", t0))
	setCondition(&s, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, reasonNewReplicaSet, "b", t1))
	if c := getCondition(s, appsv1.DeploymentProgressing); c.Message != "a" {
		t.Errorf("same status and reason replaced the condition: %+v", c)
	}
	setCondition(&s, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, reasonNewRSAvailable, "c", t1))
	if c := getCondition(s, appsv1.DeploymentProgressing); c.Reason != reasonNewRSAvailable || !c.LastTransitionTime.Time.Equal(t0) || !c.LastUpdateTime.Time.Equal(t1) {
		t.Errorf("a new reason of the same status: %+v", c)
	}
	setCondition(&s, newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, reasonTimedOut, "d", t1))
	if c := getCondition(s, appsv1.DeploymentProgressing); !c.LastTransitionTime.Time.Equal(t1) || len(s.Conditions) != 1 {
		t.Errorf("a new status: %+v (%d conditions)", c, len(s.Conditions))
	}
}

func TestDeploymentTimedOut(t *testing.T) {
	d := deployment(1, "1", "0")
	d.Spec.ProgressDeadlineSeconds = ptr.To[int32](60)
	s := appsv1.DeploymentStatus{Conditions: []appsv1.DeploymentCondition{
		newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, reasonReplicaSetUpdated, "", epoch),
	}}
	if deploymentTimedOut(d, &s, epoch.Add(59*time.Second)) {
		t.Error("timed out before the deadline")
	}
	if !deploymentTimedOut(d, &s, epoch.Add(61*time.Second)) {
		t.Error("not timed out after the deadline")
	}
	s.Conditions[0].Reason = reasonNewRSAvailable
	if deploymentTimedOut(d, &s, epoch.Add(time.Hour)) {
		t.Error("a complete rollout timed out")
	}
}

func TestCleanupOrder(t *testing.T) {
	rss := []*apps.ReplicaSet{replicaSet("c", 0, 0, 0), replicaSet("a", 0, 0, 2), replicaSet("b", 0, 0, 1)}
	for i, rev := range []string{"3", "1", "2"} {
		rss[i].Annotations = map[string]string{revisionAnnotation: rev}
	}
	sort.Sort(byRevision(rss))
	if rss[0].Name != "a" || rss[1].Name != "b" || rss[2].Name != "c" {
		t.Errorf("order %s %s %s, want by revision", rss[0].Name, rss[1].Name, rss[2].Name)
	}
}
