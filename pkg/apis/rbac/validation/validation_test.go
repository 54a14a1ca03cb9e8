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
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// summarize lists errors as "<type> <field>", sorted, for comparison.
func summarize(errs field.ErrorList) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, string(e.Type)+" "+e.Field)
	}
	slices.Sort(out)
	return out
}

func check(t *testing.T, errs field.ErrorList, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := summarize(errs); !slices.Equal(got, want) {
		t.Errorf("got errors %q, want %q; full: %v", got, want, errs.ToAggregate())
	}
}

var readPods = rbacv1.PolicyRule{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods"}}

func TestValidateRole(t *testing.T) {
	cases := []struct {
		name  string
		rules []rbacv1.PolicyRule
		want  []string
	}{
		{name: "valid", rules: []rbacv1.PolicyRule{readPods}},
		{name: "rule without verbs or resources", rules: []rbacv1.PolicyRule{{}},
			want: []string{"FieldValueRequired rules[0].verbs", "FieldValueRequired rules[0].apiGroups", "FieldValueRequired rules[0].resources"}},
		{name: "non-resource URLs in a role", rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}}},
			want: []string{"FieldValueInvalid rules[0].nonResourceURLs"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "reader", Namespace: "default", ResourceVersion: "1"}, Rules: tc.rules}
			check(t, ValidateRole(role), tc.want...)
			check(t, ValidateRoleUpdate(role, role.DeepCopy()), tc.want...)
		})
	}
}

func TestValidateClusterRole(t *testing.T) {
	cases := []struct {
		name string
		role rbacv1.ClusterRole
		want []string
	}{
		{name: "valid", role: rbacv1.ClusterRole{Rules: []rbacv1.PolicyRule{readPods,
			{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz", "/version"}}}}},
		{name: "URLs mixed with resources", role: rbacv1.ClusterRole{Rules: []rbacv1.PolicyRule{
			{Verbs: []string{"get"}, Resources: []string{"pods"}, NonResourceURLs: []string{"/healthz"}}}},
			want: []string{"FieldValueInvalid rules[0].nonResourceURLs"}},
		{name: "empty aggregation rule", role: rbacv1.ClusterRole{AggregationRule: &rbacv1.AggregationRule{}},
			want: []string{"FieldValueRequired aggregationRule.clusterRoleSelectors"}},
		{name: "namespaced", role: rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Namespace: "default"}},
			want: []string{"FieldValueForbidden metadata.namespace"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			role := tc.role.DeepCopy()
			role.Name, role.ResourceVersion = "system:aggregate-to-view", "1"
			check(t, ValidateClusterRole(role), tc.want...)
			check(t, ValidateClusterRoleUpdate(role, role.DeepCopy()), tc.want...)
		})
	}
}

func TestValidateRoleBinding(t *testing.T) {
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "reader"}
	cases := []struct {
		name     string
		ref      rbacv1.RoleRef
		subjects []rbacv1.Subject
		want     []string
	}{
		{name: "valid", ref: ref, subjects: []rbacv1.Subject{
			{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "alice@example.com"},
			{Kind: rbacv1.GroupKind, Name: "system:authenticated"},
			{Kind: rbacv1.ServiceAccountKind, Name: "builder"},
		}},
		{name: "bad role ref", ref: rbacv1.RoleRef{APIGroup: "example.com", Kind: "Policy"},
			want: []string{"FieldValueNotSupported roleRef.apiGroup", "FieldValueNotSupported roleRef.kind", "FieldValueRequired roleRef.name"}},
		{name: "bad subjects", ref: ref, subjects: []rbacv1.Subject{
			{Kind: "Robot", Name: "r2"},
			{Kind: rbacv1.UserKind, APIGroup: "example.com"},
			{Kind: rbacv1.ServiceAccountKind, APIGroup: rbacv1.GroupName, Name: "Builder"},
		}, want: []string{
			"FieldValueNotSupported subjects[0].kind",
			"FieldValueRequired subjects[1].name", "FieldValueNotSupported subjects[1].apiGroup",
			"FieldValueInvalid subjects[2].name", "FieldValueNotSupported subjects[2].apiGroup",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "read", Namespace: "default", ResourceVersion: "1"},
				RoleRef: tc.ref, Subjects: tc.subjects}
			check(t, ValidateRoleBinding(b), tc.want...)
		})
	}
}

func TestValidateClusterRoleBinding(t *testing.T) {
	b := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "admins", ResourceVersion: "1"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "ops", Namespace: "kube-system"}}}
	check(t, ValidateClusterRoleBinding(b))

	bad := b.DeepCopy()
	bad.RoleRef.Kind = "Role"
	bad.Subjects[0].Namespace = ""
	check(t, ValidateClusterRoleBinding(bad), "FieldValueNotSupported roleRef.kind", "FieldValueRequired subjects[0].namespace")
}

func TestRoleRefIsImmutable(t *testing.T) {
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "read", Namespace: "default", ResourceVersion: "1"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "reader"}}
	resubjected := rb.DeepCopy()
	resubjected.Subjects = []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "bob"}}
	check(t, ValidateRoleBindingUpdate(resubjected, rb))
	repointed := rb.DeepCopy()
	repointed.RoleRef.Kind, repointed.RoleRef.Name = "ClusterRole", "admin"
	check(t, ValidateRoleBindingUpdate(repointed, rb), "FieldValueInvalid roleRef")

	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "admins", ResourceVersion: "1"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"}}
	escalated := crb.DeepCopy()
	escalated.RoleRef.Name = "cluster-admin"
	check(t, ValidateClusterRoleBindingUpdate(escalated, crb), "FieldValueInvalid roleRef")
	check(t, ValidateClusterRoleBindingUpdate(crb.DeepCopy(), crb))
}
