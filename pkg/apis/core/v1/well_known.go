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

package v1

import corev1 "k8s.io/api/core/v1"

// Node condition types beyond Kubernetes' Ready, posted by the agent: one
// per runtime, so that the scheduler places VM pods only where VMs run.
const (
	NodeContainerRuntimeReady corev1.NodeConditionType = "ContainerRuntimeReady"
	NodeVMRuntimeReady        corev1.NodeConditionType = "VmRuntimeReady"
)

// Labels the agent puts on its nodes.
const (
	LabelVMRuntime     = "arcturus.io/vm-runtime"
	LabelVMAccelerator = "arcturus.io/vm-accelerator"
	LabelSimulated     = "arcturus.io/simulated"
)
