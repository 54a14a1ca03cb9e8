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
	"fmt"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	api "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

// updatablePodSpecFields are the spec fields a pod update may change: those
// of Kubernetes, plus the VM's power state, which is how a user drives it.
var updatablePodSpecFields = []string{
	"`spec.containers[*].image`",
	"`spec.initContainers[*].image`",
	"`spec.activeDeadlineSeconds`",
	"`spec.tolerations` (only additions to existing tolerations)",
	"`spec.terminationGracePeriodSeconds`",
	"`spec.virtualMachine.powerState`",
}

// ValidatePodUpdate checks an update of a pod's metadata and spec.
func ValidatePodUpdate(newPod, oldPod *api.Pod) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newPod.ObjectMeta, &oldPod.ObjectMeta, field.NewPath("metadata"))
	specPath := field.NewPath("spec")
	allErrs = append(allErrs, validatePodSpec(&newPod.Spec, specPath)...)

	newSpec, oldSpec := &newPod.Spec, &oldPod.Spec
	if len(newSpec.Containers) != len(oldSpec.Containers) {
		return append(allErrs, field.Forbidden(specPath.Child("containers"), "pod updates may not add or remove containers"))
	}
	if len(newSpec.InitContainers) != len(oldSpec.InitContainers) {
		return append(allErrs, field.Forbidden(specPath.Child("initContainers"), "pod updates may not add or remove containers"))
	}
	allErrs = append(allErrs, validateActiveDeadlineUpdate(newSpec.ActiveDeadlineSeconds, oldSpec.ActiveDeadlineSeconds, specPath.Child("activeDeadlineSeconds"))...)
	allErrs = append(allErrs, validateOnlyAddedTolerations(newSpec.Tolerations, oldSpec.Tolerations, specPath.Child("tolerations"))...)

	// Copy the updatable fields from the old spec; whatever still differs
	// is a forbidden change.
	munged := newSpec.DeepCopy()
	for i := range munged.Containers {
		munged.Containers[i].Image = oldSpec.Containers[i].Image
	}
	for i := range munged.InitContainers {
		munged.InitContainers[i].Image = oldSpec.InitContainers[i].Image
	}
	munged.ActiveDeadlineSeconds = oldSpec.ActiveDeadlineSeconds
	munged.Tolerations = oldSpec.Tolerations
	munged.TerminationGracePeriodSeconds = oldSpec.TerminationGracePeriodSeconds
	if munged.VirtualMachine != nil && oldSpec.VirtualMachine != nil {
		munged.VirtualMachine.PowerState = oldSpec.VirtualMachine.PowerState
	}
	if !apiequality.Semantic.DeepEqual(munged, oldSpec) {
		changed := changedFields("spec.", reflect.ValueOf(*munged), reflect.ValueOf(*oldSpec))
		allErrs = append(allErrs, field.Forbidden(specPath, fmt.Sprintf(
			"pod updates may not change fields other than %s; changed: %s",
			strings.Join(updatablePodSpecFields, ","), strings.Join(changed, ", "))))
	}
	return allErrs
}

// validateActiveDeadlineUpdate lets the deadline be set or shortened, never
// lengthened or removed, as in Kubernetes: a running deadline only gets closer.
func validateActiveDeadlineUpdate(newValue, oldValue *int64, fldPath *field.Path) field.ErrorList {
	switch {
	case newValue == nil && oldValue != nil:
		return field.ErrorList{field.Invalid(fldPath, newValue, "must not update from a positive integer to nil value")}
	case newValue != nil && oldValue != nil && *newValue > *oldValue:
		return field.ErrorList{field.Invalid(fldPath, *newValue, "must be less than or equal to previous value")}
	}
	return nil
}

// validateOnlyAddedTolerations requires every old toleration to remain, up
// to its tolerationSeconds.
func validateOnlyAddedTolerations(newTolerations, oldTolerations []corev1.Toleration, fldPath *field.Path) field.ErrorList {
	for _, old := range oldTolerations {
		found := false
		for _, t := range newTolerations {
			old.TolerationSeconds = t.TolerationSeconds
			if apiequality.Semantic.DeepEqual(old, t) {
				found = true
				break
			}
		}
		if !found {
			return field.ErrorList{field.Forbidden(fldPath, "existing toleration can not be modified except its tolerationSeconds")}
		}
	}
	return nil
}

