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

package ipxe

import (
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

var (
	scripts = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: "arcturus", Subsystem: "metal", Name: "boot_scripts_total",
		Help: "Boot scripts served, by what they boot (agent, environment, disk) or invalid, impostor and error.", StabilityLevel: metrics.ALPHA,
	}, []string{"boot"})
	assetBytes = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: "arcturus", Subsystem: "metal", Name: "environment_asset_bytes_total",
		Help: "Bytes of Environment kernels and initrds served.", StabilityLevel: metrics.ALPHA,
	}, []string{"file"})
)

func init() {
	legacyregistry.MustRegister(scripts, assetBytes)
}
