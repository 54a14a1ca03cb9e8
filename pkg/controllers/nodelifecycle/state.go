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
	"maps"
	"slices"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/regionwatch"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// nodeRecord is what the controller keeps of a Node: only what it decides
// and writes with, so that a region of many nodes costs little memory.
type nodeRecord struct {
	name            string
	resourceVersion string
	zone            string
	conditions      []corev1.NodeCondition
	// ready is the status of the Ready condition in conditions, "" if
	// none: read once here rather than by every pass.
	ready  corev1.ConditionStatus
	taints []corev1.Taint
	// probeTime is when the controller last saw the node alive (its lease
	// renewed or its Ready heartbeat moved), by the controller's own clock,
	// so that agents' clocks do not matter; Kubernetes does the same.
	probeTime      time.Time
	readyHeartbeat time.Time
	// noExecute are the node's NoExecute taints with the time each began:
	// its TimeAdded, or when the controller first saw a taint without one.
	noExecute []startedTaint
	// awaitRV is the version a successful write of the controller was
	// based on. While the cache still holds that version, the write's
	// result has not arrived and the node is left alone, so that a pass
	// does not repeat the write (or spend a rate-limit token on it); for
	// awaitLimit at most, in case the result never shows.
	awaitRV    string
	awaitUntil time.Time
}

// awaitLimit bounds how long a node is left alone after a write whose
// result the watch has not shown.
const awaitLimit = 30 * time.Second

// startedTaint is a NoExecute taint and when it began.
type startedTaint struct {
	taint corev1.Taint
	since time.Time
}

// podRecord is what the controller keeps of a pod bound to a node.
type podRecord struct {
	uid       types.UID
	tenant    tenancy.Name
	namespace string
	name      string
	nodeName  string
	// tolerations are those that can tolerate a NoExecute taint.
	tolerations []corev1.Toleration
	// gone is true for a pod being deleted or finished: nothing is left to
	// evict.
	gone bool
}

func (p *podRecord) pod() *v1.Pod {
	pod := &v1.Pod{}
	pod.Name, pod.Namespace, pod.UID = p.name, p.namespace, p.uid
	pod.Annotations = map[string]string{tenancy.Annotation: string(p.tenant)}
	return pod
}

func (p *podRecord) String() string { return p.namespace + "/" + p.name }

// state is the controller's view of nodes, their leases and the pods bound
// to them, fed by three reflectors.
type state struct {
	clock clock.PassiveClock
	// enqueue asks the eviction workers to look at a pod.
	enqueue func(types.UID)

	mu     sync.Mutex
	nodes  map[string]*nodeRecord
	leases map[string]time.Time
	pods   map[types.UID]*podRecord
	byNode map[string]map[types.UID]bool
	// scheduled are pods whose eviction is scheduled, and when.
	scheduled map[types.UID]time.Time

	// nodeStore, leaseStore and podStore are the reflectors' stores: they
	// keep records in the state instead of the objects.
	nodeStore  *regionwatch.Store[*corev1.Node]
	leaseStore *regionwatch.Store[*coordinationv1.Lease]
	podStore   *regionwatch.Store[*v1.Pod]
}

func newState(c clock.PassiveClock, enqueue func(types.UID)) *state {
	s := &state{
		clock: c, enqueue: enqueue,
		nodes: map[string]*nodeRecord{}, leases: map[string]time.Time{},
		pods: map[types.UID]*podRecord{}, byNode: map[string]map[types.UID]bool{},
		scheduled: map[types.UID]time.Time{},
	}
	s.nodeStore = regionwatch.NewStore("node", s.putNode, func(n *corev1.Node) { s.deleteNode(n.Name) }, s.replaceNodes)
	s.leaseStore = regionwatch.NewStore("lease", s.putLease, func(l *coordinationv1.Lease) { s.deleteLease(l.Name) }, s.replaceLeases)
	s.podStore = regionwatch.NewStore("pod", s.putPod, func(p *v1.Pod) { s.deletePod(p.UID) }, s.replacePods)
	return s
}

func (s *state) putNode(n *corev1.Node) {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.nodes[n.Name]
	if rec == nil {
		// A node first seen gets a full grace period, as after a restart
		// of the controller: it cannot know how long the node was silent.
		rec = &nodeRecord{name: n.Name, probeTime: now}
		s.nodes[n.Name] = rec
	}
	rec.resourceVersion = n.ResourceVersion
	rec.zone = n.Labels[corev1.LabelTopologyZone]
	rec.conditions = n.Status.Conditions
	rec.ready = conditionStatus(n.Status.Conditions, corev1.NodeReady)
	rec.taints = n.Spec.Taints
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady && !c.LastHeartbeatTime.Time.Equal(rec.readyHeartbeat) {
			rec.readyHeartbeat = c.LastHeartbeatTime.Time
			rec.probeTime = now
		}
	}
	noExecute := startedTaints(n.Spec.Taints, rec.noExecute, now)
	if !slices.EqualFunc(noExecute, rec.noExecute, sameStartedTaint) {
		rec.noExecute = noExecute
		s.enqueueNodeLocked(n.Name)
	}
}

