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

package deployment

import (
	"time"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

var (
	syncs = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: "arcturus", Subsystem: "deployment_controller", Name: "syncs_total",
		Help: "Deployment syncs by result (ok, error).", StabilityLevel: metrics.ALPHA,
	}, []string{"result"})
	syncDuration = metrics.NewHistogram(&metrics.HistogramOpts{
		Namespace: "arcturus", Subsystem: "deployment_controller", Name: "sync_duration_seconds",
		Help:    "Time of one Deployment sync, its replica set and status writes included.",
		Buckets: metrics.ExponentialBuckets(0.001, 2, 15), StabilityLevel: metrics.ALPHA,
	})
	replicaSetOperations = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: "arcturus", Subsystem: "deployment_controller", Name: "replicaset_operations_total",
		Help:           "ReplicaSet writes by operation (create, update, delete) and result (ok, error).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"operation", "result"})
)

func init() { legacyregistry.MustRegister(syncs, syncDuration, replicaSetOperations) }

func result(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}

func observeSync(start time.Time, err error) {
	syncDuration.Observe(time.Since(start).Seconds())
	syncs.WithLabelValues(result(err)).Inc()
}
