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

package agent

import (
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

var (
	podSyncs = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: "arcturus", Subsystem: "agent", Name: "pod_syncs_total",
		Help: "Pod syncs by result (ok, conflict, error).", StabilityLevel: metrics.ALPHA,
	}, []string{"result"})
	podSyncDuration = metrics.NewHistogram(&metrics.HistogramOpts{
		Namespace: "arcturus", Subsystem: "agent", Name: "pod_sync_duration_seconds",
		Help:    "Time of one pod sync, runtime and status write included.",
		Buckets: metrics.ExponentialBuckets(0.001, 2, 15), StabilityLevel: metrics.ALPHA,
	})
	leaseRenewals = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: "arcturus", Subsystem: "agent", Name: "lease_renewals_total",
		Help: "Node lease renewals by result (ok, error).", StabilityLevel: metrics.ALPHA,
	}, []string{"result"})
	leaseRenewalLag = metrics.NewHistogram(&metrics.HistogramOpts{
		Namespace: "arcturus", Subsystem: "agent", Name: "lease_renewal_lag_seconds",
		Help:    "How late a node lease renewal completed after it was due, one renew interval after the previous one completed.",
		Buckets: metrics.ExponentialBuckets(0.001, 2, 16), StabilityLevel: metrics.ALPHA,
	})
	oldestLease = metrics.NewGauge(&metrics.GaugeOpts{
		Namespace: "arcturus", Subsystem: "agent", Name: "lease_oldest_renewal_age_seconds",
		Help:           "Time since the least recently renewed node lease was renewed; a lease expires at 40 s.",
		StabilityLevel: metrics.ALPHA,
	})
	managedNodes = metrics.NewGauge(&metrics.GaugeOpts{
		Namespace: "arcturus", Subsystem: "agent", Name: "nodes",
		Help: "Nodes this agent keeps alive.", StabilityLevel: metrics.ALPHA,
	})
)

func init() {
	legacyregistry.MustRegister(podSyncs, podSyncDuration, leaseRenewals, leaseRenewalLag, oldestLease, managedNodes)
}