// startedTaints lists the NoExecute taints of taints, dating those without
// TimeAdded by the previous record, or now.
func startedTaints(taints []corev1.Taint, prev []startedTaint, now time.Time) []startedTaint {
	var out []startedTaint
	for _, t := range taints {
		if t.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		since := now
		if t.TimeAdded != nil {
			since = t.TimeAdded.Time
		} else if i := slices.IndexFunc(prev, func(p startedTaint) bool { return sameTaint(p.taint, t) }); i >= 0 {
			since = prev[i].since
		}
		out = append(out, startedTaint{taint: t, since: since})
	}
	return out
}

func sameTaint(a, b corev1.Taint) bool {
	return a.Key == b.Key && a.Value == b.Value && a.Effect == b.Effect
}

func sameStartedTaint(a, b startedTaint) bool {
	return sameTaint(a.taint, b.taint) && a.since.Equal(b.since)
}

func (s *state) deleteNode(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.nodes[name]; !ok {
		return
	}
	delete(s.nodes, name)
	// Their scheduled evictions are dropped: the pod garbage collector
	// deletes pods of nodes that are gone.
	s.enqueueNodeLocked(name)
}

func (s *state) enqueueNodeLocked(name string) {
	for uid := range s.byNode[name] {
		s.enqueue(uid)
	}
}

func (s *state) putLease(l *coordinationv1.Lease) {
	if l.Spec.RenewTime == nil {
		return
	}
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	renewed := l.Spec.RenewTime.Time
	if prev, ok := s.leases[l.Name]; ok && prev.Equal(renewed) {
		return
	}
	s.leases[l.Name] = renewed
	if rec := s.nodes[l.Name]; rec != nil {
		rec.probeTime = now
	}
}

func (s *state) deleteLease(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.leases, name)
}

func (s *state) putPod(p *v1.Pod) {
	if p.Spec.NodeName == "" {
		s.deletePod(p.UID)
		return
	}
	rec := &podRecord{
		uid: p.UID, tenant: tenancy.OfObject(p.Annotations), namespace: p.Namespace, name: p.Name,
		nodeName: p.Spec.NodeName,
		gone:     p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed,
	}
	for _, t := range p.Spec.Tolerations {
		if t.Effect == "" || t.Effect == corev1.TaintEffectNoExecute {
			rec.tolerations = append(rec.tolerations, t)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.pods[p.UID]
	if old != nil && old.nodeName == rec.nodeName && old.gone == rec.gone &&
		slices.EqualFunc(old.tolerations, rec.tolerations, sameToleration) {
		return
	}
	if old != nil && old.nodeName != rec.nodeName {
		s.unindexLocked(old)
	}
	s.pods[p.UID] = rec
	if s.byNode[rec.nodeName] == nil {
		s.byNode[rec.nodeName] = map[types.UID]bool{}
	}
	s.byNode[rec.nodeName][p.UID] = true
	// Only pods on a node with NoExecute taints, or with an eviction
	// scheduled, have anything to decide.
	_, scheduled := s.scheduled[p.UID]
	if n := s.nodes[rec.nodeName]; scheduled || (n != nil && len(n.noExecute) > 0) {
		s.enqueue(p.UID)
	}
}

func sameToleration(a, b corev1.Toleration) bool {
	if !a.MatchToleration(&b) {
		return false
	}
	if a.TolerationSeconds == nil || b.TolerationSeconds == nil {
		return a.TolerationSeconds == nil && b.TolerationSeconds == nil
	}
	return *a.TolerationSeconds == *b.TolerationSeconds
}

func (s *state) deletePod(uid types.UID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.pods[uid]
	if rec == nil {
		return
	}
	delete(s.pods, uid)
	delete(s.scheduled, uid)
	s.unindexLocked(rec)
}

func (s *state) unindexLocked(rec *podRecord) {
	if set := s.byNode[rec.nodeName]; set != nil {
		delete(set, rec.uid)
		if len(set) == 0 {
			delete(s.byNode, rec.nodeName)
		}
	}
}

// replaceNodes, replaceLeases and replacePods take a full list: they
// record every object of it and forget the others.

func (s *state) replaceNodes(list []*corev1.Node) {
	seen := make(map[string]bool, len(list))
	for _, n := range list {
		s.putNode(n)
		seen[n.Name] = true
	}
	s.mu.Lock()
	names := slices.Collect(maps.Keys(s.nodes))
	s.mu.Unlock()
	for _, name := range names {
		if !seen[name] {
			s.deleteNode(name)
		}
	}
}

func (s *state) replaceLeases(list []*coordinationv1.Lease) {
	seen := make(map[string]bool, len(list))
	for _, l := range list {
		s.putLease(l)
		seen[l.Name] = true
	}
	s.mu.Lock()
	for name := range s.leases {
		if !seen[name] {
			delete(s.leases, name)
		}
	}
	s.mu.Unlock()
}

func (s *state) replacePods(list []*v1.Pod) {
	seen := make(map[types.UID]bool, len(list))
	for _, p := range list {
		s.putPod(p)
		seen[p.UID] = true
	}
	s.mu.Lock()
	uids := slices.Collect(maps.Keys(s.pods))
	s.mu.Unlock()
	for _, uid := range uids {
		if !seen[uid] {
			s.deletePod(uid)
		}
	}
}
