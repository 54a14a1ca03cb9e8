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

// Package validation checks apps/v1 Deployments and ReplicaSets as
// kube-apiserver does, and their pod templates as the pods they describe:
// through the core group's pod spec validation, which demands exactly one of
// containers or a virtual machine.
//
// Validation runs after defaulting, as in Kubernetes, so replicas and the
// rolling update parameters, which the server defaults, are required here.
package validation

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	apps "github.com/arcturus-cloud/arcturus/pkg/apis/apps/v1"
	corevalidation "github.com/arcturus-cloud/arcturus/pkg/apis/core/validation"
)

// ValidateDeploymentName and ValidateReplicaSetName check object names.
var (
	ValidateDeploymentName = apimachineryvalidation.NameIsDNSSubdomain
	ValidateReplicaSetName = apimachineryvalidation.NameIsDNSSubdomain
)

// ValidateDeployment checks a deployment on creation.
func ValidateDeployment(d *apps.Deployment) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&d.ObjectMeta, true, ValidateDeploymentName, field.NewPath("metadata"))
	return append(allErrs, validateDeploymentSpec(&d.Spec, field.NewPath("spec"))...)
}

// ValidateDeploymentUpdate checks an update of a deployment. The selector
// is immutable in apps/v1: changing it would orphan the pods it selected.
func ValidateDeploymentUpdate(newD, oldD *apps.Deployment) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newD.ObjectMeta, &oldD.ObjectMeta, field.NewPath("metadata"))
	specPath := field.NewPath("spec")
	allErrs = append(allErrs, validateDeploymentSpec(&newD.Spec, specPath)...)
	return append(allErrs, apimachineryvalidation.ValidateImmutableField(newD.Spec.Selector, oldD.Spec.Selector, specPath.Child("selector"))...)
}

// ValidateDeploymentStatusUpdate checks an update of a deployment's status.
func ValidateDeploymentStatusUpdate(newD, oldD *apps.Deployment) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newD.ObjectMeta, &oldD.ObjectMeta, field.NewPath("metadata"))
	statusPath := field.NewPath("status")
	allErrs = append(allErrs, validateDeploymentStatus(&newD.Status, statusPath)...)
	// The controller names ReplicaSets after the count; going back would
	// reuse names it has already found taken.
	if oldCount := oldD.Status.CollisionCount; oldCount != nil {
		if newCount := newD.Status.CollisionCount; newCount == nil || *newCount < *oldCount {
			value := int32(0)
			if newCount != nil {
				value = *newCount
			}
			allErrs = append(allErrs, field.Invalid(statusPath.Child("collisionCount"), value, "cannot be decremented"))
		}
	}
	return allErrs
}

func validateDeploymentSpec(spec *apps.DeploymentSpec, fldPath *field.Path) field.ErrorList {
	allErrs := validateReplicas(spec.Replicas, fldPath.Child("replicas"))
	selector, errs := validateSelector(spec.Selector, fldPath.Child("selector"))
	allErrs = append(allErrs, errs...)
	if selector != nil {
		allErrs = append(allErrs, validateTemplate(&spec.Template, selector, fldPath.Child("template"))...)
	}
	allErrs = append(allErrs, validateStrategy(&spec.Strategy, fldPath.Child("strategy"))...)
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), fldPath.Child("minReadySeconds"))...)
	if spec.RevisionHistoryLimit != nil {
		// Zero keeps no old ReplicaSets, which is allowed.
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(*spec.RevisionHistoryLimit), fldPath.Child("revisionHistoryLimit"))...)
	}
	if spec.ProgressDeadlineSeconds != nil {
		deadlinePath := fldPath.Child("progressDeadlineSeconds")
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(*spec.ProgressDeadlineSeconds), deadlinePath)...)
		if *spec.ProgressDeadlineSeconds <= spec.MinReadySeconds {
			allErrs = append(allErrs, field.Invalid(deadlinePath, *spec.ProgressDeadlineSeconds, "must be greater than minReadySeconds"))
		}
	}
	return allErrs
}

