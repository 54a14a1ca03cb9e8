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
	"math"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	api "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

// ValidatePodName checks the name of a pod.
var ValidatePodName = apimachineryvalidation.NameIsDNSSubdomain

// ValidatePod checks a pod on creation.
func ValidatePod(pod *api.Pod) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&pod.ObjectMeta, true, ValidatePodName, field.NewPath("metadata"))
	specPath := field.NewPath("spec")
	allErrs = append(allErrs, validatePodSpec(&pod.Spec, specPath)...)
	// Ephemeral containers are added through their subresource only.
	if len(pod.Spec.EphemeralContainers) > 0 {
		allErrs = append(allErrs, field.Forbidden(specPath.Child("ephemeralContainers"), "cannot be set on create"))
	}
	return allErrs
}

// validatePodSpec checks a pod spec: exactly one workload (containers or a
// virtual machine), then each part.
func validatePodSpec(spec *api.PodSpec, fldPath *field.Path) field.ErrorList {
	allErrs := validateWorkload(spec, fldPath)

	volumes, errs := validateVolumes(spec.Volumes, fldPath.Child("volumes"))
	allErrs = append(allErrs, errs...)
	// Container names are unique across init and regular containers, because
	// statuses and logs address containers by name alone.
	names := sets.New[string]()
	allErrs = append(allErrs, validateContainers(spec.InitContainers, true, volumes, names, fldPath.Child("initContainers"))...)
	allErrs = append(allErrs, validateContainers(spec.Containers, false, volumes, names, fldPath.Child("containers"))...)
	if spec.VirtualMachine != nil {
		allErrs = append(allErrs, validateVirtualMachine(spec.VirtualMachine, fldPath.Child("virtualMachine"))...)
	}

	allErrs = append(allErrs, validateRestartPolicy(spec.RestartPolicy, fldPath.Child("restartPolicy"))...)
	allErrs = append(allErrs, validateDNSPolicy(spec, fldPath)...)
	if spec.TerminationGracePeriodSeconds != nil {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(*spec.TerminationGracePeriodSeconds, fldPath.Child("terminationGracePeriodSeconds"))...)
	}
	if spec.ActiveDeadlineSeconds != nil {
		allErrs = append(allErrs, validateActiveDeadlineSeconds(*spec.ActiveDeadlineSeconds, fldPath.Child("activeDeadlineSeconds"))...)
	}
	allErrs = append(allErrs, metav1validation.ValidateLabels(spec.NodeSelector, fldPath.Child("nodeSelector"))...)
	allErrs = append(allErrs, validateTolerations(spec.Tolerations, fldPath.Child("tolerations"))...)
	if spec.NodeName != "" {
		allErrs = append(allErrs, validateDNSSubdomain(spec.NodeName, fldPath.Child("nodeName"))...)
	}
	if spec.ServiceAccountName != "" {
		allErrs = append(allErrs, validateDNSSubdomain(spec.ServiceAccountName, fldPath.Child("serviceAccountName"))...)
	}
	if spec.Hostname != "" {
		allErrs = append(allErrs, validateDNSLabel(spec.Hostname, fldPath.Child("hostname"))...)
	}
	if spec.Subdomain != "" {
		allErrs = append(allErrs, validateDNSLabel(spec.Subdomain, fldPath.Child("subdomain"))...)
	}
	return allErrs
}

// validateWorkload requires containers or a virtual machine, not both: a VM
// pod runs no container at all, not even an init container.
func validateWorkload(spec *api.PodSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	switch {
	case spec.VirtualMachine == nil && len(spec.Containers) == 0:
		allErrs = append(allErrs, field.Required(fldPath.Child("containers"),
			"a pod must have containers or a virtualMachine"))
	case spec.VirtualMachine != nil && len(spec.Containers) > 0:
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("virtualMachine"),
			"may not be set together with containers: a pod has containers or one virtualMachine, not both"))
	}
	if spec.VirtualMachine != nil && len(spec.InitContainers) > 0 {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("initContainers"),
			"may not be set when virtualMachine is set: a virtual machine pod has no containers"))
	}
	return allErrs
}

