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

package validation

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	api "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

// ValidatePodSpec checks a pod spec as pod creation does: exactly one
// workload (containers or a virtual machine), then each part. Kinds that
// hold a pod template (Deployments, ReplicaSets) check their template with
// it, so a template is valid exactly when the pods made from it would be.
func ValidatePodSpec(spec *api.PodSpec, fldPath *field.Path) field.ErrorList {
	return validatePodSpec(spec, fldPath)
}
