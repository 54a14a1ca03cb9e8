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

package namespace

import (
	"errors"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/content"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

func TestKey(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team", Annotations: map[string]string{tenancy.Annotation: "acme"}}}
	k, err := key(ns)
	if err != nil || k != "acme/team" {
		t.Fatalf("key() = %q, %v; want acme/team", k, err)
	}
	tenant, name, err := splitKey(k)
	if err != nil || tenant != "acme" || name != "team" {
		t.Errorf("splitKey(%q) = %q, %q, %v", k, tenant, name, err)
	}
	if _, err := key(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}}); err == nil {
		t.Error("key() accepted a namespace without a tenant annotation")
	}
	for _, bad := range []string{"team", "/team", "acme/"} {
		if _, _, err := splitKey(bad); err == nil {
			t.Errorf("splitKey(%q) succeeded", bad)
		}
	}
}

func TestNewRefusesTenantAddress(t *testing.T) {
	if _, err := New(&rest.Config{Host: "https://127.0.0.1:6443/tenants/acme"}); err == nil {
		t.Error("New accepted a base config that addresses one tenant")
	}
}

func TestWithoutFinalizer(t *testing.T) {
	in := []corev1.FinalizerName{"example.com/a", corev1.FinalizerKubernetes, "example.com/b"}
	got := withoutFinalizer(in, corev1.FinalizerKubernetes)
	if want := []corev1.FinalizerName{"example.com/a", "example.com/b"}; !slices.Equal(got, want) {
		t.Errorf("withoutFinalizer() = %v, want %v", got, want)
	}
	if len(in) != 3 || in[1] != corev1.FinalizerKubernetes {
		t.Errorf("withoutFinalizer changed its input: %v", in)
	}
	if got := withoutFinalizer([]corev1.FinalizerName{corev1.FinalizerKubernetes}, corev1.FinalizerKubernetes); len(got) != 0 {
		t.Errorf("withoutFinalizer() = %v, want none", got)
	}
}

func condition(status *corev1.NamespaceStatus, typ corev1.NamespaceConditionType) corev1.NamespaceCondition {
	for _, c := range status.Conditions {
		if c.Type == typ {
			return c
		}
	}
	return corev1.NamespaceCondition{}
}

func TestConditions(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	t1 := metav1.NewTime(t0.Add(time.Minute))
	t2 := metav1.NewTime(t0.Add(2 * time.Minute))
	pods := content.Counts{schema.GroupResource{Resource: "pods"}: 2}
	status := &corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}

	if !setConditions(status, conditions(nil, errors.New("deleting pods: boom"), pods), t0) {
		t.Fatal("first conditions reported no change")
	}
	if c := condition(status, corev1.NamespaceContentRemaining); c.Status != corev1.ConditionTrue || c.Reason != "SomeResourcesRemain" ||
		c.Message != "Some resources are remaining: pods has 2 resource instances" || !c.LastTransitionTime.Equal(&t0) {
		t.Errorf("content remaining = %+v", c)
	}
	if c := condition(status, corev1.NamespaceDeletionContentFailure); c.Status != corev1.ConditionTrue || c.Reason != "ContentDeletionFailed" {
		t.Errorf("content failure = %+v", c)
	}
	if c := condition(status, corev1.NamespaceDeletionDiscoveryFailure); c.Status != corev1.ConditionFalse || c.Reason != "ResourcesDiscovered" {
		t.Errorf("discovery failure = %+v", c)
	}

	if setConditions(status, conditions(nil, errors.New("deleting pods: boom"), pods), t1) {
		t.Error("the same conditions reported a change")
	}

	// Fewer objects: same status, so the transition time stays.
	pods[schema.GroupResource{Resource: "pods"}] = 1
	if !setConditions(status, conditions(nil, nil, pods), t1) {
		t.Fatal("new message reported no change")
	}
	if c := condition(status, corev1.NamespaceContentRemaining); !c.LastTransitionTime.Equal(&t0) || c.Message != "Some resources are remaining: pods has 1 resource instances" {
		t.Errorf("content remaining = %+v; want message updated, transition time kept", c)
	}
	if c := condition(status, corev1.NamespaceDeletionContentFailure); c.Status != corev1.ConditionFalse || !c.LastTransitionTime.Equal(&t1) {
		t.Errorf("content failure = %+v; want false since t1", c)
	}

	if !setConditions(status, conditions(nil, nil, content.Counts{}), t2) {
		t.Fatal("emptied namespace reported no change")
	}
	if c := condition(status, corev1.NamespaceContentRemaining); c.Status != corev1.ConditionFalse || c.Reason != "ContentRemoved" || !c.LastTransitionTime.Equal(&t2) {
		t.Errorf("content remaining = %+v; want ContentRemoved since t2", c)
	}
	if len(status.Conditions) != 3 {
		t.Errorf("got %d conditions, want 3", len(status.Conditions))
	}
}