var strategyTypes = []appsv1.DeploymentStrategyType{appsv1.RecreateDeploymentStrategyType, appsv1.RollingUpdateDeploymentStrategyType}

func validateStrategy(strategy *appsv1.DeploymentStrategy, fldPath *field.Path) field.ErrorList {
	switch strategy.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if strategy.RollingUpdate != nil {
			return field.ErrorList{field.Forbidden(fldPath.Child("rollingUpdate"),
				"may not be specified when strategy `type` is '"+string(appsv1.RecreateDeploymentStrategyType)+"'")}
		}
		return nil
	case appsv1.RollingUpdateDeploymentStrategyType:
		if strategy.RollingUpdate == nil {
			return field.ErrorList{field.Required(fldPath.Child("rollingUpdate"), "this should be defaulted and never be nil")}
		}
		return validateRollingUpdate(strategy.RollingUpdate, fldPath.Child("rollingUpdate"))
	}
	return field.ErrorList{field.NotSupported(fldPath.Child("type"), strategy.Type, strategyTypes)}
}

func validateRollingUpdate(ru *appsv1.RollingUpdateDeployment, fldPath *field.Path) field.ErrorList {
	unavailablePath, surgePath := fldPath.Child("maxUnavailable"), fldPath.Child("maxSurge")
	var allErrs field.ErrorList
	// Both are defaulted; nil counts as zero, as in Kubernetes' internal type.
	var maxUnavailable, maxSurge intstr.IntOrString
	if ru.MaxUnavailable != nil {
		maxUnavailable = *ru.MaxUnavailable
	}
	if ru.MaxSurge != nil {
		maxSurge = *ru.MaxSurge
	}
	allErrs = append(allErrs, validatePositiveIntOrPercent(maxUnavailable, unavailablePath)...)
	allErrs = append(allErrs, validatePositiveIntOrPercent(maxSurge, surgePath)...)
	// With neither spare pods nor unavailable ones, a rollout could not progress.
	if intOrPercentValue(maxUnavailable) == 0 && intOrPercentValue(maxSurge) == 0 {
		allErrs = append(allErrs, field.Invalid(unavailablePath, maxUnavailable, "may not be 0 when `maxSurge` is 0"))
	}
	if v, isPercent := percentValue(maxUnavailable); isPercent && v > 100 {
		allErrs = append(allErrs, field.Invalid(unavailablePath, maxUnavailable, "must not be greater than 100%"))
	}
	return allErrs
}

// validatePositiveIntOrPercent accepts a non-negative integer or a
// percentage such as "25%".
func validatePositiveIntOrPercent(v intstr.IntOrString, fldPath *field.Path) field.ErrorList {
	switch v.Type {
	case intstr.String:
		var allErrs field.ErrorList
		for _, msg := range validation.IsValidPercent(v.StrVal) {
			allErrs = append(allErrs, field.Invalid(fldPath, v, msg))
		}
		return allErrs
	case intstr.Int:
		return apimachineryvalidation.ValidateNonnegativeField(int64(v.IntValue()), fldPath)
	}
	return field.ErrorList{field.Invalid(fldPath, v, "must be an integer or percentage (e.g '5%')")}
}

func percentValue(v intstr.IntOrString) (int, bool) {
	if v.Type != intstr.String || len(validation.IsValidPercent(v.StrVal)) != 0 {
		return 0, false
	}
	n, _ := strconv.Atoi(v.StrVal[:len(v.StrVal)-1])
	return n, true
}

func intOrPercentValue(v intstr.IntOrString) int {
	if n, isPercent := percentValue(v); isPercent {
		return n
	}
	return v.IntValue()
}

const notGreaterThanReplicas = "cannot be greater than status.replicas"

