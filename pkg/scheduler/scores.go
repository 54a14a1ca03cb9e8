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
	"math"

	corev1 "k8s.io/api/core/v1"
)

const maxNodeScore = 100

// scorer rates feasible nodes for a pod. Raw scores are normalised to
// 0..maxNodeScore across the feasible nodes unless the scorer already
// scores on that scale; reverse makes a lower raw score better.
type scorer struct {
	name      string
	weight    int64
	score     func(s *podState, n *nodeInfo) int64
	normalize bool
	reverse   bool
	// applies, if set, skips the scorer for pods it cannot tell apart.
	applies func(s *podState) bool
}

// scorers and their weights, as kube-scheduler's default profile.
var scorers = []scorer{
	{name: "LeastAllocated", weight: 1, score: scoreLeastAllocated},
	{name: "BalancedAllocation", weight: 1, score: scoreBalanced},
	{
		name: "NodeAffinity", weight: 2, score: scorePreferredAffinity, normalize: true,
		applies: func(s *podState) bool { return s.preferredAffinity != nil },
	},
	{name: "TaintToleration", weight: 3, score: scoreIntoleratedPreferNoSchedule, normalize: true, reverse: true},
	{
		name: "PodTopologySpread", weight: 2, score: scoreSpread, normalize: true, reverse: true,
		applies: func(s *podState) bool { return len(s.softSpread) > 0 || s.siblings != nil },
	},
}

// pick scores the feasible nodes and returns the best; ties go to a
// random one of them, so that equal nodes share the load.
func pick(s *podState, feasible []*nodeInfo, rand func(int) int) *nodeInfo {
	if len(feasible) == 1 {
		return feasible[0]
	}
	totals := make([]int64, len(feasible))
	raw := make([]int64, len(feasible))
	for _, sc := range scorers {
		if sc.applies != nil && !sc.applies(s) {
			continue
		}
		var highest int64
		for i, n := range feasible {
			raw[i] = sc.score(s, n)
			highest = max(highest, raw[i])
		}
		for i := range feasible {
			v := raw[i]
			if sc.normalize {
				switch {
				case highest == 0 && sc.reverse:
					v = maxNodeScore
				case highest == 0:
					v = 0
				default:
					v = v * maxNodeScore / highest
					if sc.reverse {
						v = maxNodeScore - v
					}
				}
			}
			totals[i] += sc.weight * v
		}
	}
	best, ties := 0, 1
	for i := 1; i < len(feasible); i++ {
		switch {
		case totals[i] > totals[best]:
			best, ties = i, 1
		case totals[i] == totals[best]:
			ties++
			if rand(ties) == 0 {
				best = i
			}
		}
	}
	return feasible[best]
}

// scoreLeastAllocated favours nodes with the most cpu and memory left
// after placing the pod.
func scoreLeastAllocated(s *podState, n *nodeInfo) int64 {
	free := func(requested, allocatable int64) int64 {
		if allocatable <= 0 || requested > allocatable {
			return 0
		}
		return (allocatable - requested) * maxNodeScore / allocatable
	}
	cpu := free(n.scoreMilliCPU+s.pod.scoreMilliCPU, n.allocatable.milliCPU)
	mem := free(n.scoreMemory+s.pod.scoreMemory, n.allocatable.memory)
	return (cpu + mem) / 2
}

// scoreBalanced favours nodes whose cpu and memory are used in equal
// proportion after placing the pod, leaving room of every kind.
func scoreBalanced(s *podState, n *nodeInfo) int64 {
	if n.allocatable.milliCPU <= 0 || n.allocatable.memory <= 0 {
		return 0
	}
	cpu := math.Min(1, float64(n.scoreMilliCPU+s.pod.scoreMilliCPU)/float64(n.allocatable.milliCPU))
	mem := math.Min(1, float64(n.scoreMemory+s.pod.scoreMemory)/float64(n.allocatable.memory))
	// The standard deviation of two fractions is half their distance.
	return int64((1 - math.Abs(cpu-mem)/2) * maxNodeScore)
}

func scorePreferredAffinity(s *podState, n *nodeInfo) int64 {
	return s.preferredAffinity.Score(n.node)
}

// scoreIntoleratedPreferNoSchedule counts the PreferNoSchedule taints the
// pod does not tolerate.
func scoreIntoleratedPreferNoSchedule(s *podState, n *nodeInfo) int64 {
	var count int64
	for i := range n.taints {
		t := &n.taints[i]
		if t.Effect == corev1.TaintEffectPreferNoSchedule && !tolerates(s.tolerations, t) {
			count++
		}
	}
	return count
}

// scoreSpread counts the matching pods in the node's domains: those of
// the ScheduleAnyway constraints, or, for a pod without constraints but
// with a controller, its siblings on the node and in its zone, weighted as
// kube-scheduler's default constraints (hostname and zone) weigh them.
func scoreSpread(s *podState, n *nodeInfo) int64 {
	var raw float64
	for _, c := range s.softSpread {
		if domain, ok := n.node.Labels[c.key]; ok {
			raw += float64(c.counts[domain]) * math.Log(float64(len(c.counts)+2))
		}
	}
	if sib := s.siblings; sib != nil {
		raw += float64(sib.onNode[n.node.Name]) * sib.nodeWeight
		if zone, ok := n.node.Labels[corev1.LabelTopologyZone]; ok {
			raw += float64(sib.inZone[zone]) * sib.zoneWeight
		}
	}
	return int64(math.Round(raw * 10))
}
