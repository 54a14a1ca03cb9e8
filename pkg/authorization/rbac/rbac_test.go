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
	"errors"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

const (
	acme   tenancy.Name = "acme"
	globex tenancy.Name = "globex"
)

// twoTenants returns RBAC objects of acme, globex and the system tenant that
// share names but grant different rights, so that any leak between tenants
// shows up as a wrong decision.
func twoTenants() []runtime.Object {
	return []runtime.Object{
		// acme
		clusterRole(acme, "reader", rbacv1.PolicyRule{Verbs: []string{"get", "list", "watch"}, APIGroups: []string{""}, Resources: []string{"pods"}}),
		clusterRole(acme, "metrics", rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/metrics"}}),
		clusterRoleBinding(acme, "readers", clusterRoleRef("reader"), groupSubject("devs")),
		clusterRoleBinding(acme, "metrics", clusterRoleRef("metrics"), userSubject("alice")),
		// acme has no superuser ClusterRole; globex does.
		// carol binds the built-in view in acme; globex defines its own view.
		roleBinding(acme, "ns4", "viewers", clusterRoleRef(ViewRole), userSubject("carol")),
		clusterRole(globex, ViewRole, rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"secrets"}}),
		roleBinding(globex, "ns4", "viewers", clusterRoleRef(ViewRole), userSubject("carol")),
		clusterRoleBinding(acme, "admins", clusterRoleRef("superuser"), userSubject("bob")),
		// A ClusterRoleBinding has no namespace to default a service account's to.
		clusterRoleBinding(acme, "sa-without-namespace", clusterRoleRef("reader"), saSubject("", "builder")),
		role(acme, "ns1", "editor",
			rbacv1.PolicyRule{Verbs: []string{"create", "update"}, APIGroups: []string{""}, Resources: []string{"configmaps"}},
			rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{"app-config"}},
			rbacv1.PolicyRule{Verbs: []string{"update"}, APIGroups: []string{""}, Resources: []string{"pods/status"}},
		),
		roleBinding(acme, "ns1", "editors", roleRef("editor"), userSubject("alice")),
		roleBinding(acme, "ns1", "builders", roleRef("editor"), saSubject("ns1", "builder"), saSubject("", "deployer")),
		roleBinding(acme, "ns2", "viewers", clusterRoleRef("reader"), userSubject("dave")),
		roleBinding(acme, "ns1", "broken", rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Group", Name: "x"}, userSubject("erin")),

		// globex: the same names, other rights.
		clusterRole(globex, "reader", rbacv1.PolicyRule{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"secrets"}}),
		clusterRole(globex, "superuser",
			rbacv1.PolicyRule{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}},
			rbacv1.PolicyRule{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}},
		),
		clusterRoleBinding(globex, "readers", clusterRoleRef("reader"), groupSubject("devs")),
		clusterRoleBinding(globex, "admins", clusterRoleRef("superuser"), userSubject("bob")),
		role(globex, "ns1", "editor", rbacv1.PolicyRule{Verbs: []string{"delete"}, APIGroups: []string{"apps"}, Resources: []string{"deployments"}}),
		roleBinding(globex, "ns1", "editors", roleRef("editor"), userSubject("alice")),

		// system: grants everything to the same names, which must not reach
		// the identities of other tenants.
		clusterRole(tenancy.System, "reader", rbacv1.PolicyRule{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}),
		clusterRoleBinding(tenancy.System, "readers", clusterRoleRef("reader"), groupSubject("devs")),
		roleBinding(tenancy.System, "ns1", "editors", clusterRoleRef("reader"), userSubject("alice")),
	}
}

