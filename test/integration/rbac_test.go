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

package integration

import (
	"context"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arcturus-cloud/arcturus/test/framework"
)

// TestRBACEscalation checks that, inside a tenant, RBAC is no way up: an
// identity that may write roles and bindings can grant only what it holds,
// unless it may escalate or bind explicitly. The built-in ClusterRoles are
// bindable like stored ones.
func TestRBACEscalation(t *testing.T) {
	s := framework.StartServer(t)
	s.CreateTenant(t, acme)
	ctx := context.Background()
	ns := metav1.NamespaceDefault
	admin := typed(t, s.TenantAdmin(t, acme, user)).RbacV1()
	bob := typed(t, s.TenantConfig(acme, "bob")).RbacV1()

	podsRule := rbacv1.PolicyRule{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods"}}
	secretsRule := rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"secrets"}}
	manager := rbacv1.PolicyRule{Verbs: []string{"create", "update"}, APIGroups: []string{rbacv1.GroupName}, Resources: []string{"roles", "rolebindings"}}
	role := func(name string, rules ...rbacv1.PolicyRule) *rbacv1.Role {
		return &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Rules: rules}
	}
	binding := func(name, kind, roleName, subject string) *rbacv1.RoleBinding {
		return &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: roleName},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: subject}},
		}
	}

	// The tenant admin (cluster-admin) makes bob a role manager who may read pods.
	if _, err := admin.Roles(ns).Create(ctx, role("manager", manager, podsRule), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RoleBindings(ns).Create(ctx, binding("bob-manager", "Role", "manager", "bob"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, lifecycleTimeout, "bob's binding in the RBAC cache", func(ctx context.Context) error {
		_, err := bob.Roles(ns).Create(ctx, role("pod-reader", podsRule), metav1.CreateOptions{})
		return err
	})

	_, err := bob.Roles(ns).Create(ctx, role("secret-reader", secretsRule), metav1.CreateOptions{})
	expectCode(t, err, 403)
	_, err = bob.RoleBindings(ns).Create(ctx, binding("bob-edit", "ClusterRole", "edit", "bob"), metav1.CreateOptions{})
	expectCode(t, err, 403)
	if _, err := bob.RoleBindings(ns).Create(ctx, binding("carol-reader", "Role", "pod-reader", "carol"), metav1.CreateOptions{}); err != nil {
		t.Errorf("binding a role whose rules bob holds: %v", err)
	}

	// With an explicit bind permission on the built-in edit, bob may bind it.
	bindEdit := rbacv1.PolicyRule{Verbs: []string{"bind"}, APIGroups: []string{rbacv1.GroupName}, Resources: []string{"clusterroles"}, ResourceNames: []string{"edit"}}
	if _, err := admin.Roles(ns).Create(ctx, role("edit-binder", bindEdit), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RoleBindings(ns).Create(ctx, binding("bob-edit-binder", "Role", "edit-binder", "bob"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, lifecycleTimeout, "bob binds edit", func(ctx context.Context) error {
		_, err := bob.RoleBindings(ns).Create(ctx, binding("dave-edit", "ClusterRole", "edit", "dave"), metav1.CreateOptions{})
		return err
	})
}
