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
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"

	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/runner"
)

var (
	syncMetrics          = runner.NewSyncMetrics("deployment_controller", "Deployment", "its replica set and status writes")
	replicaSetOperations = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: "arcturus", Subsystem: "deployment_controller", Name: "replicaset_operations_total",
		Help:           "ReplicaSet writes by operation (create, update, delete) and result (ok, error).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"operation", "result"})
)

func init() { legacyregistry.MustRegister(replicaSetOperations) }
