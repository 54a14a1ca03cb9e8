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

package nodelifecycle

import (
	"fmt"
	"slices"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	testingclock "k8s.io/utils/clock/testing"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

const grace = 40 * time.Second

var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fixture is a state fed as the reflectors would, with a fake clock.
type fixture struct {
	t      *testing.T
	clock  *testingclock.FakeClock
	s      *state
	m      *monitor
	queued []types.UID
	rv     int
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{t: t, clock: testingclock.NewFakeClock(start)}
	f.s = newState(f.clock, func(uid types.UID) { f.queued = append(f.queued, uid) })
	f.m = &monitor{grace: grace, interval: 10 * time.Second, threshold: DefaultUnhealthyZoneThreshold, limiters: map[string]*zoneLimiter{}}
	return f
}

// node feeds a node posting Ready=ready with the agent's other conditions
// true, and a heartbeat of now.
func (f *fixture) node(name, zone string, ready corev1.ConditionStatus, taints ...corev1.Taint) *corev1.Node {
	f.rv++
	hb := metav1.NewTime(f.clock.Now())
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: fmt.Sprint(f.rv), Labels: map[string]string{corev1.LabelTopologyZone: zone}},
		Spec:       corev1.NodeSpec{Taints: taints},
	}
	for _, c := range AgentConditions {
		status := corev1.ConditionTrue
		if c == corev1.NodeReady {
			status = ready
		}
		n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{Type: c, Status: status, LastHeartbeatTime: hb, Reason: "AgentReady"})
	}
	n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{Type: "SomeoneElses", Status: corev1.ConditionFalse, LastHeartbeatTime: hb})
	f.s.putNode(n)
	return n
}

func (f *fixture) renew(name string) {
	now := metav1.NewMicroTime(f.clock.Now())
	f.s.putLease(&coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: coordinationv1.LeaseSpec{RenewTime: &now}})
}

func (f *fixture) plan() passResult { return f.m.plan(f.s, f.clock.Now()) }

func byName(res passResult) map[string]nodeUpdate {
	out := map[string]nodeUpdate{}
	for _, u := range res.updates {
		out[u.name] = u
	}
	return out
}

func TestSilentNodeGoesUnknownAndUnreachable(t *testing.T) {
	f := newFixture(t)
	f.node("a", "z", corev1.ConditionTrue)
	f.node("b", "z", corev1.ConditionTrue)
	f.node("c", "z", corev1.ConditionTrue)

	f.clock.Step(30 * time.Second)
	f.renew("b")
	f.renew("c")
	if res := f.plan(); len(res.updates) != 0 {
		t.Fatalf("within the grace period: updates %+v", res.updates)
	}

	f.clock.Step(11 * time.Second)
	res := f.plan()
	u, ok := byName(res)["a"]
	if len(res.updates) != 1 || !ok {
		t.Fatalf("updates %+v, want one for a", res.updates)
	}
	for _, c := range u.conditions {
		switch {
		case c.Type == "SomeoneElses":
			if c.Status != corev1.ConditionFalse {
				t.Errorf("a condition the agent does not post was changed: %+v", c)
			}
		case c.Status != corev1.ConditionUnknown || c.Reason != ReasonStatusUnknown || c.Message != MessageStatusUnknown:
			t.Errorf("condition %+v, want Unknown/%s", c, ReasonStatusUnknown)
		case !c.LastHeartbeatTime.Time.Equal(start) || !c.LastTransitionTime.Time.Equal(f.clock.Now()):
			t.Errorf("condition %s: heartbeat %v, transition %v", c.Type, c.LastHeartbeatTime, c.LastTransitionTime)
		}
	}
	if len(u.conditions) != len(AgentConditions)+1 {
		t.Errorf("conditions %+v", u.conditions)
	}
	if !u.setTaint || u.taint == nil || !sameTaint(*u.taint, UnreachableTaint) || !u.taint.TimeAdded.Time.Equal(f.clock.Now()) {
		t.Errorf("taint %+v, want unreachable added now", u.taint)
	}
	if got := res.counts["z"]; got[healthReady] != 2 || got[healthUnknown] != 1 {
		t.Errorf("counts %v", got)
	}
}

