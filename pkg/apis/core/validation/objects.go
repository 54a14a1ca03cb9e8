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
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Size limits of an event's text, as Kubernetes applies them to events.k8s.io.
const (
	ReasonLengthLimit  = 128
	MessageLengthLimit = 1024
)

// standardFinalizers are the finalizer names that need no domain prefix.
var standardFinalizers = []string{
	string(corev1.FinalizerKubernetes), metav1.FinalizerOrphanDependents, metav1.FinalizerDeleteDependents,
}

// ValidateNamespace checks a namespace on creation.
func ValidateNamespace(ns *corev1.Namespace) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&ns.ObjectMeta, false, apimachineryvalidation.ValidateNamespaceName, field.NewPath("metadata"))
	finalizersPath := field.NewPath("spec", "finalizers")
	for i, f := range ns.Spec.Finalizers {
		idxPath := finalizersPath.Index(i)
		allErrs = append(allErrs, apimachineryvalidation.ValidateFinalizerName(string(f), idxPath)...)
		if !strings.Contains(string(f), "/") && !slices.Contains(standardFinalizers, string(f)) {
			allErrs = append(allErrs, field.Invalid(idxPath, f, "name is neither a standard finalizer name nor is it fully qualified"))
		}
	}
	return allErrs
}

// ValidateNamespaceUpdate checks an update of a namespace.
func ValidateNamespaceUpdate(newNS, oldNS *corev1.Namespace) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newNS.ObjectMeta, &oldNS.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, ValidateNamespace(newNS)...)
}

// ValidateServiceAccount checks a service account on creation.
func ValidateServiceAccount(sa *corev1.ServiceAccount) field.ErrorList {
	return apimachineryvalidation.ValidateObjectMeta(&sa.ObjectMeta, true, apimachineryvalidation.ValidateServiceAccountName, field.NewPath("metadata"))
}

// ValidateServiceAccountUpdate checks an update of a service account.
func ValidateServiceAccountUpdate(newSA, oldSA *corev1.ServiceAccount) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newSA.ObjectMeta, &oldSA.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, ValidateServiceAccount(newSA)...)
}

// ValidateEvent checks a core/v1 event. Unlike kube-apiserver, which checks
// sizes only on events that set eventTime, the size limits hold for every
// event, so that no client can store unbounded text.
func ValidateEvent(event *corev1.Event) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&event.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	if ns := event.InvolvedObject.Namespace; ns != "" && ns != event.Namespace {
		allErrs = append(allErrs, field.Invalid(field.NewPath("involvedObject", "namespace"), ns, "does not match event.namespace"))
	}
	if len(event.Reason) > ReasonLengthLimit {
		allErrs = append(allErrs, field.TooLong(field.NewPath("reason"), "", ReasonLengthLimit))
	}
	if len(event.Message) > MessageLengthLimit {
		allErrs = append(allErrs, field.TooLong(field.NewPath("message"), "", MessageLengthLimit))
	}
	return allErrs
}

// ValidateEventUpdate checks an update of an event.
func ValidateEventUpdate(newEvent, oldEvent *corev1.Event) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newEvent.ObjectMeta, &oldEvent.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, ValidateEvent(newEvent)...)
}
