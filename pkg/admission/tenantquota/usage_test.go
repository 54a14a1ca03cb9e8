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
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	quota "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/utils/ptr"

	arcv1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

func list(pairs ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i < len(pairs); i += 2 {
		out[corev1.ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
	}
	return out
}

func resources(requests, limits corev1.ResourceList) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{Requests: requests, Limits: limits}
}

func containerPod(containers ...corev1.Container) *arcv1.Pod {
	return &arcv1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec:       arcv1.PodSpec{PodSpec: corev1.PodSpec{Containers: containers}},
		Status:     arcv1.PodStatus{PodStatus: corev1.PodStatus{Phase: corev1.PodPending}},
	}
}

func vmPod(res corev1.ResourceRequirements) *arcv1.Pod {
	return &arcv1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "vm1", Namespace: "default"},
		Spec:       arcv1.PodSpec{VirtualMachine: &arcv1.VirtualMachineSpec{Name: "vm", Image: "disk", Resources: res}},
	}
}

func expectList(t *testing.T, what string, got, want corev1.ResourceList) {
	t.Helper()
	if !quota.Equals(got, want) {
		t.Errorf("%s: got %s, want %s", what, PrettyPrint(got), PrettyPrint(want))
	}
}

func TestPodUsage(t *testing.T) {
	now := time.Now()
	cases := []struct {
		name string
		pod  *arcv1.Pod
		want corev1.ResourceList
	}{
		{name: "no resources", pod: containerPod(corev1.Container{Name: "a"}), want: list("pods", "1")},
		{name: "containers add up", pod: containerPod(
			corev1.Container{Name: "a", Resources: resources(list("cpu", "250m", "memory", "64Mi"), list("cpu", "500m", "memory", "128Mi"))},
			corev1.Container{Name: "b", Resources: resources(list("cpu", "750m", "ephemeral-storage", "1Gi"), list("ephemeral-storage", "2Gi"))},
		), want: list("pods", "1", "cpu", "1", "requests.cpu", "1", "limits.cpu", "500m",
			"memory", "64Mi", "requests.memory", "64Mi", "limits.memory", "128Mi",
			"ephemeral-storage", "1Gi", "requests.ephemeral-storage", "1Gi", "limits.ephemeral-storage", "2Gi")},
		{name: "hugepages and extended resources", pod: containerPod(
			corev1.Container{Name: "a", Resources: resources(list("hugepages-2Mi", "4Mi", "example.com/gpu", "1"), nil)},
		), want: list("pods", "1", "hugepages-2Mi", "4Mi", "requests.hugepages-2Mi", "4Mi", "requests.example.com/gpu", "1")},
		{name: "VM limits stand in for requests", pod: vmPod(resources(list("cpu", "2"), list("cpu", "4", "memory", "2Gi"))),
			want: list("pods", "1", "cpu", "2", "requests.cpu", "2", "limits.cpu", "4",
				"memory", "2Gi", "requests.memory", "2Gi", "limits.memory", "2Gi")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expectList(t, "usage", PodUsage(tc.pod, now), tc.want)
		})
	}
}

func TestFinishedPodsTakeNoCompute(t *testing.T) {
	now := time.Now()
	pod := containerPod(corev1.Container{Name: "a", Resources: resources(list("cpu", "1"), nil)})
	for _, phase := range []corev1.PodPhase{corev1.PodSucceeded, corev1.PodFailed} {
		finished := pod.DeepCopy()
		finished.Status.Phase = phase
		expectList(t, string(phase), PodUsage(finished, now), corev1.ResourceList{})
		// It is still an object, so count/pods counts it.
		expectList(t, string(phase)+" object", Usage(PodsResource, finished, now), list("count/pods", "1"))
	}

	deleting := pod.DeepCopy()
	deleting.DeletionTimestamp = &metav1.Time{Time: now.Add(-time.Minute)}
	deleting.DeletionGracePeriodSeconds = ptr.To[int64](30)
	expectList(t, "past its grace period", PodUsage(deleting, now), corev1.ResourceList{})
	deleting.DeletionGracePeriodSeconds = ptr.To[int64](300)
	expectList(t, "within its grace period", PodUsage(deleting, now), list("pods", "1", "cpu", "1", "requests.cpu", "1"))
}

func TestUsageOfObjects(t *testing.T) {
	now := time.Now()
	pod := containerPod(corev1.Container{Name: "a", Resources: resources(list("cpu", "1"), nil)})
	expectList(t, "pod", Usage(PodsResource, pod, now), list("count/pods", "1", "pods", "1", "cpu", "1", "requests.cpu", "1"))
	expectList(t, "config map", Usage(schema.GroupResource{Resource: "configmaps"}, nil, now), list("count/configmaps", "1", "configmaps", "1"))
	expectList(t, "deployment", Usage(schema.GroupResource{Group: "apps", Resource: "deployments"}, nil, now),
		list("count/deployments.apps", "1"))
	expectList(t, "namespace", Usage(schema.GroupResource{Resource: "namespaces"}, nil, now), list("count/namespaces", "1"))
}

