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

package rbac

import (
	"context"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// bootstrapTenant returns a tenant's bootstrap RBAC, as the server would
// store it, plus namespace bindings of admin, edit and view.
func bootstrapTenant(tenant tenancy.Name) []runtime.Object {
	var objs []runtime.Object
	for _, r := range BuiltinClusterRoles() {
		r.Annotations = map[string]string{tenancy.Annotation: string(tenant)}
		objs = append(objs, &r)
	}
	for _, b := range BootstrapClusterRoleBindings(tenant) {
		b.Annotations = map[string]string{tenancy.Annotation: string(tenant)}
		objs = append(objs, &b)
	}
	return append(objs,
		roleBinding(tenant, "ns1", "admins", clusterRoleRef(AdminRole), userSubject("ada")),
		roleBinding(tenant, "ns1", "editors", clusterRoleRef(EditRole), userSubject("ed")),
		roleBinding(tenant, "ns1", "viewers", clusterRoleRef(ViewRole), userSubject("vi")),
	)
}

func TestBootstrapRoles(t *testing.T) {
	var (
		tenantAdmin      = identity(acme, "root", tenancy.AdminsGroup)
		otherTenantAdmin = identity(globex, "root", tenancy.AdminsGroup)
		admin            = identity(acme, "ada")
		editor           = identity(acme, "ed")
		viewer           = identity(acme, "vi")
	)
	tests := []struct {
		name  string
		attrs authorizer.AttributesRecord
		want  authorizer.Decision
	}{
		{"tenant admin deletes anything", resourceRequest(tenantAdmin, "delete", "", "", "namespaces", "", "ns1"), authorizer.DecisionAllow},
		{"tenant admin escalates", resourceRequest(tenantAdmin, "escalate", "", rbacv1.GroupName, "clusterroles", "", "x"), authorizer.DecisionAllow},
		{"tenant admin reads any URL", nonResourceRequest(tenantAdmin, "get", "/metrics"), authorizer.DecisionAllow},
		{"admins group of a tenant without bootstrap RBAC", resourceRequest(otherTenantAdmin, "get", "ns1", "", "pods", "", "p"), authorizer.DecisionNoOpinion},

		{"view reads pods", resourceRequest(viewer, "list", "ns1", "", "pods", "", ""), authorizer.DecisionAllow},
		{"view reads logs", resourceRequest(viewer, "get", "ns1", "", "pods", "log", "p"), authorizer.DecisionAllow},
		{"view reads deployments", resourceRequest(viewer, "watch", "ns1", "apps", "deployments", "", ""), authorizer.DecisionAllow},
		{"view reads deployment status", resourceRequest(viewer, "get", "ns1", "apps", "deployments", "status", "d"), authorizer.DecisionAllow},
		{"view reads deployment scale", resourceRequest(viewer, "get", "ns1", "apps", "deployments", "scale", "d"), authorizer.DecisionAllow},
		{"view reads replica sets", resourceRequest(viewer, "list", "ns1", "apps", "replicasets", "", ""), authorizer.DecisionAllow},
		{"view reads replica set scale", resourceRequest(viewer, "get", "ns1", "apps", "replicasets", "scale", "r"), authorizer.DecisionAllow},
		{"view reads replica set status", resourceRequest(viewer, "get", "ns1", "apps", "replicasets", "status", "r"), authorizer.DecisionAllow},
		{"view does not scale", resourceRequest(viewer, "patch", "ns1", "apps", "deployments", "scale", "d"), authorizer.DecisionNoOpinion},
		{"view does not write deployments", resourceRequest(viewer, "update", "ns1", "apps", "deployments", "", "d"), authorizer.DecisionNoOpinion},
		{"view reads jobs", resourceRequest(viewer, "get", "ns1", "batch", "jobs", "", "j"), authorizer.DecisionAllow},
		{"view reads leases", resourceRequest(viewer, "get", "ns1", "coordination.k8s.io", "leases", "", "l"), authorizer.DecisionAllow},
		{"view does not read secrets", resourceRequest(viewer, "get", "ns1", "", "secrets", "", "s"), authorizer.DecisionNoOpinion},
		{"view does not write", resourceRequest(viewer, "create", "ns1", "", "configmaps", "", ""), authorizer.DecisionNoOpinion},
		{"view only in its namespace", resourceRequest(viewer, "list", "ns2", "", "pods", "", ""), authorizer.DecisionNoOpinion},

		{"edit reads", resourceRequest(editor, "get", "ns1", "", "services", "", "s"), authorizer.DecisionAllow},
		{"edit creates pods", resourceRequest(editor, "create", "ns1", "", "pods", "", ""), authorizer.DecisionAllow},
		{"edit execs", resourceRequest(editor, "create", "ns1", "", "pods", "exec", "p"), authorizer.DecisionAllow},
		{"edit reads secrets", resourceRequest(editor, "get", "ns1", "", "secrets", "", "s"), authorizer.DecisionAllow},
		{"edit writes secrets", resourceRequest(editor, "update", "ns1", "", "secrets", "", "s"), authorizer.DecisionAllow},
		{"edit scales deployments", resourceRequest(editor, "patch", "ns1", "apps", "deployments", "scale", "d"), authorizer.DecisionAllow},
		{"edit creates deployments", resourceRequest(editor, "create", "ns1", "apps", "deployments", "", ""), authorizer.DecisionAllow},
		{"edit updates deployments", resourceRequest(editor, "update", "ns1", "apps", "deployments", "", "d"), authorizer.DecisionAllow},
		{"edit deletes replica sets", resourceRequest(editor, "delete", "ns1", "apps", "replicasets", "", "r"), authorizer.DecisionAllow},
		{"edit scales replica sets", resourceRequest(editor, "update", "ns1", "apps", "replicasets", "scale", "r"), authorizer.DecisionAllow},
		{"edit reads deployment status", resourceRequest(editor, "get", "ns1", "apps", "deployments", "status", "d"), authorizer.DecisionAllow},
		{"edit does not write deployment status", resourceRequest(editor, "update", "ns1", "apps", "deployments", "status", "d"), authorizer.DecisionNoOpinion},
		{"edit does not write replica set status", resourceRequest(editor, "patch", "ns1", "apps", "replicasets", "status", "r"), authorizer.DecisionNoOpinion},
		{"edit does not change quotas", resourceRequest(editor, "update", "ns1", "", "resourcequotas", "", "q"), authorizer.DecisionNoOpinion},
		{"edit does not grant", resourceRequest(editor, "create", "ns1", rbacv1.GroupName, "rolebindings", "", ""), authorizer.DecisionNoOpinion},

		{"admin edits", resourceRequest(admin, "delete", "ns1", "apps", "statefulsets", "", "s"), authorizer.DecisionAllow},
		{"admin scales deployments", resourceRequest(admin, "patch", "ns1", "apps", "deployments", "scale", "d"), authorizer.DecisionAllow},
		{"admin does not write deployment status", resourceRequest(admin, "update", "ns1", "apps", "deployments", "status", "d"), authorizer.DecisionNoOpinion},
		{"admin grants", resourceRequest(admin, "create", "ns1", rbacv1.GroupName, "rolebindings", "", ""), authorizer.DecisionAllow},
		{"admin defines roles", resourceRequest(admin, "update", "ns1", rbacv1.GroupName, "roles", "", "r"), authorizer.DecisionAllow},
		{"admin does not define cluster roles", resourceRequest(admin, "create", "", rbacv1.GroupName, "clusterroles", "", ""), authorizer.DecisionNoOpinion},
		{"admin is not tenant admin", resourceRequest(admin, "delete", "", "", "namespaces", "", "ns1"), authorizer.DecisionNoOpinion},
	}
	a := New(newTestSource(t, bootstrapTenant(acme)...))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason, err := a.Authorize(context.Background(), tt.attrs)
			if err != nil {
				t.Fatalf("Authorize() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("Authorize() = %v (%q), want %v", got, reason, tt.want)
			}
		})
	}
}