func validateRestartPolicy(policy corev1.RestartPolicy, fldPath *field.Path) field.ErrorList {
	switch policy {
	case corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever:
		return nil
	case "":
		return field.ErrorList{field.Required(fldPath, "")}
	}
	return field.ErrorList{field.NotSupported(fldPath, policy, []corev1.RestartPolicy{
		corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever})}
}

func validateDNSPolicy(spec *api.PodSpec, fldPath *field.Path) field.ErrorList {
	policyPath := fldPath.Child("dnsPolicy")
	switch spec.DNSPolicy {
	case corev1.DNSClusterFirstWithHostNet, corev1.DNSClusterFirst, corev1.DNSDefault:
		return nil
	case corev1.DNSNone:
		// With no policy the pod's resolv.conf comes from dnsConfig alone.
		if spec.DNSConfig == nil || len(spec.DNSConfig.Nameservers) == 0 {
			return field.ErrorList{field.Required(fldPath.Child("dnsConfig", "nameservers"),
				"must provide at least one DNS nameserver when dnsPolicy is None")}
		}
		return nil
	case "":
		return field.ErrorList{field.Required(policyPath, "")}
	}
	return field.ErrorList{field.NotSupported(policyPath, spec.DNSPolicy, []corev1.DNSPolicy{
		corev1.DNSClusterFirstWithHostNet, corev1.DNSClusterFirst, corev1.DNSDefault, corev1.DNSNone})}
}

func validateActiveDeadlineSeconds(value int64, fldPath *field.Path) field.ErrorList {
	if value < 1 || value > math.MaxInt32 {
		return field.ErrorList{field.Invalid(fldPath, value, validation.InclusiveRangeError(1, math.MaxInt32))}
	}
	return nil
}

func validateTolerations(tolerations []corev1.Toleration, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, t := range tolerations {
		idxPath := fldPath.Index(i)
		if t.Key != "" {
			allErrs = append(allErrs, validateLabelKey(t.Key, idxPath.Child("key"))...)
		}
		// An empty key matches every taint, which only makes sense with Exists.
		if t.Key == "" && t.Operator != corev1.TolerationOpExists {
			allErrs = append(allErrs, field.Invalid(idxPath.Child("operator"), t.Operator,
				"operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
		}
		if t.TolerationSeconds != nil && t.Effect != corev1.TaintEffectNoExecute {
			allErrs = append(allErrs, field.Invalid(idxPath.Child("effect"), t.Effect,
				"effect must be 'NoExecute' when `tolerationSeconds` is set"))
		}
		switch t.Operator {
		case corev1.TolerationOpEqual, "":
			allErrs = append(allErrs, validateLabelValue(t.Value, idxPath.Child("value"))...)
		case corev1.TolerationOpExists:
			if t.Value != "" {
				allErrs = append(allErrs, field.Invalid(idxPath.Child("operator"), t.Operator,
					"value must be empty when `operator` is 'Exists'"))
			}
		default:
			allErrs = append(allErrs, field.NotSupported(idxPath.Child("operator"), t.Operator,
				[]corev1.TolerationOperator{corev1.TolerationOpEqual, corev1.TolerationOpExists}))
		}
		if t.Effect != "" {
			allErrs = append(allErrs, validateTaintEffect(t.Effect, idxPath.Child("effect"))...)
		}
	}
	return allErrs
}

// ValidatePodBinding checks a binding of a pod to a node.
func ValidatePodBinding(binding *corev1.Binding) field.ErrorList {
	var allErrs field.ErrorList
	targetPath := field.NewPath("target")
	if binding.Target.Kind != "" && binding.Target.Kind != "Node" {
		allErrs = append(allErrs, field.NotSupported(targetPath.Child("kind"), binding.Target.Kind, []string{"Node", "<empty>"}))
	}
	if binding.Target.Name == "" {
		allErrs = append(allErrs, field.Required(targetPath.Child("name"), ""))
	}
	return allErrs
}