func TestNames(t *testing.T) {
	for name, want := range map[corev1.ResourceName]schema.GroupResource{
		"count/configmaps":                      {Resource: "configmaps"},
		"count/deployments.apps":                {Group: "apps", Resource: "deployments"},
		"count/roles.rbac.authorization.k8s.io": {Group: "rbac.authorization.k8s.io", Resource: "roles"},
		"secrets":                               {Resource: "secrets"},
		"resourcequotas":                        {Resource: "resourcequotas"},
	} {
		if got, ok := CountedResource(name); !ok || got != want {
			t.Errorf("CountedResource(%s) = %v, %t; want %v", name, got, ok, want)
		}
	}
	for _, name := range []corev1.ResourceName{"pods", "requests.cpu", "count/", "example.com/gpu"} {
		if gr, ok := CountedResource(name); ok {
			t.Errorf("CountedResource(%s) = %v, want none", name, gr)
		}
	}
	for _, name := range []corev1.ResourceName{"pods", "cpu", "limits.memory", "requests.ephemeral-storage", "hugepages-1Gi",
		"requests.hugepages-2Mi", "requests.example.com/gpu"} {
		if !IsPodResource(name) {
			t.Errorf("IsPodResource(%s) is false", name)
		}
	}
	for _, name := range []corev1.ResourceName{"count/pods", "configmaps", "example.com/gpu", "requests.storage"} {
		if IsPodResource(name) {
			t.Errorf("IsPodResource(%s) is true", name)
		}
	}

	hard := list("pods", "3", "requests.cpu", "1", "count/configmaps", "5", "configmaps", "5", "count/pods", "10", "secrets", "1")
	for gr, want := range map[schema.GroupResource][]corev1.ResourceName{
		PodsResource:                   {"count/pods", "pods", "requests.cpu"},
		{Resource: "configmaps"}:       {"configmaps", "count/configmaps"},
		{Resource: "services"}:         nil,
		{Group: "apps", Resource: "x"}: nil,
	} {
		if got := MatchingResources(gr, hard); !slices.Equal(got, want) {
			t.Errorf("MatchingResources(%s) = %v, want %v", gr, got, want)
		}
	}
}

func TestPodConstraints(t *testing.T) {
	cases := []struct {
		name    string
		pod     *arcv1.Pod
		limited []corev1.ResourceName
		want    string
	}{
		{name: "nothing required", pod: containerPod(corev1.Container{Name: "a"}), limited: []corev1.ResourceName{"pods", "count/pods"}},
		{name: "request given", pod: containerPod(corev1.Container{Name: "a", Resources: resources(list("cpu", "1"), nil)}),
			limited: []corev1.ResourceName{"requests.cpu", "cpu"}},
		{name: "request missing", pod: containerPod(corev1.Container{Name: "web"}), limited: []corev1.ResourceName{"pods", "requests.cpu"},
			want: "must specify requests.cpu for: web"},
		{name: "several missing", pod: &arcv1.Pod{Spec: arcv1.PodSpec{PodSpec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "init"}},
			Containers: []corev1.Container{{Name: "b", Resources: resources(list("memory", "1Gi"), nil)},
				{Name: "a", Resources: resources(list("cpu", "1"), nil)}},
		}}}, limited: []corev1.ResourceName{"requests.cpu", "limits.memory", "requests.memory"},
			want: "must specify limits.memory for: a,b,init; requests.cpu for: b,init; requests.memory for: a,init"},
		{name: "pod-level resources", pod: &arcv1.Pod{Spec: arcv1.PodSpec{PodSpec: corev1.PodSpec{
			Resources:  &corev1.ResourceRequirements{Requests: list("cpu", "1")},
			Containers: []corev1.Container{{Name: "a"}},
		}}}, limited: []corev1.ResourceName{"requests.cpu"}},
		{name: "VM limit stands in for its request", pod: vmPod(resources(nil, list("cpu", "2"))),
			limited: []corev1.ResourceName{"requests.cpu", "limits.cpu"}},
		{name: "VM without memory", pod: vmPod(resources(list("cpu", "2"), nil)),
			limited: []corev1.ResourceName{"requests.memory"}, want: "must specify requests.memory for: vm"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := PodConstraints(tc.pod, tc.limited)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("got %v, want none", err)
			case tc.want != "" && (err == nil || err.Error() != tc.want):
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestCharge(t *testing.T) {
	hard := list("pods", "3", "requests.cpu", "10", "count/configmaps", "5")
	used := list("pods", "2", "requests.cpu", "9", "count/configmaps", "0")

	got, err := Charge("tenant acme", hard, used, list("pods", "1", "requests.cpu", "500m", "count/pods", "1", "cpu", "500m"))
	if err != nil {
		t.Fatalf("a pod that fits: %v", err)
	}
	// Only what the quota limits is charged.
	expectList(t, "new usage", got, list("pods", "3", "requests.cpu", "9500m", "count/configmaps", "0"))

	_, err = Charge("tenant acme", hard, used, list("pods", "1", "requests.cpu", "2"))
	if want := "exceeded quota: tenant acme, requested: requests.cpu=2, used: requests.cpu=9, limited: requests.cpu=10"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
	_, err = Charge("tenant acme", hard, list("pods", "3", "requests.cpu", "10"), list("pods", "1", "requests.cpu", "1"))
	if want := "exceeded quota: tenant acme, requested: pods=1,requests.cpu=1, used: pods=3,requests.cpu=10, limited: pods=3,requests.cpu=10"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
	// Usage over a quota lowered since does not block what the quota
	// does not limit.
	if _, err := Charge("tenant acme", list("pods", "1", "count/configmaps", "5"), list("pods", "4", "count/configmaps", "1"),
		list("count/configmaps", "1")); err != nil {
		t.Errorf("a config map under its own limit: %v", err)
	}
}
