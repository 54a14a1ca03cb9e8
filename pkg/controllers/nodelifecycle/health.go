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
	"cmp"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

// Reasons and messages of the conditions the controller writes, as
// Kubernetes' node lifecycle controller writes them.
const (
	ReasonStatusUnknown  = "NodeStatusUnknown"
	MessageStatusUnknown = "Kubelet stopped posting node status."
	ReasonNeverUpdated   = "NodeStatusNeverUpdated"
	MessageNeverUpdated  = "Kubelet never posted node status."
)

// AgentConditions are the conditions the node agent posts. All of them go
// Unknown when it falls silent: the controller cannot vouch for any.
var AgentConditions = []corev1.NodeConditionType{corev1.NodeReady, v1.NodeContainerRuntimeReady, v1.NodeVMRuntimeReady}

// The taints the controller manages, Kubernetes' own.
var (
	NotReadyTaint    = corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}
	UnreachableTaint = corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}
)

// health is a node's health for metrics and zone state.
type health string

const (
	healthReady    health = "ready"
	healthNotReady health = "not_ready"
	healthUnknown  health = "unknown"
)

// nodeUpdate is what one node needs written.
type nodeUpdate struct {
	name            string
	resourceVersion string
	// taints are the node's taints at resourceVersion.
	taints []corev1.Taint
	// conditions, if not nil, replace the node's conditions (through
	// nodes/status).
	conditions []corev1.NodeCondition
	// setTaint says to make taint the only one of the controller's taints
	// the node carries; nil removes them.
	setTaint bool
	taint    *corev1.Taint
}

// zoneLimiter lets one node of a zone be tainted per interval: a token
// bucket of one token, as Kubernetes' (burst 1 at --node-eviction-rate).
type zoneLimiter struct{ next time.Time }

// monitor decides, pass by pass, what nodes need. It is used by one
// goroutine only.
type monitor struct {
	grace     time.Duration
	interval  time.Duration
	threshold float64
	limiters  map[string]*zoneLimiter
}

// passResult is the outcome of one pass.
type passResult struct {
	updates []nodeUpdate
	// retry, if not zero, is how soon a node that waits for the rate
	// limiter can be tainted.
	retry time.Duration
	// counts are the nodes of each zone by health.
	counts map[string]map[health]int
	// disrupted are the zones in which no node is newly tainted.
	disrupted map[string]bool
}

// plan looks at every node once. It is a pass over memory, cheap for tens
// of thousands of nodes; only nodes that need a change cost a request.
func (m *monitor) plan(s *state, now time.Time) passResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	res := passResult{counts: map[string]map[health]int{}, disrupted: map[string]bool{}}
	index := map[string]int{}
	var waiting []*nodeRecord
	update := func(rec *nodeRecord) *nodeUpdate {
		i, ok := index[rec.name]
		if !ok {
			i = len(res.updates)
			index[rec.name] = i
			res.updates = append(res.updates, nodeUpdate{name: rec.name, resourceVersion: rec.resourceVersion, taints: rec.taints})
		}
		return &res.updates[i]
	}

	for _, rec := range s.nodes {
		stale := now.Sub(rec.probeTime) > m.grace
		ready := rec.ready
		if stale {
			ready = corev1.ConditionUnknown
		}
		if res.counts[rec.zone] == nil {
			res.counts[rec.zone] = map[health]int{}
		}
		res.counts[rec.zone][healthOf(ready)]++
		if rec.awaitRV == rec.resourceVersion && now.Before(rec.awaitUntil) {
			continue
		}

		if stale {
			if conditions, changed := unknownConditions(rec.conditions, now); changed {
				update(rec).conditions = conditions
			}
		}
		if ready == "" {
			// Never posted: nothing to decide until the grace period ends.
			continue
		}
		want := wantedTaint(ready)
		ours := controllerTaints(rec.taints)
		switch {
		case want == nil:
			if len(ours) > 0 {
				update(rec).setTaint = true
			}
		case len(ours) == 1 && ours[0].Key == want.Key:
		case len(ours) == 0:
			// New taints are what evicts pods: they are rate limited.
			waiting = append(waiting, rec)
		default:
			// Not-ready turned unreachable or back: swapped at once, as
			// Kubernetes does, keeping the start of a taint already there.
			u := update(rec)
			u.setTaint, u.taint = true, stamped(*want, now)
			if i := slices.IndexFunc(ours, func(t corev1.Taint) bool { return t.Key == want.Key }); i >= 0 {
				u.taint = &ours[i]
			}
		}
	}

	for zone, c := range res.counts {
		total := c[healthReady] + c[healthNotReady] + c[healthUnknown]
		unhealthy := total - c[healthReady]
		res.disrupted[zone] = total > 0 && float64(unhealthy)/float64(total) > m.threshold
	}

	// The longest silent go first.
	slices.SortFunc(waiting, func(a, b *nodeRecord) int {
		return cmp.Or(a.probeTime.Compare(b.probeTime), cmp.Compare(a.name, b.name))
	})
	for _, rec := range waiting {
		if res.disrupted[rec.zone] {
			continue
		}
		lim := m.limiters[rec.zone]
		if lim == nil {
			lim = &zoneLimiter{}
			m.limiters[rec.zone] = lim
		}
		if now.Before(lim.next) {
			if wait := lim.next.Sub(now); res.retry == 0 || wait < res.retry {
				res.retry = wait
			}
			continue
		}
		lim.next = now.Add(m.interval)
		ready := corev1.ConditionUnknown
		if !(now.Sub(rec.probeTime) > m.grace) {
			ready = rec.ready
		}
		u := update(rec)
		u.setTaint, u.taint = true, stamped(*wantedTaint(ready), now)
	}
	return res
}

