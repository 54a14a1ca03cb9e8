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

import (
	corev1 "k8s.io/api/core/v1"
	resourcehelper "k8s.io/component-helpers/resource"
)

// Requests returns what the pod asks of a node: for containers, what
// Kubernetes counts (the larger of the init containers' peak and the sum of
// the containers, plus overhead); for a VM, its resources' requests, with
// limits standing in for requests that are not given.
func (p *Pod) Requests() corev1.ResourceList {
	if vm := p.Spec.VirtualMachine; vm != nil {
		out := corev1.ResourceList{}
		for name, q := range vm.Resources.Limits {
			out[name] = q.DeepCopy()
		}
		for name, q := range vm.Resources.Requests {
			out[name] = q.DeepCopy()
		}
		for name, q := range p.Spec.Overhead {
			sum := out[name]
			sum.Add(q)
			out[name] = sum
		}
		return out
	}
	return resourcehelper.PodRequests(&corev1.Pod{Spec: p.Spec.PodSpec}, resourcehelper.PodResourcesOptions{})
}
