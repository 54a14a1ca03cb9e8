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
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
)

func TestValidateTenant(t *testing.T) {
	cases := []struct {
		name   string
		tenant tenancyv1.Tenant
		want   []string // "<field>: <type>" of each error, in order
	}{
		{name: "system tenant", tenant: tenancyv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "system"}}},
		{name: "system- prefix", tenant: tenancyv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "system-tools"}}},
		{name: "quota and status", tenant: tenancyv1.Tenant{
			ObjectMeta: metav1.ObjectMeta{Name: "acme"},
			Spec: tenancyv1.TenantSpec{DisplayName: "ACME Corp.", Quota: corev1.ResourceList{
				"pods": resource.MustParse("100"), "requests.cpu": resource.MustParse("64"), "count/configmaps": resource.MustParse("0"),
			}},
			Status: tenancyv1.TenantStatus{Phase: tenancyv1.TenantActive},
		}},
		{name: "name not a DNS label", tenant: tenancyv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme.corp"}},
			want: []string{"metadata.name: FieldValueInvalid"}},
		{name: "namespaced", tenant: tenancyv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme", Namespace: "default"}},
			want: []string{"metadata.namespace: FieldValueForbidden"}},
		{name: "negative quota", tenant: tenancyv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"},
			Spec: tenancyv1.TenantSpec{Quota: corev1.ResourceList{"limits.memory": resource.MustParse("-1Gi")}}},
			want: []string{"spec.quota[limits.memory]: FieldValueInvalid"}},
		{name: "bad quota name", tenant: tenancyv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"},
			Spec: tenancyv1.TenantSpec{Quota: corev1.ResourceList{"a b": resource.MustParse("1")}}},
			want: []string{"spec.quota[a b]: FieldValueInvalid"}},
		{name: "every kind of quota name", tenant: tenancyv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"},
			Spec: tenancyv1.TenantSpec{Quota: corev1.ResourceList{
				"cpu": resource.MustParse("1"), "memory": resource.MustParse("1Gi"), "limits.cpu": resource.MustParse("500m"),
				"requests.ephemeral-storage": resource.MustParse("10Gi"), "count/deployments.apps": resource.MustParse("3"),
				"configmaps": resource.MustParse("1"), "secrets": resource.MustParse("1"), "services": resource.MustParse("1"),
				"persistentvolumeclaims": resource.MustParse("1"), "replicationcontrollers": resource.MustParse("1"),
				"resourcequotas": resource.MustParse("1"), "requests.hugepages-2Mi": resource.MustParse("2Mi"),
				"example.com/gpu": resource.MustParse("2"), "requests.example.com/gpu": resource.MustParse("2"),
			}},
			Status: tenancyv1.TenantStatus{Hard: corev1.ResourceList{"pods": resource.MustParse("3")},
				Used: corev1.ResourceList{"pods": resource.MustParse("1")}},
		}},
		{name: "not a quota resource", tenant: tenancyv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"},
			Spec: tenancyv1.TenantSpec{Quota: corev1.ResourceList{"gpu": resource.MustParse("1"), "storage": resource.MustParse("1Gi")}}},
			want: []string{"spec.quota[gpu]: FieldValueInvalid", "spec.quota[storage]: FieldValueInvalid"}},
		{name: "fractional counts", tenant: tenancyv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"},
			Spec: tenancyv1.TenantSpec{Quota: corev1.ResourceList{
				"pods": resource.MustParse("1500m"), "count/configmaps": resource.MustParse("0.5"), "example.com/gpu": resource.MustParse("100m"),
			}}},
			want: []string{"spec.quota[count/configmaps]: FieldValueInvalid", "spec.quota[example.com/gpu]: FieldValueInvalid",
				"spec.quota[pods]: FieldValueInvalid"}},
		{name: "negative usage", tenant: tenancyv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"},
			Status: tenancyv1.TenantStatus{Used: corev1.ResourceList{"pods": resource.MustParse("-1")}}},
			want: []string{"status.used[pods]: FieldValueInvalid"}},
		{name: "unknown phase", tenant: tenancyv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"},
			Status: tenancyv1.TenantStatus{Phase: "Suspended"}},
			want: []string{"status.phase: FieldValueNotSupported"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tenant := tc.tenant.DeepCopy()
			tenant.ResourceVersion = "1"
			errs := ValidateTenant(tenant)
			if len(errs) != len(tc.want) {
				t.Fatalf("got %v, want %v", errs, tc.want)
			}
			for i, e := range errs {
				if got := e.Field + ": " + string(e.Type); got != tc.want[i] {
					t.Errorf("error %d is %q, want %q", i, got, tc.want[i])
				}
			}
			// Against a tenant without quota, as quota entries that
			// were stored before are not checked again.
			old := tenant.DeepCopy()
			old.Spec.Quota = nil
			if errs := ValidateTenantUpdate(tenant, old); len(errs) != len(tc.want) {
				t.Errorf("update: got %v, want %v", errs, tc.want)
			}
		})
	}
}

func TestValidateTenantUpdateName(t *testing.T) {
	old := &tenancyv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme", ResourceVersion: "1"}}
	renamed := old.DeepCopy()
	renamed.Name = "acme2"
	errs := ValidateTenantUpdate(renamed, old)
	if len(errs) != 1 || errs[0].Field != "metadata.name" {
		t.Errorf("got %v, want metadata.name immutable", errs)
	}
}

// A quota entry stored before the rules tightened does not block later
// writes, status writes included, as long as it stays as it was.
func TestValidateTenantUpdateKeepsOldQuotaNames(t *testing.T) {
	old := &tenancyv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme", ResourceVersion: "1"},
		Spec: tenancyv1.TenantSpec{Quota: corev1.ResourceList{"gpu": resource.MustParse("1")}}}
	updated := old.DeepCopy()
	updated.Status.Used = corev1.ResourceList{"gpu": resource.MustParse("0")}
	if errs := ValidateTenantUpdate(updated, old); len(errs) != 0 {
		t.Errorf("unchanged old quota name: %v", errs)
	}
	updated.Spec.Quota["gpu"] = resource.MustParse("2")
	if errs := ValidateTenantUpdate(updated, old); len(errs) != 1 || errs[0].Field != "spec.quota[gpu]" {
		t.Errorf("changed old quota name: got %v, want spec.quota[gpu] invalid", errs)
	}
}
