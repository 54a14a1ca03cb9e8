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

package tenancy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/request"
)

func tenantUser(name string, tenant Name, groups ...string) user.Info {
	return &user.DefaultInfo{Name: name, Groups: groups, Extra: map[string][]string{UserExtraKey: {string(tenant)}}}
}

func TestWithTenantPath(t *testing.T) {
	codecs := serializer.NewCodecFactory(runtime.NewScheme())
	cases := []struct {
		path       string
		wantPath   string
		wantTenant Name
		wantCode   int
	}{
		{path: "/api/v1/pods", wantPath: "/api/v1/pods", wantCode: 200},
		{path: "/tenants/acme/api/v1/namespaces/default/pods", wantPath: "/api/v1/namespaces/default/pods", wantTenant: "acme", wantCode: 200},
		{path: "/tenants/acme", wantPath: "/", wantTenant: "acme", wantCode: 200},
		{path: "/tenants/*/api/v1/pods", wantPath: "/api/v1/pods", wantTenant: Wildcard, wantCode: 200},
		{path: "/tenants/*/apis/rbac.authorization.k8s.io/v1/namespaces/x/roles", wantCode: 400},
		{path: "/tenants/Not_Valid/api", wantCode: 400},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			var gotPath string
			var gotTenant Name
			h := WithTenantPath(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotPath = r.URL.Path
				gotTenant, _ = From(r.Context())
			}), codecs)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
			if rec.Code != tc.wantCode {
				t.Fatalf("code = %d, want %d: %s", rec.Code, tc.wantCode, rec.Body)
			}
			if tc.wantCode == 200 && (gotPath != tc.wantPath || gotTenant != tc.wantTenant) {
				t.Errorf("path, tenant = %q, %q; want %q, %q", gotPath, gotTenant, tc.wantPath, tc.wantTenant)
			}
		})
	}
}

func TestFromPrefersPathOverIdentity(t *testing.T) {
	ctx := request.WithUser(context.Background(), tenantUser("alice", "acme"))
	if got, _ := From(ctx); got != "acme" {
		t.Errorf("From(identity only) = %q, want acme", got)
	}
	if got, _ := From(WithTenant(ctx, "beta")); got != "beta" {
		t.Errorf("From(path beta) = %q, want beta", got)
	}
	if _, ok := From(context.Background()); ok {
		t.Error("From(empty context) reported a tenant")
	}
	if got := OfUser(&user.DefaultInfo{Name: "no-extra"}); got != System {
		t.Errorf("identity without tenant belongs to %q, want system", got)
	}
}

func TestAuthorizerKeepsIdentitiesInTheirTenant(t *testing.T) {
	allowAll := authorizer.AuthorizerFunc(func(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
		return authorizer.DecisionAllow, "delegate", nil
	})
	noOpinion := authorizer.AuthorizerFunc(func(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
		return authorizer.DecisionNoOpinion, "", nil
	})
	alice := tenantUser("alice", "acme", "system:masters")
	root := tenantUser("root", System, user.SystemPrivilegedGroup)
	operator := tenantUser("operator", System)
	cases := []struct {
		name     string
		user     user.Info
		target   Name // "" means no path prefix
		verb     string
		group    string
		resource string
		delegate authorizer.Authorizer
		want     authorizer.Decision
	}{
		{"own tenant goes to RBAC", alice, "", "get", "", "pods", allowAll, authorizer.DecisionAllow},
		{"own tenant by prefix", alice, "acme", "list", "", "configmaps", allowAll, authorizer.DecisionAllow},
		{"another tenant is denied whatever RBAC says", alice, "beta", "get", "", "pods", allowAll, authorizer.DecisionDeny},
		{"wildcard is denied to tenants", alice, Wildcard, "list", "", "pods", allowAll, authorizer.DecisionDeny},
		{"nodes are the system tenant's", alice, "", "list", "", "nodes", allowAll, authorizer.DecisionDeny},
		{"tenants are the system tenant's", alice, "", "get", "tenancy.arcturus.io", "tenants", allowAll, authorizer.DecisionDeny},
		{"tenant identities cannot impersonate", alice, "", "impersonate", "", "users", allowAll, authorizer.DecisionDeny},
		{"system:masters of a tenant is not privileged", alice, "", "get", "", "pods", noOpinion, authorizer.DecisionNoOpinion},
		{"system masters may do anything", root, "beta", "delete", "", "pods", noOpinion, authorizer.DecisionAllow},
		{"system masters list across tenants", root, Wildcard, "watch", "", "pods", noOpinion, authorizer.DecisionAllow},
		{"nobody writes across tenants", root, Wildcard, "create", "", "pods", allowAll, authorizer.DecisionDeny},
		{"other system identities go to RBAC", operator, "acme", "get", "", "pods", noOpinion, authorizer.DecisionNoOpinion},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := request.WithUser(context.Background(), tc.user)
			if tc.target != "" {
				ctx = WithTenant(ctx, tc.target)
			}
			attrs := authorizer.AttributesRecord{
				User: tc.user, Verb: tc.verb, APIGroup: tc.group, Resource: tc.resource, ResourceRequest: true,
			}
			got, reason, err := NewAuthorizer(tc.delegate).Authorize(ctx, attrs)
			if err != nil || got != tc.want {
				t.Errorf("decision = %v (%q, %v), want %v", got, reason, err, tc.want)
			}
		})
	}
}
