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

package tenantquota

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	quota "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/apiserver/pkg/quota/v1/generic"
	resourcehelper "k8s.io/component-helpers/resource"

	arcv1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

// This file is the quota arithmetic of Kubernetes' ResourceQuota (its pod
// and object count evaluators and its admission check), over the superset
// Pod. Admission and the quota controller both use it, so that what is
// charged on create is what the controller later recounts.

// PodsResource is the group resource of pods.
var PodsResource = schema.GroupResource{Resource: "pods"}

// podCount is the quota name counting every pod, finished ones included;
// "pods" counts only pods that have not finished.
var podCount = ObjectCountName(PodsResource)

// podResources are the quota names pods use, besides the prefixed ones
// (hugepages, extended resources) that podResourceName recognises.
var podResources = []corev1.ResourceName{
	podCount, corev1.ResourcePods,
	corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage,
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceRequestsEphemeralStorage,
	corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceLimitsEphemeralStorage,
}

// requiredRequests are the quota names that oblige every container to state
// the resource: Kubernetes keeps this rule, which it calls a mistake, for
// compatibility, and so do we, so that manifests behave the same.
var requiredRequests = []corev1.ResourceName{
	corev1.ResourceCPU, corev1.ResourceMemory,
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory,
	corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory,
}

// legacyCounts are the core resources whose objects are also counted under
// a bare name, as ResourceQuota counts them.
var legacyCounts = map[schema.GroupResource]corev1.ResourceName{
	{Resource: "configmaps"}:             corev1.ResourceConfigMaps,
	{Resource: "secrets"}:                corev1.ResourceSecrets,
	{Resource: "services"}:               corev1.ResourceServices,
	{Resource: "persistentvolumeclaims"}: corev1.ResourcePersistentVolumeClaims,
	{Resource: "replicationcontrollers"}: corev1.ResourceReplicationControllers,
	{Resource: "resourcequotas"}:         corev1.ResourceQuotas,
}

// ObjectCountName is the quota name that counts the objects of gr:
// count/<resource> for the core group, count/<resource>.<group> otherwise.
func ObjectCountName(gr schema.GroupResource) corev1.ResourceName {
	return generic.ObjectCountQuotaResourceNameFor(gr)
}

// CountedResource returns the resource whose objects quota name counts, for
// count/<resource>[.<group>] and the legacy bare names (configmaps, ...).
func CountedResource(name corev1.ResourceName) (schema.GroupResource, bool) {
	if rest, ok := strings.CutPrefix(string(name), "count/"); ok && rest != "" {
		// Resource names have no dots; the group starts after the first.
		r, g, _ := strings.Cut(rest, ".")
		return schema.GroupResource{Group: g, Resource: r}, true
	}
	for gr, legacy := range legacyCounts {
		if legacy == name {
			return gr, true
		}
	}
	return schema.GroupResource{}, false
}

// IsPodResource tells whether quota name is computed from pods: their
// number, requests and limits, but not count/pods, which counts objects.
func IsPodResource(name corev1.ResourceName) bool {
	if name == podCount {
		return false
	}
	return slices.Contains(podResources, name) || isPrefixedPodResource(name)
}

// isPrefixedPodResource recognises hugepages-*, requests.hugepages-* and
// requests.<extended resource>.
func isPrefixedPodResource(name corev1.ResourceName) bool {
	s := string(name)
	if strings.HasPrefix(s, corev1.ResourceHugePagesPrefix) || strings.HasPrefix(s, corev1.ResourceRequestsHugePagesPrefix) {
		return true
	}
	rest, ok := strings.CutPrefix(s, corev1.DefaultResourceRequestsPrefix)
	return ok && isExtendedResource(corev1.ResourceName(rest))
}

// isExtendedResource tells whether a resource is neither native nor
// prefixed for quota: example.com/gpu.
func isExtendedResource(name corev1.ResourceName) bool {
	s := string(name)
	return strings.Contains(s, "/") && !strings.Contains(s, "kubernetes.io/") &&
		!strings.HasPrefix(s, corev1.DefaultResourceRequestsPrefix)
}

