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
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
)

// Reasons a node does not fit, worded as kube-scheduler words them, so
// that tools and people reading PodScheduled messages find the familiar.
const (
	reasonUnschedulable    = "node(s) were unschedulable"
	reasonNodeAffinity     = "node(s) didn't match Pod's node affinity/selector"
	reasonNoVMRuntime      = "node(s) cannot run virtual machines"
	reasonTooManyPods      = "Too many pods"
	reasonAntiAffinity     = "node(s) didn't match pod anti-affinity rules"
	reasonExistingAnti     = "node(s) didn't satisfy existing pods anti-affinity rules"
	reasonAffinity         = "node(s) didn't match pod affinity rules"
	reasonSpread           = "node(s) didn't match pod topology spread constraints"
	reasonSpreadMissingKey = "node(s) didn't match pod topology spread constraints (missing required label)"
)

// failure is why one node does not fit a pod, and which cluster events may
// change that.
type failure struct {
	reasons []string
	events  clusterEvent
}

// filter tells whether pod s fits on node n; nil means it fits.
type filter func(s *podState, n *nodeInfo) *failure

// filters run cheapest first; the first that fails decides.
var filters = []filter{
	filterUnschedulable,
	filterTaints,
	filterVMRuntime,
	filterNodeAffinity,
	filterResources,
	filterSpread,
	filterPodAffinity,
}

func fail(events clusterEvent, reasons ...string) *failure {
	return &failure{reasons: reasons, events: events}
}

func filterUnschedulable(s *podState, n *nodeInfo) *failure {
	if !n.unschedulable {
		return nil
	}
	taint := corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}
	if tolerates(s.tolerations, &taint) {
		return nil
	}
	return fail(nodeChanged, reasonUnschedulable)
}

// filterTaints refuses nodes with NoSchedule or NoExecute taints the pod
// does not tolerate. A node that is not Ready counts as tainted not-ready
// (or unreachable), whether or not the node lifecycle controller has put
// the taint on yet.
func filterTaints(s *podState, n *nodeInfo) *failure {
	if n.readiness != nil && !tolerates(s.tolerations, n.readiness) {
		return fail(nodeChanged, untoleratedTaint(n.readiness))
	}
	for i := range n.taints {
		t := &n.taints[i]
		if t.Effect == corev1.TaintEffectPreferNoSchedule {
			continue
		}
		if !tolerates(s.tolerations, t) {
			return fail(nodeChanged, untoleratedTaint(t))
		}
	}
	return nil
}

func untoleratedTaint(t *corev1.Taint) string {
	return fmt.Sprintf("node(s) had untolerated taint {%s: %s}", t.Key, t.Value)
}

func tolerates(tolerations []corev1.Toleration, t *corev1.Taint) bool {
	for i := range tolerations {
		if tolerations[i].ToleratesTaint(klog.Background(), t, true) {
			return true
		}
	}
	return false
}

func filterVMRuntime(s *podState, n *nodeInfo) *failure {
	if s.pod.pod.Spec.VirtualMachine == nil || n.vmReady {
		return nil
	}
	return fail(nodeChanged, reasonNoVMRuntime)
}

func filterNodeAffinity(s *podState, n *nodeInfo) *failure {
	if s.matchesNode(n) {
		return nil
	}
	return fail(nodeChanged, reasonNodeAffinity)
}

// filterResources checks requests against what is left of allocatable.
func filterResources(s *podState, n *nodeInfo) *failure {
	want, have, used := &s.pod.requests, &n.allocatable, &n.requested
	var reasons []string
	if used.pods+1 > have.pods {
		reasons = append(reasons, reasonTooManyPods)
	}
	if want.milliCPU > 0 && used.milliCPU+want.milliCPU > have.milliCPU {
		reasons = append(reasons, "Insufficient cpu")
	}
	if want.memory > 0 && used.memory+want.memory > have.memory {
		reasons = append(reasons, "Insufficient memory")
	}
	if want.ephemeralStorage > 0 && used.ephemeralStorage+want.ephemeralStorage > have.ephemeralStorage {
		reasons = append(reasons, "Insufficient ephemeral-storage")
	}
	for name, v := range want.scalar {
		if v > 0 && used.scalar[name]+v > have.scalar[name] {
			reasons = append(reasons, "Insufficient "+string(name))
		}
	}
	if reasons == nil {
		return nil
	}
	return fail(nodeChanged|podRemoved, reasons...)
}

// filterSpread enforces the DoNotSchedule topology spread constraints.
func filterSpread(s *podState, n *nodeInfo) *failure {
	for _, c := range s.hardSpread {
		domain, ok := n.node.Labels[c.key]
		if !ok {
			return fail(nodeChanged, reasonSpreadMissingKey)
		}
		if c.counts[domain]+c.self-c.minCount() > c.maxSkew {
			return fail(nodeChanged|podAssigned|podRemoved, reasonSpread)
		}
	}
	return nil
}

// filterPodAffinity enforces required pod affinity and anti-affinity, the
// pod's own and that of pods already placed.
func filterPodAffinity(s *podState, n *nodeInfo) *failure {
	for _, t := range s.existingAnti {
		if v, ok := n.node.Labels[t.key]; ok && t.domains[v] {
			return fail(nodeChanged|podRemoved, reasonExistingAnti)
		}
	}
	for _, t := range s.antiAffinity {
		if v, ok := n.node.Labels[t.key]; ok && t.domains[v] {
			return fail(nodeChanged|podRemoved, reasonAntiAffinity)
		}
	}
	for _, t := range s.affinity {
		v, ok := n.node.Labels[t.key]
		if !ok || (!t.domains[v] && !t.selfSatisfied) {
			return fail(nodeChanged|podAssigned, reasonAffinity)
		}
	}
	return nil
}
