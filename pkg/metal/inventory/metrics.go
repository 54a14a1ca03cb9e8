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

package inventory

import (
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

var (
	registrations = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: "arcturus", Subsystem: "metal", Name: "agent_registrations_total",
		Help: "Agent registrations by outcome (created, updated, malformed, invalid, impostor, error).", StabilityLevel: metrics.ALPHA,
	}, []string{"outcome"})
	heartbeats = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: "arcturus", Subsystem: "metal", Name: "agent_heartbeats_total",
		Help: "Agent heartbeats by outcome (ok, unknown, malformed, invalid, impostor, error).", StabilityLevel: metrics.ALPHA,
	}, []string{"outcome"})
)

func init() {
	legacyregistry.MustRegister(registrations, heartbeats)
}