// MatchingResources returns the names of hard that the objects of gr use:
// what creating one of them must be checked against.
func MatchingResources(gr schema.GroupResource, hard corev1.ResourceList) []corev1.ResourceName {
	var out []corev1.ResourceName
	legacy, hasLegacy := legacyCounts[gr]
	for name := range hard {
		switch {
		case name == ObjectCountName(gr),
			hasLegacy && name == legacy,
			gr == PodsResource && IsPodResource(name):
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// Usage is what one object of gr adds to a tenant's usage: one of its kind,
// and for a pod what PodUsage counts.
func Usage(gr schema.GroupResource, obj runtime.Object, now time.Time) corev1.ResourceList {
	out := corev1.ResourceList{ObjectCountName(gr): *resource.NewQuantity(1, resource.DecimalSI)}
	if legacy, ok := legacyCounts[gr]; ok {
		out[legacy] = *resource.NewQuantity(1, resource.DecimalSI)
	}
	if pod, ok := obj.(*arcv1.Pod); ok && gr == PodsResource {
		out = quota.Add(out, PodUsage(pod, now))
	}
	return out
}

// PodUsage is what a pod takes of compute quota: "pods" and its requests
// and limits. A finished pod takes nothing, and neither does one whose
// deletion grace period is over (a lost node may keep it around), as in
// Kubernetes; such pods still count in count/pods.
func PodUsage(pod *arcv1.Pod, now time.Time) corev1.ResourceList {
	if !Charged(pod, now) {
		return corev1.ResourceList{}
	}
	return podComputeUsage(pod.Requests(), PodLimits(pod))
}

// Charged tells whether a pod still takes compute quota.
func Charged(pod *arcv1.Pod, now time.Time) bool {
	if phase := pod.Status.Phase; phase == corev1.PodSucceeded || phase == corev1.PodFailed {
		return false
	}
	if pod.DeletionTimestamp != nil && pod.DeletionGracePeriodSeconds != nil {
		grace := time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
		if now.After(pod.DeletionTimestamp.Add(grace)) {
			return false
		}
	}
	return true
}

// PodLimits are the limits of a pod the way (*Pod).Requests gives its
// requests: Kubernetes' sum over containers, or the VM's limits, plus
// overhead for each resource that has a limit.
func PodLimits(p *arcv1.Pod) corev1.ResourceList {
	vm := p.Spec.VirtualMachine
	if vm == nil {
		return resourcehelper.PodLimits(&corev1.Pod{Spec: p.Spec.PodSpec}, resourcehelper.PodResourcesOptions{})
	}
	out := corev1.ResourceList{}
	for name, limit := range vm.Resources.Limits {
		q := limit.DeepCopy()
		if overhead, ok := p.Spec.Overhead[name]; ok && !q.IsZero() {
			q.Add(overhead)
		}
		out[name] = q
	}
	return out
}

// podComputeUsage maps requests and limits to quota names: requests.cpu
// (and its alias cpu), limits.cpu, the same for memory and ephemeral
// storage, hugepages and requests of extended resources.
func podComputeUsage(requests, limits corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{corev1.ResourcePods: *resource.NewQuantity(1, resource.DecimalSI)}
	for _, r := range []struct{ resource, alias, request, limit corev1.ResourceName }{
		{corev1.ResourceCPU, corev1.ResourceCPU, corev1.ResourceRequestsCPU, corev1.ResourceLimitsCPU},
		{corev1.ResourceMemory, corev1.ResourceMemory, corev1.ResourceRequestsMemory, corev1.ResourceLimitsMemory},
		{corev1.ResourceEphemeralStorage, corev1.ResourceEphemeralStorage, corev1.ResourceRequestsEphemeralStorage, corev1.ResourceLimitsEphemeralStorage},
	} {
		if q, ok := requests[r.resource]; ok {
			out[r.alias] = q.DeepCopy()
			out[r.request] = q.DeepCopy()
		}
		if q, ok := limits[r.resource]; ok {
			out[r.limit] = q.DeepCopy()
		}
	}
	for name, q := range requests {
		if strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix) {
			out[name] = q.DeepCopy()
		}
		if strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix) || isExtendedResource(name) {
			out[corev1.DefaultResourceRequestsPrefix+name] = q.DeepCopy()
		}
	}
	return out
}

// PodConstraints refuses a pod that leaves out a request or limit the quota
// limits (cpu, memory and their requests. and limits. names), naming the
// containers, in Kubernetes' words: "must specify requests.cpu for: web".
// Pod-level resources, when set, stand for the containers', as in
// Kubernetes.
func PodConstraints(pod *arcv1.Pod, limited []corev1.ResourceName) error {
	var required []corev1.ResourceName
	for _, name := range limited {
		if slices.Contains(requiredRequests, name) {
			required = append(required, name)
		}
	}
	if len(required) == 0 || resourcehelper.IsPodLevelResourcesSet(&corev1.Pod{Spec: pod.Spec.PodSpec}) {
		return nil
	}
	missing := map[corev1.ResourceName][]string{}
	check := func(name string, res corev1.ResourceRequirements) {
		have := podComputeUsage(res.Requests, res.Limits)
		for _, r := range required {
			if _, ok := have[r]; !ok && !slices.Contains(missing[r], name) {
				missing[r] = append(missing[r], name)
			}
		}
	}
	if vm := pod.Spec.VirtualMachine; vm != nil {
		// A VM's limits stand in for requests it does not give.
		requests := vm.Resources.Requests.DeepCopy()
		for name, q := range vm.Resources.Limits {
			if _, ok := requests[name]; !ok {
				if requests == nil {
					requests = corev1.ResourceList{}
				}
				requests[name] = q.DeepCopy()
			}
		}
		check(vm.Name, corev1.ResourceRequirements{Requests: requests, Limits: vm.Resources.Limits})
	}
	for _, c := range pod.Spec.Containers {
		check(c.Name, c.Resources)
	}
	for _, c := range pod.Spec.InitContainers {
		check(c.Name, c.Resources)
	}
	if len(missing) == 0 {
		return nil
	}
	parts := make([]string, 0, len(missing))
	for _, r := range slices.Sorted(maps.Keys(missing)) {
		names := missing[r]
		slices.Sort(names)
		parts = append(parts, fmt.Sprintf("%s for: %s", r, strings.Join(names, ",")))
	}
	return fmt.Errorf("must specify %s", strings.Join(parts, "; "))
}

// Charge adds delta to used where hard limits it and returns the new usage,
// or, if that goes over hard anywhere, Kubernetes' refusal: "exceeded
// quota: <name>, requested: ..., used: ..., limited: ...", naming only the
// resources that do not fit.
func Charge(name string, hard, used, delta corev1.ResourceList) (corev1.ResourceList, error) {
	requested := quota.Mask(delta, quota.ResourceNames(hard))
	newUsed := quota.Add(used, requested)
	if ok, exceeded := quota.LessThanOrEqual(quota.Mask(newUsed, quota.ResourceNames(requested)), hard); !ok {
		return nil, fmt.Errorf("exceeded quota: %s, requested: %s, used: %s, limited: %s", name,
			PrettyPrint(quota.Mask(requested, exceeded)), PrettyPrint(quota.Mask(used, exceeded)), PrettyPrint(quota.Mask(hard, exceeded)))
	}
	return newUsed, nil
}

// PrettyPrint prints a resource list as Kubernetes' quota messages do:
// name=quantity, sorted by name, comma-separated.
func PrettyPrint(list corev1.ResourceList) string {
	parts := make([]string, 0, len(list))
	for _, name := range slices.Sorted(maps.Keys(list)) {
		q := list[name]
		parts = append(parts, string(name)+"="+q.String())
	}
	return strings.Join(parts, ",")
}