func TestAuthorize(t *testing.T) {
	var (
		aliceAcme   = identity(acme, "alice", "devs")
		aliceGlobex = identity(globex, "alice", "devs")
		aliceSystem = identity("", "alice", "devs")
		bobAcme     = identity(acme, "bob")
		bobGlobex   = identity(globex, "bob")
		daveAcme    = identity(acme, "dave")
		erinAcme    = identity(acme, "erin")
		builderAcme = identity(acme, "system:serviceaccount:ns1:builder")
	)
	tests := []struct {
		name       string
		attrs      authorizer.AttributesRecord
		want       authorizer.Decision
		wantReason string // substring; "" means the reason must be empty
	}{
		// Tenant isolation.
		{
			"acme group binding", resourceRequest(aliceAcme, "get", "ns1", "", "pods", "", "p"), authorizer.DecisionAllow,
			`RBAC: allowed by ClusterRoleBinding "readers" of ClusterRole "reader" to Group "devs" in tenant "acme"`,
		},
		{"acme cluster-wide list", resourceRequest(aliceAcme, "list", "", "", "pods", "", ""), authorizer.DecisionAllow, `tenant "acme"`},
		{"globex's reader does not reach acme", resourceRequest(aliceAcme, "get", "ns1", "", "secrets", "", "s"), authorizer.DecisionNoOpinion, ""},
		{"globex's editor does not reach acme", resourceRequest(aliceAcme, "delete", "ns1", "apps", "deployments", "", "d"), authorizer.DecisionNoOpinion, ""},
		{
			"acme role binding", resourceRequest(aliceAcme, "create", "ns1", "", "configmaps", "", ""), authorizer.DecisionAllow,
			`RBAC: allowed by RoleBinding "ns1/editors" of Role "editor" to User "alice" in tenant "acme"`,
		},
		{"globex group binding", resourceRequest(aliceGlobex, "get", "ns1", "", "secrets", "", "s"), authorizer.DecisionAllow, `tenant "globex"`},
		{"acme's reader does not reach globex", resourceRequest(aliceGlobex, "get", "ns1", "", "pods", "", "p"), authorizer.DecisionNoOpinion, ""},
		{"globex role binding", resourceRequest(aliceGlobex, "delete", "ns1", "apps", "deployments", "", "d"), authorizer.DecisionAllow, `RoleBinding "ns1/editors" of Role "editor"`},
		{"acme's editor does not reach globex", resourceRequest(aliceGlobex, "create", "ns1", "", "configmaps", "", ""), authorizer.DecisionNoOpinion, ""},
		{"acme's metrics do not reach globex", nonResourceRequest(aliceGlobex, "get", "/metrics"), authorizer.DecisionNoOpinion, ""},
		{
			"roleRef resolves only in the binding's tenant", resourceRequest(bobAcme, "get", "ns1", "", "pods", "", "p"), authorizer.DecisionNoOpinion,
			`RBAC: ClusterRoleBinding "admins" of ClusterRole "superuser" to User "bob" in tenant "acme": getting ClusterRole: clusterroles.rbac.authorization.k8s.io "superuser" not found`,
		},
		{"globex superuser", resourceRequest(bobGlobex, "delete", "", "", "nodes", "", "n"), authorizer.DecisionAllow, `ClusterRoleBinding "admins" of ClusterRole "superuser"`},
		{"built-in ClusterRole", resourceRequest(identity(acme, "carol"), "list", "ns4", "", "pods", "", ""), authorizer.DecisionAllow, `ClusterRole "view"`},
		{"built-in ClusterRole grants no more than it says", resourceRequest(identity(acme, "carol"), "get", "ns4", "", "secrets", "", "s"), authorizer.DecisionNoOpinion, ""},
		{"a tenant's ClusterRole replaces the built-in one", resourceRequest(identity(globex, "carol"), "list", "ns4", "", "pods", "", ""), authorizer.DecisionNoOpinion, ""},
		{"a tenant's ClusterRole applies", resourceRequest(identity(globex, "carol"), "get", "ns4", "", "secrets", "", "s"), authorizer.DecisionAllow, `ClusterRole "view"`},
		{"system identity uses the system tenant", resourceRequest(aliceSystem, "delete", "ns9", "apps", "deployments", "", "d"), authorizer.DecisionAllow, `tenant "system"`},
		{"no user", resourceRequest(nil, "get", "ns1", "", "pods", "", "p"), authorizer.DecisionNoOpinion, ""},

		// Namespaces.
		{"role binding does not apply in another namespace", resourceRequest(aliceAcme, "create", "ns2", "", "configmaps", "", ""), authorizer.DecisionNoOpinion, ""},
		{"role binding does not apply cluster-wide", resourceRequest(aliceAcme, "create", "", "", "configmaps", "", ""), authorizer.DecisionNoOpinion, ""},
		{
			"role binding to a cluster role", resourceRequest(daveAcme, "get", "ns2", "", "pods", "", "p"), authorizer.DecisionAllow,
			`RoleBinding "ns2/viewers" of ClusterRole "reader" to User "dave" in tenant "acme"`,
		},
		{"cluster role bound in ns2 does not apply in ns1", resourceRequest(daveAcme, "get", "ns1", "", "pods", "", "p"), authorizer.DecisionNoOpinion, ""},
		{"cluster role bound in ns2 does not apply cluster-wide", resourceRequest(daveAcme, "list", "", "", "pods", "", ""), authorizer.DecisionNoOpinion, ""},

		// resourceNames and subresources through bindings.
		{"named secret", resourceRequest(aliceAcme, "get", "ns1", "", "secrets", "", "app-config"), authorizer.DecisionAllow, `RoleBinding "ns1/editors"`},
		{"other secret", resourceRequest(aliceAcme, "get", "ns1", "", "secrets", "", "db-password"), authorizer.DecisionNoOpinion, ""},
		{"subresource", resourceRequest(aliceAcme, "update", "ns1", "", "pods", "status", "p"), authorizer.DecisionAllow, `RoleBinding "ns1/editors"`},
		{"subresource rule does not grant the resource", resourceRequest(aliceAcme, "update", "ns1", "", "pods", "", "p"), authorizer.DecisionNoOpinion, ""},

		// Non-resource URLs.
		{"non-resource URL", nonResourceRequest(aliceAcme, "get", "/metrics"), authorizer.DecisionAllow, `ClusterRoleBinding "metrics"`},
		{"non-resource URL, other verb", nonResourceRequest(aliceAcme, "post", "/metrics"), authorizer.DecisionNoOpinion, ""},

		// Service accounts.
		{
			"service account with namespace", resourceRequest(builderAcme, "create", "ns1", "", "configmaps", "", ""), authorizer.DecisionAllow,
			`RoleBinding "ns1/builders" of Role "editor" to ServiceAccount "ns1/builder" in tenant "acme"`,
		},
		{
			"service account namespace defaults to the binding's", resourceRequest(identity(acme, "system:serviceaccount:ns1:deployer"), "create", "ns1", "", "configmaps", "", ""),
			authorizer.DecisionAllow, `to ServiceAccount "ns1/deployer"`,
		},
		{
			"same service account name in another tenant", resourceRequest(identity(globex, "system:serviceaccount:ns1:builder"), "create", "ns1", "", "configmaps", "", ""),
			authorizer.DecisionNoOpinion, "",
		},
		{
			"service account of another namespace", resourceRequest(identity(acme, "system:serviceaccount:ns2:builder"), "create", "ns1", "", "configmaps", "", ""),
			authorizer.DecisionNoOpinion, "",
		},
		{"service account subject without namespace in a cluster binding", resourceRequest(builderAcme, "list", "", "", "pods", "", ""), authorizer.DecisionNoOpinion, ""},

		// Bad bindings.
		{
			"unsupported roleRef kind", resourceRequest(erinAcme, "get", "ns1", "", "pods", "", "p"), authorizer.DecisionNoOpinion,
			`RBAC: RoleBinding "ns1/broken" of Group "x" to User "erin" in tenant "acme": unsupported role reference kind "Group"`,
		},
	}

	a := New(newTestSource(t, twoTenants()...))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason, err := a.Authorize(context.Background(), tt.attrs)
			if err != nil {
				t.Fatalf("Authorize() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("Authorize() = %v (%q), want %v", got, reason, tt.want)
			}
			if tt.wantReason == "" && reason != "" {
				t.Errorf("Authorize() reason = %q, want none", reason)
			}
			if !strings.Contains(reason, tt.wantReason) {
				t.Errorf("Authorize() reason = %q, want it to contain %q", reason, tt.wantReason)
			}
			if cad := a.ConditionsAwareAuthorize(context.Background(), tt.attrs); cad.IsAllow() != (tt.want == authorizer.DecisionAllow) {
				t.Errorf("ConditionsAwareAuthorize().IsAllow() = %v, want %v", cad.IsAllow(), tt.want == authorizer.DecisionAllow)
			}
		})
	}
}

