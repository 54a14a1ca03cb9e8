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
	"time"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// Results of a scheduling attempt.
const (
	resultScheduled     = "scheduled"
	resultUnschedulable = "unschedulable"
	resultError         = "error"
)

var (
	attempts = metrics.NewHistogramVec(&metrics.HistogramOpts{
		Namespace: "arcturus", Subsystem: "scheduler", Name: "attempt_duration_seconds",
		Help:    "Time to find a node for one pod (filters and scores, not binding), by result.",
		Buckets: metrics.ExponentialBuckets(0.00001, 2, 18), StabilityLevel: metrics.ALPHA,
	}, []string{"result"})
	podSchedulingDuration = metrics.NewHistogram(&metrics.HistogramOpts{
		Namespace: "arcturus", Subsystem: "scheduler", Name: "pod_scheduling_duration_seconds",
		Help:    "Time from a pod entering the queue to its binding being written, retries included.",
		Buckets: metrics.ExponentialBuckets(0.001, 2, 20), StabilityLevel: metrics.ALPHA,
	})
	bindDuration = metrics.NewHistogram(&metrics.HistogramOpts{
		Namespace: "arcturus", Subsystem: "scheduler", Name: "binding_duration_seconds",
		Help:    "Time to write one binding.",
		Buckets: metrics.ExponentialBuckets(0.0005, 2, 16), StabilityLevel: metrics.ALPHA,
	})
	scheduledPods = metrics.NewCounter(&metrics.CounterOpts{
		Namespace: "arcturus", Subsystem: "scheduler", Name: "scheduled_pods_total",
		Help: "Pods bound by this scheduler.", StabilityLevel: metrics.ALPHA,
	})
	bindFailures = metrics.NewCounter(&metrics.CounterOpts{
		Namespace: "arcturus", Subsystem: "scheduler", Name: "binding_failures_total",
		Help: "Bindings the API server refused or that failed in transit.", StabilityLevel: metrics.ALPHA,
	})
	pendingPods = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: "arcturus", Subsystem: "scheduler", Name: "pending_pods",
		Help: "Pending pods by queue (active, backoff, unschedulable).", StabilityLevel: metrics.ALPHA,
	}, []string{"queue"})
	nodesKnown = metrics.NewGauge(&metrics.GaugeOpts{
		Namespace: "arcturus", Subsystem: "scheduler", Name: "nodes",
		Help: "Nodes the scheduler knows, over every resource partition.", StabilityLevel: metrics.ALPHA,
	})
)

func init() {
	legacyregistry.MustRegister(attempts, podSchedulingDuration, bindDuration, scheduledPods, bindFailures, pendingPods, nodesKnown)
}

func observeAttempt(result string, start time.Time) {
	attempts.WithLabelValues(result).Observe(time.Since(start).Seconds())
}
