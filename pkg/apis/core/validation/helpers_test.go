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
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	api "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

// want is an expected error: its type and field, and part of its detail.
type want struct {
	typ    field.ErrorType
	field  string
	detail string
}

// expect requires errs to be exactly the wanted errors, in any order.
func expect(t *testing.T, errs field.ErrorList, wants ...want) {
	t.Helper()
	if len(errs) != len(wants) {
		t.Fatalf("got %d errors, want %d: %v", len(errs), len(wants), errs.ToAggregate())
	}
	for _, w := range wants {
		found := slices.ContainsFunc(errs, func(e *field.Error) bool {
			return e.Type == w.typ && e.Field == w.field && strings.Contains(e.Detail, w.detail)
		})
		if !found {
			t.Errorf("no %q error on %s with detail %q in: %v", w.typ, w.field, w.detail, errs.ToAggregate())
		}
	}
}

// containerPod is a valid container pod, defaulted as the server does
// before validating, with the resourceVersion of a stored pod.
func containerPod() *api.Pod {
	pod := &api.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", ResourceVersion: "1"},
		Spec: api.PodSpec{PodSpec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:  "app",
				Image: "nginx:1.27",
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 80}},
				Env:   []corev1.EnvVar{{Name: "MODE", Value: "prod"}},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")},
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
				},
				VolumeMounts: []corev1.VolumeMount{{Name: "cache", MountPath: "/cache"}},
			}},
			Volumes: []corev1.Volume{{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		}},
	}
	api.SetDefaultsPod(pod)
	return pod
}

// vmPod is a valid virtual machine pod booting from a disk image.
func vmPod() *api.Pod {
	pod := &api.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "vm1", Namespace: "default", ResourceVersion: "1"},
		Spec: api.PodSpec{VirtualMachine: &api.VirtualMachineSpec{
			Image: "registry.example.com/images/ubuntu:24.04",
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("4Gi")},
			},
			UserData: "#cloud-config\n",
		}},
	}
	api.SetDefaultsPod(pod)
	return pod
}