func TestRulesFor(t *testing.T) {
	const (
		podsReader   = "verbs=get,list,watch groups= resources=pods names="
		metrics      = "verbs=get urls=/metrics"
		configmaps   = "verbs=create,update groups= resources=configmaps names="
		namedSecret  = "verbs=get groups= resources=secrets names=app-config"
		podStatus    = "verbs=update groups= resources=pods/status names="
		globexReader = "verbs=get,list groups= resources=secrets names="
		globexEditor = "verbs=delete groups=apps resources=deployments names="
	)
	tests := []struct {
		name           string
		user           user.Info
		namespace      string
		want           []string
		wantIncomplete bool
		wantErr        string
	}{
		{"acme user in a namespace", identity(acme, "alice", "devs"), "ns1", []string{podsReader, metrics, configmaps, namedSecret, podStatus}, false, ""},
		{"acme user cluster-wide", identity(acme, "alice", "devs"), "", []string{podsReader, metrics}, false, ""},
		{"acme user in a namespace without bindings", identity(acme, "alice", "devs"), "ns3", []string{podsReader, metrics}, false, ""},
		{"globex user with the same name", identity(globex, "alice", "devs"), "ns1", []string{globexReader, globexEditor}, false, ""},
		{"role binding to a cluster role", identity(acme, "dave"), "ns2", []string{podsReader}, false, ""},
		{"unresolvable binding", identity(acme, "bob"), "ns1", nil, true, `clusterroles.rbac.authorization.k8s.io "superuser" not found`},
		{"no user", nil, "ns1", nil, false, ""},
	}
	a := New(newTestSource(t, twoTenants()...))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resourceRules, nonResourceRules, incomplete, err := a.RulesFor(context.Background(), tt.user, tt.namespace)
			if got := describeRules(resourceRules, nonResourceRules); !slices.Equal(got, sorted(tt.want)) {
				t.Errorf("RulesFor() rules =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(sorted(tt.want), "\n"))
			}
			if incomplete != tt.wantIncomplete {
				t.Errorf("RulesFor() incomplete = %v, want %v", incomplete, tt.wantIncomplete)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("RulesFor() error = %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("RulesFor() error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// failingSource fails to list cluster role bindings, as a source backed by a
// remote store could.
type failingSource struct {
	RuleSource
}

var errUnavailable = errors.New("store unavailable")

func (failingSource) ListClusterRoleBindings(context.Context, tenancy.Name) ([]*rbacv1.ClusterRoleBinding, error) {
	return nil, errUnavailable
}

func TestSourceErrors(t *testing.T) {
	a := New(failingSource{newTestSource(t, twoTenants()...)})
	alice := identity(acme, "alice", "devs")

	// The namespace's bindings are still evaluated when listing the
	// tenant-wide ones fails.
	got, reason, err := a.Authorize(context.Background(), resourceRequest(alice, "create", "ns1", "", "configmaps", "", ""))
	if err != nil || got != authorizer.DecisionAllow {
		t.Errorf("Authorize() = %v, %q, %v; want Allow", got, reason, err)
	}

	got, reason, err = a.Authorize(context.Background(), resourceRequest(alice, "get", "ns1", "", "pods", "", "p"))
	if err != nil || got != authorizer.DecisionNoOpinion {
		t.Errorf("Authorize() = %v, %q, %v; want NoOpinion without error", got, reason, err)
	}
	if want := `RBAC: listing ClusterRoleBindings of tenant "acme": store unavailable`; reason != want {
		t.Errorf("Authorize() reason = %q, want %q", reason, want)
	}

	_, _, incomplete, err := a.RulesFor(context.Background(), alice, "ns1")
	if !incomplete || !errors.Is(err, errUnavailable) {
		t.Errorf("RulesFor() incomplete = %v, error = %v; want incomplete with %v", incomplete, err, errUnavailable)
	}
}

func TestEvaluateConditionsFailsClosed(t *testing.T) {
	for name, a := range map[string]authorizer.Authorizer{"rbac": New(newTestSource(t)), "baseline": NewBaseline()} {
		got, _, err := a.EvaluateConditions(context.Background(), authorizer.ConditionsAwareDecision{}, nil)
		if got != authorizer.DecisionDeny || !errors.Is(err, authorizer.ErrorConditionEvaluationNotSupported) {
			t.Errorf("%s: EvaluateConditions() = %v, %v; want Deny, %v", name, got, err, authorizer.ErrorConditionEvaluationNotSupported)
		}
	}
}