func conditionStatus(conditions []corev1.NodeCondition, t corev1.NodeConditionType) corev1.ConditionStatus {
	for _, c := range conditions {
		if c.Type == t {
			return c.Status
		}
	}
	return ""
}

func healthOf(ready corev1.ConditionStatus) health {
	switch ready {
	case corev1.ConditionTrue:
		return healthReady
	case corev1.ConditionFalse:
		return healthNotReady
	default:
		return healthUnknown
	}
}

// wantedTaint is the controller's taint for a Ready status: none when
// ready, not-ready when the agent says so, unreachable when nobody knows.
func wantedTaint(ready corev1.ConditionStatus) *corev1.Taint {
	switch ready {
	case corev1.ConditionTrue:
		return nil
	case corev1.ConditionFalse:
		return &NotReadyTaint
	default:
		return &UnreachableTaint
	}
}

func isControllerTaint(t corev1.Taint) bool {
	return sameTaint(t, NotReadyTaint) || sameTaint(t, UnreachableTaint)
}

func controllerTaints(taints []corev1.Taint) []corev1.Taint {
	var out []corev1.Taint
	for _, t := range taints {
		if isControllerTaint(t) {
			out = append(out, t)
		}
	}
	return out
}

func stamped(t corev1.Taint, now time.Time) *corev1.Taint {
	added := metav1.NewTime(now)
	t.TimeAdded = &added
	return &t
}

// withTaint returns taints with the controller's taints replaced by taint
// (removed if it is nil); other taints are left as they are.
func withTaint(taints []corev1.Taint, taint *corev1.Taint) []corev1.Taint {
	var out []corev1.Taint
	for _, t := range taints {
		if !isControllerTaint(t) {
			out = append(out, t)
		}
	}
	if taint != nil {
		out = append(out, *taint)
	}
	return out
}

// unknownConditions sets the agent's conditions Unknown, adding those it
// never posted. Other conditions are someone else's and kept.
func unknownConditions(conditions []corev1.NodeCondition, now time.Time) ([]corev1.NodeCondition, bool) {
	out := make([]corev1.NodeCondition, 0, len(conditions)+len(AgentConditions))
	for _, c := range conditions {
		out = append(out, *c.DeepCopy())
	}
	changed := false
	ts := metav1.NewTime(now)
	for _, t := range AgentConditions {
		i := slices.IndexFunc(out, func(c corev1.NodeCondition) bool { return c.Type == t })
		if i < 0 {
			out = append(out, corev1.NodeCondition{
				Type: t, Status: corev1.ConditionUnknown, Reason: ReasonNeverUpdated, Message: MessageNeverUpdated,
				LastTransitionTime: ts,
			})
			changed = true
			continue
		}
		if c := &out[i]; c.Status != corev1.ConditionUnknown {
			// The heartbeat stays: it tells when the agent last posted.
			c.Status, c.Reason, c.Message, c.LastTransitionTime = corev1.ConditionUnknown, ReasonStatusUnknown, MessageStatusUnknown, ts
			changed = true
		}
	}
	return out, changed
}
