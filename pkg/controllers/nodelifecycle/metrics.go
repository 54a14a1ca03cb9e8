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
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

var (
	nodesByHealth = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: "arcturus", Subsystem: "node_lifecycle", Name: "nodes",
		Help:           "Nodes by zone and health (ready, not_ready, unknown) at the last node monitor pass.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"zone", "health"})
	zoneDisrupted = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: "arcturus", Subsystem: "node_lifecycle", Name: "zone_disrupted",
		Help:           "1 for a zone with too many unhealthy nodes to taint more of them, else 0.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"zone"})
	taintChanges = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: "arcturus", Subsystem: "node_lifecycle", Name: "node_taint_changes_total",
		Help:           "NoExecute taints the controller set on nodes, by taint (not-ready, unreachable, none for a removal).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"taint"})
	silentNodes = metrics.NewCounter(&metrics.CounterOpts{
		Namespace: "arcturus", Subsystem: "node_lifecycle", Name: "silent_nodes_total",
		Help:           "Times a node's Lease went unrenewed for the grace period and its conditions were set Unknown.",
		StabilityLevel: metrics.ALPHA,
	})
	evictions = metrics.NewCounter(&metrics.CounterOpts{
		Namespace: "arcturus", Subsystem: "node_lifecycle", Name: "pod_evictions_total",
		Help:           "Pods deleted because their node has a NoExecute taint they do not tolerate, or no longer.",
		StabilityLevel: metrics.ALPHA,
	})
)

func init() {
	legacyregistry.MustRegister(nodesByHealth, zoneDisrupted, taintChanges, silentNodes, evictions)
}
