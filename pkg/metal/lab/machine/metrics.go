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

package machine

import (
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

var (
	powerOperations = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: "arcturus", Subsystem: "metal_lab", Name: "power_operations_total",
		Help:           "Power operations on lab machines (on, off, shutdown, reset), through their BMCs or directly, by result.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"operation", "result"})
	redfishRequests = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: "arcturus", Subsystem: "metal_lab", Name: "redfish_requests_total",
		Help:           "Requests to the emulated Redfish BMCs of lab machines, by method and status code.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"method", "code"})
)

func init() { legacyregistry.MustRegister(powerOperations, redfishRequests) }

// countOperation counts an operation once it has returned *err.
func countOperation(op string, err *error) {
	result := "ok"
	if *err != nil {
		result = "error"
	}
	powerOperations.WithLabelValues(op, result).Inc()
}