func TestBootstrapObjects(t *testing.T) {
	roles := BuiltinClusterRoles()
	var names []string
	for _, r := range roles {
		names = append(names, r.Name)
		for _, rule := range r.Rules {
			if slices.Contains(rule.Resources, "secrets") && r.Name == ViewRole {
				t.Errorf("view grants %v on secrets", rule.Verbs)
			}
		}
	}
	if want := []string{ClusterAdminRole, AdminRole, EditRole, ViewRole, NodeRole}; !slices.Equal(names, want) {
		t.Errorf("BuiltinClusterRoles() names = %v, want %v", names, want)
	}

	bindings := BootstrapClusterRoleBindings("acme")
	if len(bindings) != 1 {
		t.Fatalf("BootstrapClusterRoleBindings(acme) = %d bindings, want 1", len(bindings))
	}
	if system := BootstrapClusterRoleBindings(tenancy.System); len(system) != 2 || system[1].RoleRef.Name != NodeRole ||
		system[1].Subjects[0].Name != NodesGroup {
		t.Errorf("BootstrapClusterRoleBindings(system) = %+v, want the admins and the nodes binding", system)
	}
	b := bindings[0]
	wantSubject := rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: tenancy.AdminsGroup}
	wantRef := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: ClusterAdminRole}
	if b.Name != "arcturus:tenant-admins" || !slices.Equal(b.Subjects, []rbacv1.Subject{wantSubject}) || b.RoleRef != wantRef {
		t.Errorf("BootstrapClusterRoleBindings()[0] = %+v, want %q binding %v to %v", b, "arcturus:tenant-admins", wantSubject, wantRef)
	}

	// Callers get their own copies: changing one must not change the next.
	roles[3].Rules[0].Verbs[0] = "delete"
	if again := BuiltinClusterRoles(); again[3].Rules[0].Verbs[0] != "get" {
		t.Errorf("BuiltinClusterRoles() shares state between calls: view verb = %q", again[3].Rules[0].Verbs[0])
	}
}