// changedFields names the fields of two values of one struct type that
// differ, descending into inlined structs and into structs both point to,
// so that a refused update says what it tried to change.
func changedFields(prefix string, newValue, oldValue reflect.Value) []string {
	var changed []string
	t := newValue.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		nf, of := newValue.Field(i), oldValue.Field(i)
		if !f.IsExported() || apiequality.Semantic.DeepEqual(nf.Interface(), of.Interface()) {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case f.Anonymous && name == "":
			changed = append(changed, changedFields(prefix, nf, of)...)
		case f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct && !nf.IsNil() && !of.IsNil():
			changed = append(changed, changedFields(prefix+name+".", nf.Elem(), of.Elem())...)
		default:
			changed = append(changed, prefix+name)
		}
	}
	return changed
}

// ValidatePodStatusUpdate checks an update of a pod's status.
func ValidatePodStatusUpdate(newPod, oldPod *api.Pod) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newPod.ObjectMeta, &oldPod.ObjectMeta, field.NewPath("metadata"))
	statusPath := field.NewPath("status")
	if newPod.Spec.NodeName != oldPod.Spec.NodeName {
		allErrs = append(allErrs, field.Forbidden(statusPath.Child("nodeName"), "may not be changed directly"))
	}
	status, oldStatus := &newPod.Status, &oldPod.Status
	if isTerminal(oldStatus.Phase) && status.Phase != oldStatus.Phase {
		allErrs = append(allErrs, field.Forbidden(statusPath.Child("phase"),
			fmt.Sprintf("may not change from terminal phase %s", oldStatus.Phase)))
	}
	if status.NominatedNodeName != "" {
		allErrs = append(allErrs, validateDNSSubdomain(status.NominatedNodeName, statusPath.Child("nominatedNodeName"))...)
	}
	podIPs := statusIPs(status.PodIPs, func(ip corev1.PodIP) string { return ip.IP })
	hostIPs := statusIPs(status.HostIPs, func(ip corev1.HostIP) string { return ip.IP })
	allErrs = append(allErrs, validateStatusIPs(status.PodIP, podIPs, statusPath.Child("podIP"), statusPath.Child("podIPs"))...)
	allErrs = append(allErrs, validateStatusIPs(status.HostIP, hostIPs, statusPath.Child("hostIP"), statusPath.Child("hostIPs"))...)
	allErrs = append(allErrs, validateContainerStateTransition(status.ContainerStatuses, oldStatus.ContainerStatuses,
		newPod.Spec.RestartPolicy, statusPath.Child("containerStatuses"))...)
	if vmStatus := status.VirtualMachineStatus; vmStatus != nil {
		allErrs = append(allErrs, validateVirtualMachineStatus(vmStatus, newPod.Spec.VirtualMachine, statusPath.Child("virtualMachineStatus"))...)
	}
	return allErrs
}

func isTerminal(phase corev1.PodPhase) bool {
	return phase == corev1.PodSucceeded || phase == corev1.PodFailed
}

// statusIPs lists the addresses of status.podIPs or status.hostIPs.
func statusIPs[T any](ips []T, address func(T) string) []string {
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = address(ip)
	}
	return out
}

// validateStatusIPs checks the singular IP and the list of IPs a pod status
// reports for the pod or its host: valid, distinct, and the singular one
// first in the list, since clients read either.
func validateStatusIPs(ip string, ips []string, ipPath, ipsPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if ip != "" {
		allErrs = append(allErrs, validation.IsValidIP(ipPath, ip)...)
	}
	seen := map[string]bool{}
	for i, s := range ips {
		idxPath := ipsPath.Index(i)
		allErrs = append(allErrs, validation.IsValidIP(idxPath, s)...)
		if seen[s] {
			allErrs = append(allErrs, field.Duplicate(idxPath, s))
		}
		seen[s] = true
	}
	if ip != "" && len(ips) > 0 && ips[0] != ip {
		allErrs = append(allErrs, field.Invalid(ipPath, ip, fmt.Sprintf("must match %s", ipsPath.Index(0))))
	}
	return allErrs
}

// validateContainerStateTransition keeps terminated containers terminated
// unless the restart policy would restart them.
func validateContainerStateTransition(newStatuses, oldStatuses []corev1.ContainerStatus, policy corev1.RestartPolicy, fldPath *field.Path) field.ErrorList {
	if policy == corev1.RestartPolicyAlways {
		return nil
	}
	var allErrs field.ErrorList
	for i, old := range oldStatuses {
		terminated := old.State.Terminated
		if terminated == nil || (terminated.ExitCode != 0 && policy == corev1.RestartPolicyOnFailure) {
			continue
		}
		for _, s := range newStatuses {
			if s.Name == old.Name && s.State.Terminated == nil {
				allErrs = append(allErrs, field.Forbidden(fldPath.Index(i).Child("state"), "may not be transitioned to non-terminated state"))
			}
		}
	}
	return allErrs
}
