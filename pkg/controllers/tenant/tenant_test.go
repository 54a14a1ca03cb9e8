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

package tenant

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/content"
)

func TestWithoutFinalizer(t *testing.T) {
	in := []string{"example.com/a", tenancyv1.TenantFinalizer}
	if got, want := withoutFinalizer(in, tenancyv1.TenantFinalizer), []string{"example.com/a"}; !slices.Equal(got, want) {
		t.Errorf("withoutFinalizer() = %v, want %v", got, want)
	}
	if len(in) != 2 {
		t.Errorf("withoutFinalizer changed its input: %v", in)
	}
	if got := withoutFinalizer(nil, tenancyv1.TenantFinalizer); len(got) != 0 {
		t.Errorf("withoutFinalizer(nil) = %v", got)
	}
}

func TestTenantWide(t *testing.T) {
	r := func(group, resource string, namespaced bool) content.Resource {
		return content.Resource{GroupVersionResource: schema.GroupVersionResource{Group: group, Version: "v1", Resource: resource}, Namespaced: namespaced, DeleteCollection: true}
	}
	rs := []content.Resource{
		r("", "configmaps", true),
		r("", "namespaces", false),
		r("rbac.authorization.k8s.io", "clusterrolebindings", false),
		r("rbac.authorization.k8s.io", "clusterroles", false),
		r("rbac.authorization.k8s.io", "roles", true),
	}
	var got []string
	for _, x := range tenantWide(rs) {
		got = append(got, x.GroupResource().String())
	}
	want := []string{"clusterrolebindings.rbac.authorization.k8s.io", "clusterroles.rbac.authorization.k8s.io"}
	if !slices.Equal(got, want) {
		t.Errorf("tenantWide() = %q, want %q", got, want)
	}
}

func TestUnstructuredRoundTrip(t *testing.T) {
	// Whole seconds: that is what metav1.Time keeps in JSON.
	now := metav1.Unix(1_800_000_000, 0)
	in := &tenancyv1.Tenant{
		ObjectMeta: metav1.ObjectMeta{
			Name: "acme", ResourceVersion: "7", Finalizers: []string{tenancyv1.TenantFinalizer}, DeletionTimestamp: &now,
		},
		Spec: tenancyv1.TenantSpec{DisplayName: "Acme", Quota: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("10")}},
		Status: tenancyv1.TenantStatus{Phase: tenancyv1.TenantTerminating, Conditions: []metav1.Condition{{
			Type: ConditionReady, Status: metav1.ConditionFalse, Reason: ReasonTerminating, LastTransitionTime: now,
		}}},
	}
	u, err := toUnstructured(in)
	if err != nil {
		t.Fatal(err)
	}
	if u.GetAPIVersion() != "tenancy.arcturus.io/v1" || u.GetKind() != "Tenant" {
		t.Errorf("unstructured tenant is %s %s", u.GetAPIVersion(), u.GetKind())
	}
	out, err := fromUnstructured(u)
	if err != nil {
		t.Fatal(err)
	}
	out.TypeMeta = metav1.TypeMeta{}
	if !equality.Semantic.DeepEqual(in, out) {
		t.Errorf("round trip changed the tenant:\n%+v\n%+v", in, out)
	}
}