func TestNotReadyAndRecovery(t *testing.T) {
	f := newFixture(t)
	for i := range 4 {
		f.node(fmt.Sprint("ok-", i), "z", corev1.ConditionTrue)
	}
	f.node("sick", "z", corev1.ConditionFalse)
	u := byName(f.plan())["sick"]
	if u.conditions != nil || !u.setTaint || !sameTaint(*u.taint, NotReadyTaint) {
		t.Fatalf("update %+v, want the not-ready taint only", u)
	}

	// Tainted, then silent: the taint turns unreachable at once, though
	// the zone's limiter allows no new taint for an hour.
	f.m.limiters["z"].next = f.clock.Now().Add(time.Hour)
	notReady := *u.taint
	f.node("sick", "z", corev1.ConditionFalse, notReady, corev1.Taint{Key: "admin", Effect: corev1.TaintEffectNoSchedule})
	for range 4 {
		f.clock.Step(grace / 4)
		for j := range 4 {
			f.renew(fmt.Sprint("ok-", j))
		}
	}
	f.clock.Step(time.Second)
	u = byName(f.plan())["sick"]
	if u.conditions == nil || !u.setTaint || !sameTaint(*u.taint, UnreachableTaint) {
		t.Fatalf("update %+v, want Unknown conditions and the taint swapped to unreachable", u)
	}
	if got := withTaint([]corev1.Taint{notReady, {Key: "admin", Effect: corev1.TaintEffectNoSchedule}}, u.taint); len(got) != 2 || got[0].Key != "admin" || got[1].Key != corev1.TaintNodeUnreachable {
		t.Errorf("taints after the swap: %+v", got)
	}

	// Back, and ready: the taint goes.
	f.node("sick", "z", corev1.ConditionTrue, *u.taint)
	u = byName(f.plan())["sick"]
	if u.conditions != nil || !u.setTaint || u.taint != nil {
		t.Fatalf("update %+v, want the taint removed", u)
	}
}

func TestEvictionRateLimit(t *testing.T) {
	f := newFixture(t)
	for i := range 10 {
		f.node(fmt.Sprint("n-", i), "z", corev1.ConditionTrue)
	}
	// n-0, n-1 and n-2 fall silent at once; the rest keep renewing.
	var tainted []string
	var times []time.Duration
	for range 80 {
		f.clock.Step(time.Second)
		for i := 3; i < 10; i++ {
			f.renew(fmt.Sprint("n-", i))
		}
		for _, u := range f.plan().updates {
			if u.setTaint && u.taint != nil {
				tainted = append(tainted, u.name)
				times = append(times, f.clock.Now().Sub(start))
				// As the watch would show it.
				f.s.mu.Lock()
				f.s.nodes[u.name].taints = []corev1.Taint{*u.taint}
				f.s.mu.Unlock()
			}
		}
	}
	if !slices.Equal(tainted, []string{"n-0", "n-1", "n-2"}) {
		t.Fatalf("tainted %v", tainted)
	}
	if want := []time.Duration{41 * time.Second, 51 * time.Second, 61 * time.Second}; !slices.Equal(times, want) {
		t.Errorf("tainted at %v, want %v: one node per 10 s once the grace period is over", times, want)
	}
}

func TestRetryIsWhenTheNextTokenComes(t *testing.T) {
	f := newFixture(t)
	for i := range 5 {
		f.node(fmt.Sprint("n-", i), "z", corev1.ConditionTrue)
	}
	f.node("bad-1", "z", corev1.ConditionFalse)
	f.node("bad-2", "z", corev1.ConditionFalse)
	res := f.plan()
	if len(res.updates) != 1 || res.retry != 10*time.Second {
		t.Fatalf("updates %+v, retry %v: want one taint and a retry in 10s", res.updates, res.retry)
	}
	f.clock.Step(4 * time.Second)
	if res := f.plan(); len(res.updates) != 0 || res.retry != 6*time.Second {
		t.Fatalf("updates %+v, retry %v: want none and a retry in 6s", res.updates, res.retry)
	}
}

func TestDisruptedZoneIsNotTainted(t *testing.T) {
	f := newFixture(t)
	for i := range 4 {
		f.node(fmt.Sprint("a-", i), "a", corev1.ConditionTrue)
	}
	for i := range 2 {
		f.node(fmt.Sprint("b-", i), "b", corev1.ConditionTrue)
	}
	f.clock.Step(grace + time.Second)
	// Zone a: one of four renews (75 % silent); zone b: one of two (50 %).
	f.renew("a-0")
	f.renew("b-0")
	f.m.interval = time.Nanosecond
	res := f.plan()
	if !res.disrupted["a"] || res.disrupted["b"] {
		t.Fatalf("disrupted %v, want a only", res.disrupted)
	}
	updates := byName(res)
	for _, name := range []string{"a-1", "a-2", "a-3"} {
		if u := updates[name]; u.conditions == nil || u.setTaint {
			t.Errorf("%s: update %+v, want conditions Unknown and no taint", name, u)
		}
	}
	if u := updates["b-1"]; u.conditions == nil || !u.setTaint || !sameTaint(*u.taint, UnreachableTaint) {
		t.Errorf("b-1: update %+v, want Unknown and tainted", u)
	}
	if _, ok := updates["a-0"]; ok {
		t.Error("a-0, which renews its lease, was updated")
	}
}

