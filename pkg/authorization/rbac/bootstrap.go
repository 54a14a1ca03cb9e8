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
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// Names of the ClusterRoles and ClusterRoleBindings every tenant starts with.
const (
	ClusterAdminRole        = "cluster-admin"
	AdminRole               = "admin"
	EditRole                = "edit"
	ViewRole                = "view"
	TenantAdminsBindingName = "arcturus:tenant-admins"
	// NodeRole is what node agents may do; NodesGroup, the group of their
	// identities (system:node:<name>), holds it in the system tenant.
	NodeRole   = "system:node"
	NodesGroup = "system:nodes"
)

var (
	readVerbs  = []string{"get", "list", "watch"}
	writeVerbs = []string{"create", "update", "patch", "delete", "deletecollection"}
	allVerbs   = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
)

// bootstrapMeta labels the defaults the way Kubernetes labels its own, so
// that tools looking for bootstrap RBAC find them.
func bootstrapMeta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:   name,
		Labels: map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"},
	}
}

func rule(verbs []string, group string, resources ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: slices.Clone(verbs), APIGroups: []string{group}, Resources: resources}
}

// viewRules read the everyday workload kinds of a namespace. Secrets are left
// out on purpose: reading them reveals service account tokens and so the
// rights of other identities.
func viewRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		rule(readVerbs, "",
			"configmaps", "endpoints", "events", "limitranges", "namespaces", "namespaces/status",
			"persistentvolumeclaims", "persistentvolumeclaims/status", "pods", "pods/log", "pods/status",
			"replicationcontrollers", "replicationcontrollers/scale", "replicationcontrollers/status",
			"resourcequotas", "resourcequotas/status", "serviceaccounts", "services", "services/status"),
		rule(readVerbs, "apps",
			"controllerrevisions", "daemonsets", "daemonsets/status",
			"deployments", "deployments/scale", "deployments/status",
			"replicasets", "replicasets/scale", "replicasets/status",
			"statefulsets", "statefulsets/scale", "statefulsets/status"),
		rule(readVerbs, "batch", rbacv1.ResourceAll),
		rule(readVerbs, "autoscaling", "horizontalpodautoscalers", "horizontalpodautoscalers/status"),
		rule(readVerbs, "coordination.k8s.io", "leases"),
		rule(readVerbs, "discovery.k8s.io", "endpointslices"),
		rule(readVerbs, "events.k8s.io", "events"),
		rule(readVerbs, "networking.k8s.io", "ingresses", "ingresses/status", "networkpolicies"),
		rule(readVerbs, "policy", "poddisruptionbudgets", "poddisruptionbudgets/status"),
	}
}

// editRules add writes on the same kinds, and secrets. Namespaces, quotas,
// limit ranges and status subresources stay read-only: they are set by
// tenant admins or by controllers, not by the workloads' editors.
func editRules() []rbacv1.PolicyRule {
	return append(viewRules(),
		rule(readVerbs, "", "secrets"),
		rule(writeVerbs, "",
			"configmaps", "endpoints", "persistentvolumeclaims", "pods", "replicationcontrollers",
			"replicationcontrollers/scale", "secrets", "serviceaccounts", "services"),
		// kubectl exec, attach and port-forward open these with get or create.
		rule([]string{"get", "create"}, "", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "services/proxy"),
		rule([]string{"create"}, "", "pods/eviction", "serviceaccounts/token"),
		// Scale, not status: the status of a workload is its controller's.
		rule(writeVerbs, "apps",
			"daemonsets", "deployments", "deployments/rollback", "deployments/scale",
			"replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"),
		rule(writeVerbs, "batch", rbacv1.ResourceAll),
		rule(writeVerbs, "autoscaling", "horizontalpodautoscalers"),
		rule(writeVerbs, "coordination.k8s.io", "leases"),
		rule(writeVerbs, "discovery.k8s.io", "endpointslices"),
		rule(writeVerbs, "networking.k8s.io", "ingresses", "networkpolicies"),
		rule(writeVerbs, "policy", "poddisruptionbudgets"),
	)
}

