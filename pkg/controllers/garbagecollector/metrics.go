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

package garbagecollector

import (
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

var (
	graphObjects = metrics.NewGauge(&metrics.GaugeOpts{
		Namespace: "arcturus", Subsystem: "garbage_collector", Name: "graph_objects",
		Help:           "Objects of every tenant in the garbage collector's dependency graph.",
		StabilityLevel: metrics.ALPHA,
	})
	watchedResources = metrics.NewGauge(&metrics.GaugeOpts{
		Namespace: "arcturus", Subsystem: "garbage_collector", Name: "resources",
		Help: "Resources the garbage collector watches.", StabilityLevel: metrics.ALPHA,
	})
	deletions = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: "arcturus", Subsystem: "garbage_collector", Name: "deletions_total",
		Help:           "Deletions of dependents attempted, by result (ok; gone: already deleted or replaced; error).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"result"})
	errorsTotal = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: "arcturus", Subsystem: "garbage_collector", Name: "errors_total",
		Help:           "Failed requests, by operation (discovery, list, get, delete, patch).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"operation"})
)

func init() {
	legacyregistry.MustRegister(graphObjects, watchedResources, deletions, errorsTotal)
}
