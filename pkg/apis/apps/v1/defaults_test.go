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
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	arcv1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

func TestSetDefaultsDeployment(t *testing.T) {
	limits := corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}
	d := &Deployment{Spec: DeploymentSpec{Template: PodTemplateSpec{Spec: arcv1.PodSpec{PodSpec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "c", Image: "busybox:1", Resources: corev1.ResourceRequirements{Limits: limits}}},
	}}}}}
	// Defaulting runs through the scheme, as the server's decoder does.
	scheme := runtime.NewScheme()
	if err := AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	scheme.Default(d)

	s := d.Spec
	quarter := intstr.FromString("25%")
	if *s.Replicas != 1 || *s.RevisionHistoryLimit != 10 || *s.ProgressDeadlineSeconds != 600 ||
		s.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType ||
		*s.Strategy.RollingUpdate.MaxSurge != quarter || *s.Strategy.RollingUpdate.MaxUnavailable != quarter {
		t.Errorf("spec defaults = %+v", s)
	}
	p := s.Template.Spec
	if p.RestartPolicy != corev1.RestartPolicyAlways || p.DNSPolicy != corev1.DNSClusterFirst ||
		p.SchedulerName != corev1.DefaultSchedulerName || *p.TerminationGracePeriodSeconds != 30 || p.SecurityContext == nil {
		t.Errorf("template spec defaults = %+v", p)
	}
	c := p.Containers[0]
	if c.ImagePullPolicy != corev1.PullIfNotPresent || c.TerminationMessagePath == "" || c.TerminationMessagePolicy == "" {
		t.Errorf("container defaults = %+v", c)
	}
	// What Kubernetes defaults on pods only stays as given.
	if p.EnableServiceLinks != nil || p.Priority != nil || p.PreemptionPolicy != nil || c.Resources.Requests != nil {
		t.Errorf("pod-only defaults on the template: links %v, priority %v, preemption %v, requests %v",
			p.EnableServiceLinks, p.Priority, p.PreemptionPolicy, c.Resources.Requests)
	}

	// Given values stay; Recreate gets no rolling update parameters.
	given := &Deployment{Spec: DeploymentSpec{Replicas: ptr(int32(0)), RevisionHistoryLimit: ptr(int32(0)),
		Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}}}
	SetDefaultsDeployment(given)
	if *given.Spec.Replicas != 0 || *given.Spec.RevisionHistoryLimit != 0 || given.Spec.Strategy.RollingUpdate != nil {
		t.Errorf("defaults overrode given values: %+v", given.Spec)
	}
}

func TestSetDefaultsReplicaSetTemplateVM(t *testing.T) {
	rs := &ReplicaSet{Spec: ReplicaSetSpec{Template: PodTemplateSpec{Spec: arcv1.PodSpec{
		VirtualMachine: &arcv1.VirtualMachineSpec{Image: "local/disk:1"},
	}}}}
	SetDefaultsReplicaSet(rs)
	want := &arcv1.VirtualMachineSpec{Name: arcv1.DefaultVirtualMachineName, Image: "local/disk:1",
		ImagePullPolicy: corev1.PullIfNotPresent, PowerState: arcv1.PowerStateRunning}
	if *rs.Spec.Replicas != 1 || !equality.Semantic.DeepEqual(rs.Spec.Template.Spec.VirtualMachine, want) {
		t.Errorf("defaults = replicas %d, vm %+v", *rs.Spec.Replicas, rs.Spec.Template.Spec.VirtualMachine)
	}
}