func validateDeploymentStatus(status *appsv1.DeploymentStatus, fldPath *field.Path) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateNonnegativeField(status.ObservedGeneration, fldPath.Child("observedGeneration"))
	for _, f := range []struct {
		name  string
		value int32
	}{
		{"replicas", status.Replicas}, {"updatedReplicas", status.UpdatedReplicas}, {"readyReplicas", status.ReadyReplicas},
		{"availableReplicas", status.AvailableReplicas}, {"unavailableReplicas", status.UnavailableReplicas},
	} {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(f.value), fldPath.Child(f.name))...)
	}
	if status.TerminatingReplicas != nil {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(*status.TerminatingReplicas), fldPath.Child("terminatingReplicas"))...)
	}
	if status.CollisionCount != nil {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(*status.CollisionCount), fldPath.Child("collisionCount"))...)
	}
	if status.UpdatedReplicas > status.Replicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("updatedReplicas"), status.UpdatedReplicas, notGreaterThanReplicas))
	}
	if status.ReadyReplicas > status.Replicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("readyReplicas"), status.ReadyReplicas, notGreaterThanReplicas))
	}
	if status.AvailableReplicas > status.Replicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("availableReplicas"), status.AvailableReplicas, notGreaterThanReplicas))
	}
	if status.AvailableReplicas > status.ReadyReplicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("availableReplicas"), status.AvailableReplicas, "cannot be greater than readyReplicas"))
	}
	return allErrs
}

// ValidateReplicaSet checks a replica set on creation.
func ValidateReplicaSet(rs *apps.ReplicaSet) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&rs.ObjectMeta, true, ValidateReplicaSetName, field.NewPath("metadata"))
	return append(allErrs, validateReplicaSetSpec(&rs.Spec, field.NewPath("spec"))...)
}

// ValidateReplicaSetUpdate checks an update of a replica set; its selector
// is immutable, as a deployment's.
func ValidateReplicaSetUpdate(newRS, oldRS *apps.ReplicaSet) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newRS.ObjectMeta, &oldRS.ObjectMeta, field.NewPath("metadata"))
	specPath := field.NewPath("spec")
	allErrs = append(allErrs, validateReplicaSetSpec(&newRS.Spec, specPath)...)
	return append(allErrs, apimachineryvalidation.ValidateImmutableField(newRS.Spec.Selector, oldRS.Spec.Selector, specPath.Child("selector"))...)
}

// ValidateReplicaSetStatusUpdate checks an update of a replica set's status.
func ValidateReplicaSetStatusUpdate(newRS, oldRS *apps.ReplicaSet) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newRS.ObjectMeta, &oldRS.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, validateReplicaSetStatus(&newRS.Status, field.NewPath("status"))...)
}

func validateReplicaSetSpec(spec *apps.ReplicaSetSpec, fldPath *field.Path) field.ErrorList {
	allErrs := validateReplicas(spec.Replicas, fldPath.Child("replicas"))
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), fldPath.Child("minReadySeconds"))...)
	selector, errs := validateSelector(spec.Selector, fldPath.Child("selector"))
	allErrs = append(allErrs, errs...)
	if selector != nil {
		allErrs = append(allErrs, validateTemplate(&spec.Template, selector, fldPath.Child("template"))...)
	}
	return allErrs
}

