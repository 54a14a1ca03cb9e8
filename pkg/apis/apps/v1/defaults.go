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
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	arcv1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

// Defaults of kube-apiserver's apps/v1.
const (
	DefaultReplicas                = int32(1)
	DefaultRevisionHistoryLimit    = int32(10)
	DefaultProgressDeadlineSeconds = int32(600)
	DefaultMaxUnavailable          = "25%"
	DefaultMaxSurge                = "25%"
)

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	scheme.AddTypeDefaultingFunc(&Deployment{}, func(obj any) { SetDefaultsDeployment(obj.(*Deployment)) })
	scheme.AddTypeDefaultingFunc(&DeploymentList{}, func(obj any) {
		for i := range obj.(*DeploymentList).Items {
			SetDefaultsDeployment(&obj.(*DeploymentList).Items[i])
		}
	})
	scheme.AddTypeDefaultingFunc(&ReplicaSet{}, func(obj any) { SetDefaultsReplicaSet(obj.(*ReplicaSet)) })
	scheme.AddTypeDefaultingFunc(&ReplicaSetList{}, func(obj any) {
		for i := range obj.(*ReplicaSetList).Items {
			SetDefaultsReplicaSet(&obj.(*ReplicaSetList).Items[i])
		}
	})
	return nil
}

// SetDefaultsDeployment fills what kube-apiserver fills on an apps/v1
// Deployment, its pod template included.
func SetDefaultsDeployment(d *Deployment) {
	spec := &d.Spec
	if spec.Replicas == nil {
		spec.Replicas = ptr(DefaultReplicas)
	}
	strategy := &spec.Strategy
	if strategy.Type == "" {
		strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if strategy.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if strategy.RollingUpdate == nil {
			strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		if strategy.RollingUpdate.MaxUnavailable == nil {
			strategy.RollingUpdate.MaxUnavailable = ptr(intstr.FromString(DefaultMaxUnavailable))
		}
		if strategy.RollingUpdate.MaxSurge == nil {
			strategy.RollingUpdate.MaxSurge = ptr(intstr.FromString(DefaultMaxSurge))
		}
	}
	if spec.RevisionHistoryLimit == nil {
		spec.RevisionHistoryLimit = ptr(DefaultRevisionHistoryLimit)
	}
	if spec.ProgressDeadlineSeconds == nil {
		spec.ProgressDeadlineSeconds = ptr(DefaultProgressDeadlineSeconds)
	}
	SetDefaultsPodTemplateSpec(&spec.Template)
}

// SetDefaultsReplicaSet fills what kube-apiserver fills on an apps/v1
// ReplicaSet, its pod template included.
func SetDefaultsReplicaSet(rs *ReplicaSet) {
	if rs.Spec.Replicas == nil {
		rs.Spec.Replicas = ptr(DefaultReplicas)
	}
	SetDefaultsPodTemplateSpec(&rs.Spec.Template)
}

// SetDefaultsPodTemplateSpec applies the core group's pod defaults to a pod
// template (restart and DNS policy, scheduler, grace period, security
// context, container and VM defaults), so that validation sees what it sees
// for a pod. Kubernetes applies some defaults to pods only, never to
// templates: requests copied from limits and enableServiceLinks (in
// SetDefaults_Pod), priority and preemptionPolicy (priority admission). The
// template keeps those as given, so that it reads back as on Kubernetes;
// the pods made from it get them when they are created.
func SetDefaultsPodTemplateSpec(t *PodTemplateSpec) {
	spec := &t.Spec
	enableServiceLinks, priority, preemptionPolicy := spec.EnableServiceLinks, spec.Priority, spec.PreemptionPolicy
	initResources, resources := containerResources(spec.InitContainers), containerResources(spec.Containers)

	pod := arcv1.Pod{Spec: *spec}
	arcv1.SetDefaultsPod(&pod)
	*spec = pod.Spec

	spec.EnableServiceLinks, spec.Priority, spec.PreemptionPolicy = enableServiceLinks, priority, preemptionPolicy
	restoreContainerResources(spec.InitContainers, initResources)
	restoreContainerResources(spec.Containers, resources)
}

// containerResources copies the resources of each container.
func containerResources(containers []corev1.Container) []corev1.ResourceRequirements {
	out := make([]corev1.ResourceRequirements, len(containers))
	for i := range containers {
		containers[i].Resources.DeepCopyInto(&out[i])
	}
	return out
}

func restoreContainerResources(containers []corev1.Container, saved []corev1.ResourceRequirements) {
	for i := range containers {
		containers[i].Resources = saved[i]
	}
}

func ptr[T any](v T) *T { return &v }
