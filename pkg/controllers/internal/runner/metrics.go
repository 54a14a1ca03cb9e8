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

package runner

import (
	"time"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// SyncMetrics are the metrics every workload controller keeps of its
// syncs: arcturus_<subsystem>_syncs_total by result, and
// arcturus_<subsystem>_sync_duration_seconds.
type SyncMetrics struct {
	syncs    *metrics.CounterVec
	duration *metrics.Histogram
}

// NewSyncMetrics registers the sync metrics of subsystem. kind names what
// is synced ("Deployment"), and includes says what the time of one sync
// covers besides its reads.
func NewSyncMetrics(subsystem, kind, includes string) *SyncMetrics {
	m := &SyncMetrics{
		syncs: metrics.NewCounterVec(&metrics.CounterOpts{
			Namespace: "arcturus", Subsystem: subsystem, Name: "syncs_total",
			Help: kind + " syncs by result (ok, error).", StabilityLevel: metrics.ALPHA,
		}, []string{"result"}),
		duration: metrics.NewHistogram(&metrics.HistogramOpts{
			Namespace: "arcturus", Subsystem: subsystem, Name: "sync_duration_seconds",
			Help:    "Time of one " + kind + " sync, " + includes + " included.",
			Buckets: metrics.ExponentialBuckets(0.001, 2, 15), StabilityLevel: metrics.ALPHA,
		}),
	}
	legacyregistry.MustRegister(m.syncs, m.duration)
	return m
}

// Observe counts a sync that started at start and ended with err.
func (m *SyncMetrics) Observe(start time.Time, err error) {
	m.duration.Observe(time.Since(start).Seconds())
	m.syncs.WithLabelValues(Result(err)).Inc()
}

// Result is the result label of an operation that ended with err.
func Result(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}