func TestAwaitedWriteIsNotRepeated(t *testing.T) {
	f := newFixture(t)
	n := f.node("a", "z", corev1.ConditionFalse)
	for i := range 3 {
		f.node(fmt.Sprint("ok-", i), "z", corev1.ConditionTrue)
	}
	res := f.plan()
	if len(res.updates) != 1 {
		t.Fatalf("updates %+v", res.updates)
	}
	f.s.wrote("a", n.ResourceVersion, f.clock.Now())
	if res := f.plan(); len(res.updates) != 0 || res.counts["z"][healthNotReady] != 1 {
		t.Fatalf("before the write is seen: updates %+v, counts %v", res.updates, res.counts)
	}
	// A result that never shows is not waited for forever.
	f.clock.Step(awaitLimit)
	if res := f.plan(); len(res.updates) != 1 {
		t.Fatalf("after %v without the result: updates %+v", awaitLimit, res.updates)
	}
	f.s.wrote("a", n.ResourceVersion, f.clock.Now())
	// The write arrives without the taint (someone removed it): planned again.
	f.node("a", "z", corev1.ConditionFalse)
	f.clock.Step(time.Minute)
	f.renew("a")
	for i := range 3 {
		f.renew(fmt.Sprint("ok-", i))
	}
	if res := f.plan(); len(res.updates) != 1 {
		t.Fatalf("after the write is seen: updates %+v", res.updates)
	}
}

func TestNodeThatNeverPosted(t *testing.T) {
	f := newFixture(t)
	f.s.putNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "bare", ResourceVersion: "1"}})
	f.node("ok", "", corev1.ConditionTrue)
	f.node("ok2", "", corev1.ConditionTrue)
	if res := f.plan(); len(res.updates) != 0 {
		t.Fatalf("within the grace period: %+v", res.updates)
	}
	f.clock.Step(grace + time.Second)
	f.renew("ok")
	f.renew("ok2")
	u := byName(f.plan())["bare"]
	if len(u.conditions) != len(AgentConditions) || !u.setTaint || !sameTaint(*u.taint, UnreachableTaint) {
		t.Fatalf("update %+v", u)
	}
	for _, c := range u.conditions {
		if c.Status != corev1.ConditionUnknown || c.Reason != ReasonNeverUpdated {
			t.Errorf("condition %+v", c)
		}
	}
	if u.conditions[1].Type != v1.NodeContainerRuntimeReady {
		t.Errorf("conditions %+v", u.conditions)
	}
}

func TestProbeTime(t *testing.T) {
	f := newFixture(t)
	n := f.node("a", "z", corev1.ConditionTrue)
	f.renew("a")
	f.clock.Step(time.Minute)
	// A relist of the same lease and node is no sign of life.
	f.s.putNode(n)
	lease := metav1.NewMicroTime(start)
	f.s.putLease(&coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Spec: coordinationv1.LeaseSpec{RenewTime: &lease}})
	if got := f.s.nodes["a"].probeTime; !got.Equal(start) {
		t.Errorf("probe time %v after relists, want %v", got, start)
	}
	f.renew("a")
	if got := f.s.nodes["a"].probeTime; !got.Equal(f.clock.Now()) {
		t.Errorf("probe time %v after a renewal, want now", got)
	}
	f.clock.Step(time.Minute)
	f.node("a", "z", corev1.ConditionTrue)
	if got := f.s.nodes["a"].probeTime; !got.Equal(f.clock.Now()) {
		t.Errorf("probe time %v after a status post, want now", got)
	}
}

// BenchmarkPlan is one monitor pass over 10,000 healthy nodes in 3 zones.
func BenchmarkPlan(b *testing.B) {
	f := newFixture(&testing.T{})
	for i := range 10000 {
		f.node(fmt.Sprintf("n-%05d", i), fmt.Sprint("zone-", i%3), corev1.ConditionTrue)
	}
	b.ResetTimer()
	for b.Loop() {
		if res := f.plan(); len(res.updates) != 0 {
			b.Fatalf("%d updates", len(res.updates))
		}
	}
}