func validateReplicaSetStatus(status *appsv1.ReplicaSetStatus, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, f := range []struct {
		name  string
		value int32
	}{
		{"replicas", status.Replicas}, {"fullyLabeledReplicas", status.FullyLabeledReplicas},
		{"readyReplicas", status.ReadyReplicas}, {"availableReplicas", status.AvailableReplicas},
	} {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(f.value), fldPath.Child(f.name))...)
	}
	if status.TerminatingReplicas != nil {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(*status.TerminatingReplicas), fldPath.Child("terminatingReplicas"))...)
	}
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(status.ObservedGeneration, fldPath.Child("observedGeneration"))...)
	if status.FullyLabeledReplicas > status.Replicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("fullyLabeledReplicas"), status.FullyLabeledReplicas, notGreaterThanReplicas))
	}
	if status.ReadyReplicas > status.Replicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("readyReplicas"), status.ReadyReplicas, notGreaterThanReplicas))
	}
	if status.AvailableReplicas > status.Replicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("availableReplicas"), status.AvailableReplicas, notGreaterThanReplicas))
	}
	if status.AvailableReplicas > status.ReadyReplicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("availableReplicas"), status.AvailableReplicas, "cannot be greater than readyReplicas"))
	}
	return allErrs
}

// validateReplicas requires the defaulted replica count to be non-negative.
func validateReplicas(replicas *int32, fldPath *field.Path) field.ErrorList {
	if replicas == nil {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	return apimachineryvalidation.ValidateNonnegativeField(int64(*replicas), fldPath)
}

// validateSelector requires a non-empty, valid selector and returns it
// parsed, or nil when it cannot be parsed. An empty selector would select
// every pod of the namespace.
func validateSelector(ls *metav1.LabelSelector, fldPath *field.Path) (labels.Selector, field.ErrorList) {
	if ls == nil {
		return nil, field.ErrorList{field.Required(fldPath, "")}
	}
	allErrs := metav1validation.ValidateLabelSelector(ls, metav1validation.LabelSelectorValidationOptions{}, fldPath)
	if len(ls.MatchLabels)+len(ls.MatchExpressions) == 0 {
		allErrs = append(allErrs, field.Invalid(fldPath, ls, "empty selector is invalid for deployment"))
	}
	selector, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		return nil, append(allErrs, field.Invalid(fldPath, ls, "invalid label selector"))
	}
	return selector, allErrs
}

// validateTemplate checks a workload's pod template as Kubernetes'
// ValidatePodTemplateSpecForReplicaSet does: its labels match the selector,
// its metadata and pod spec are valid, and its pods restart forever.
func validateTemplate(t *apps.PodTemplateSpec, selector labels.Selector, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if !selector.Empty() && !selector.Matches(labels.Set(t.Labels)) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("metadata", "labels"), t.Labels, "`selector` does not match template `labels`"))
	}
	allErrs = append(allErrs, metav1validation.ValidateLabels(t.Labels, fldPath.Child("labels"))...)
	allErrs = append(allErrs, apimachineryvalidation.ValidateAnnotations(t.Annotations, fldPath.Child("annotations"))...)
	specPath := fldPath.Child("spec")
	allErrs = append(allErrs, corevalidation.ValidatePodSpec(&t.Spec, specPath)...)
	// Ephemeral containers are added to running pods, never to templates.
	if len(t.Spec.EphemeralContainers) > 0 {
		allErrs = append(allErrs, field.Forbidden(specPath.Child("ephemeralContainers"), "ephemeral containers not allowed in pod template"))
	}
	// The pod spec validation has checked the policy is known; a replica
	// that exits is replaced, so only Always makes sense.
	if p := t.Spec.RestartPolicy; p != "" && p != corev1.RestartPolicyAlways {
		allErrs = append(allErrs, field.NotSupported(specPath.Child("restartPolicy"), p, []corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	if t.Spec.ActiveDeadlineSeconds != nil {
		allErrs = append(allErrs, field.Forbidden(specPath.Child("activeDeadlineSeconds"), "activeDeadlineSeconds in ReplicaSet is not Supported"))
	}
	return allErrs
}

// ValidateScale checks a Scale written through a scale subresource.
func ValidateScale(scale *autoscalingv1.Scale) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&scale.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	if scale.Spec.Replicas < 0 {
		allErrs = append(allErrs, field.Invalid(field.NewPath("spec", "replicas"), scale.Spec.Replicas, "must be greater than or equal to 0"))
	}
	return allErrs
}
