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

package podgc

import (
	"cmp"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/regionwatch"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// podRecord is what the collector keeps of a pod: enough to choose it and
// delete it, so that a region's pods cost little memory.
type podRecord struct {
	uid         types.UID
	tenant      tenancy.Name
	namespace   string
	name        string
	nodeName    string
	created     time.Time
	terminal    bool
	terminating bool
}

func (p *podRecord) String() string { return p.namespace + "/" + p.name }

// state holds the pods of every tenant and the names of the nodes.
type state struct {
	mu    sync.Mutex
	pods  map[types.UID]*podRecord
	nodes map[string]bool

	// podStore and nodeStore are the reflectors' stores: they keep records
	// in the state instead of the objects.
	podStore  *regionwatch.Store[*v1.Pod]
	nodeStore *regionwatch.Store[*corev1.Node]
}

func newState() *state {
	s := &state{pods: map[types.UID]*podRecord{}, nodes: map[string]bool{}}
	s.podStore = regionwatch.NewStore("pod", s.putPod, func(p *v1.Pod) { s.deletePod(p.UID) }, s.replacePods)
	s.nodeStore = regionwatch.NewStore("node", s.putNode, s.deleteNode, s.replaceNodes)
	return s
}

// plan is what one pass deletes, or checks first.
type plan struct {
	// terminated are the oldest finished pods beyond the threshold.
	terminated []podRecord
	// unscheduled are pods being deleted that no node will finish.
	unscheduled []podRecord
	// check are nodes that pods are bound to and that have been missing
	// for the quarantine: their pods go if a live read confirms it.
	check []string
}

// plan chooses what a pass at now deletes. quarantine holds when each
// missing node was first found missing, and is updated; threshold < 0 keeps
// every finished pod.
func (s *state) plan(now time.Time, threshold int, quarantine map[string]time.Time, wait time.Duration) plan {
	s.mu.Lock()
	defer s.mu.Unlock()
	var p plan
	var terminated []podRecord
	missing := map[string]bool{}
	for _, pod := range s.pods {
		if pod.terminal {
			terminated = append(terminated, *pod)
		}
		if pod.nodeName == "" {
			if pod.terminating {
				p.unscheduled = append(p.unscheduled, *pod)
			}
		} else if !s.nodes[pod.nodeName] {
			missing[pod.nodeName] = true
		}
	}
	if excess := len(terminated) - threshold; threshold >= 0 && excess > 0 {
		slices.SortFunc(terminated, func(a, b podRecord) int {
			return cmp.Or(a.created.Compare(b.created), cmp.Compare(a.tenant, b.tenant),
				cmp.Compare(a.namespace, b.namespace), cmp.Compare(a.name, b.name))
		})
		p.terminated = terminated[:excess]
	}
	for node := range quarantine {
		if !missing[node] {
			delete(quarantine, node)
		}
	}
	for node := range missing {
		since, ok := quarantine[node]
		switch {
		case !ok:
			// The node may be on its way: its creation not yet seen here,
			// or the pod bound to it before it registered.
			quarantine[node] = now
		case now.Sub(since) >= wait:
			p.check = append(p.check, node)
		}
	}
	slices.Sort(p.check)
	return p
}

// orphansOf lists the pods bound to node, if the node is still unknown.
func (s *state) orphansOf(node string) []podRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nodes[node] {
		return nil
	}
	var out []podRecord
	for _, pod := range s.pods {
		if pod.nodeName == node {
			out = append(out, *pod)
		}
	}
	return out
}

func record(p *v1.Pod) *podRecord {
	return &podRecord{
		uid: p.UID, tenant: tenancy.OfObject(p.Annotations), namespace: p.Namespace, name: p.Name,
		nodeName: p.Spec.NodeName, created: p.CreationTimestamp.Time,
		terminal:    p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed,
		terminating: p.DeletionTimestamp != nil,
	}
}

func (s *state) putPod(p *v1.Pod) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pods[p.UID] = record(p)
}

func (s *state) deletePod(uid types.UID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pods, uid)
}

func (s *state) replacePods(list []*v1.Pod) {
	pods := make(map[types.UID]*podRecord, len(list))
	for _, p := range list {
		pods[p.UID] = record(p)
	}
	s.mu.Lock()
	s.pods = pods
	s.mu.Unlock()
}

func (s *state) putNode(n *corev1.Node) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nodes[n.Name] = true
}

func (s *state) deleteNode(n *corev1.Node) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.nodes, n.Name)
}

func (s *state) replaceNodes(list []*corev1.Node) {
	nodes := make(map[string]bool, len(list))
	for _, n := range list {
		nodes[n.Name] = true
	}
	s.mu.Lock()
	s.nodes = nodes
	s.mu.Unlock()
}