// adminRules add the namespace's own RBAC, so that an admin of a namespace
// can share it. RBAC's escalation check still keeps them from granting
// rights they lack.
func adminRules() []rbacv1.PolicyRule {
	return append(editRules(),
		rule(allVerbs, rbacv1.GroupName, "roles", "rolebindings"),
		rule([]string{"create"}, "authorization.k8s.io", "localsubjectaccessreviews"),
	)
}

// BuiltinClusterRoles returns the ClusterRoles every tenant can bind without
// storing them: cluster-admin (everything), and admin, edit and view, meant
// to be bound in namespaces. A tenant's own ClusterRole of the same name
// takes their place. Each call returns fresh objects that the caller may
// modify.
func BuiltinClusterRoles() []rbacv1.ClusterRole {
	return []rbacv1.ClusterRole{
		{
			ObjectMeta: bootstrapMeta(ClusterAdminRole),
			Rules: []rbacv1.PolicyRule{
				rule([]string{rbacv1.VerbAll}, rbacv1.APIGroupAll, rbacv1.ResourceAll),
				{Verbs: []string{rbacv1.VerbAll}, NonResourceURLs: []string{rbacv1.NonResourceAll}},
			},
		},
		{ObjectMeta: bootstrapMeta(AdminRole), Rules: adminRules()},
		{ObjectMeta: bootstrapMeta(EditRole), Rules: editRules()},
		{ObjectMeta: bootstrapMeta(ViewRole), Rules: viewRules()},
		{ObjectMeta: bootstrapMeta(NodeRole), Rules: nodeRules()},
	}
}

// nodeRules let a node agent keep its Node and Lease, and run the pods bound
// to it in every tenant: read them and what they mount, write their status,
// finish their deletion and record events about them.
func nodeRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		rule([]string{"get", "list", "watch", "create", "update", "patch"}, "", "nodes"),
		rule([]string{"get", "update", "patch"}, "", "nodes/status"),
		rule([]string{"get", "list", "watch", "delete"}, "", "pods"),
		rule([]string{"get", "update", "patch"}, "", "pods/status"),
		rule(readVerbs, "", "configmaps", "secrets", "serviceaccounts"),
		rule([]string{"create"}, "", "serviceaccounts/token"),
		rule([]string{"create", "update", "patch"}, "", "events"),
		rule([]string{"create", "update", "patch"}, "events.k8s.io", "events"),
		rule([]string{"get", "list", "watch", "create", "update", "patch", "delete"}, "coordination.k8s.io", "leases"),
	}
}

// BootstrapClusterRoleBindings returns the ClusterRoleBindings a new tenant
// gets: its admins group is cluster-admin of the tenant, and in the system
// tenant the node agents hold the node role. Each call returns fresh
// objects that the caller may modify.
func BootstrapClusterRoleBindings(t tenancy.Name) []rbacv1.ClusterRoleBinding {
	bindings := []rbacv1.ClusterRoleBinding{groupBinding(TenantAdminsBindingName, tenancy.AdminsGroup, ClusterAdminRole)}
	if t == tenancy.System {
		bindings = append(bindings, groupBinding(NodeRole, NodesGroup, NodeRole))
	}
	return bindings
}

func groupBinding(name, group, role string) rbacv1.ClusterRoleBinding {
	return rbacv1.ClusterRoleBinding{
		ObjectMeta: bootstrapMeta(name),
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: group}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
	}
}

// builtinClusterRoleRules are the rules of the built-in ClusterRoles by name,
// shared by every tenant that has no ClusterRole of that name.
var builtinClusterRoleRules = func() map[string][]rbacv1.PolicyRule {
	rules := map[string][]rbacv1.PolicyRule{}
	for _, r := range BuiltinClusterRoles() {
		rules[r.Name] = r.Rules
	}
	return rules
}()
