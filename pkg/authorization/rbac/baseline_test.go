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
	"strings"
	"testing"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

func TestBaselineAuthorize(t *testing.T) {
	tenantUser := identity(acme, "alice")
	systemUser := identity("", "controller")
	anonymous := &user.DefaultInfo{Name: user.Anonymous, Groups: []string{user.AllUnauthenticated}}

	tests := []struct {
		name  string
		attrs authorizer.AttributesRecord
		want  authorizer.Decision
	}{
		{"discovery root", nonResourceRequest(tenantUser, "get", "/api"), authorizer.DecisionAllow},
		{"discovery of a group version", nonResourceRequest(tenantUser, "get", "/apis/apps/v1"), authorizer.DecisionAllow},
		{"openapi", nonResourceRequest(tenantUser, "get", "/openapi/v3/apis/apps/v1"), authorizer.DecisionAllow},
		{"version", nonResourceRequest(systemUser, "get", "/version"), authorizer.DecisionAllow},
		{"version with slash", nonResourceRequest(tenantUser, "get", "/version/"), authorizer.DecisionAllow},
		{"readyz", nonResourceRequest(tenantUser, "get", "/readyz"), authorizer.DecisionAllow},
		{"individual health checks are not public", nonResourceRequest(tenantUser, "get", "/healthz/etcd"), authorizer.DecisionNoOpinion},
		{"metrics", nonResourceRequest(tenantUser, "get", "/metrics"), authorizer.DecisionNoOpinion},
		{"writes to discovery", nonResourceRequest(tenantUser, "post", "/api"), authorizer.DecisionNoOpinion},
		{"self subject access review", resourceRequest(tenantUser, "create", "", "authorization.k8s.io", "selfsubjectaccessreviews", "", ""), authorizer.DecisionAllow},
		{"self subject rules review", resourceRequest(tenantUser, "create", "", "authorization.k8s.io", "selfsubjectrulesreviews", "", ""), authorizer.DecisionAllow},
		{"self subject review", resourceRequest(tenantUser, "create", "", "authentication.k8s.io", "selfsubjectreviews", "", ""), authorizer.DecisionAllow},
		{"subject access review", resourceRequest(tenantUser, "create", "", "authorization.k8s.io", "subjectaccessreviews", "", ""), authorizer.DecisionNoOpinion},
		{"reviews are only created", resourceRequest(tenantUser, "list", "", "authorization.k8s.io", "selfsubjectrulesreviews", "", ""), authorizer.DecisionNoOpinion},
		{"resources", resourceRequest(tenantUser, "get", "ns1", "", "pods", "", "p"), authorizer.DecisionNoOpinion},
		{"anonymous", nonResourceRequest(anonymous, "get", "/version"), authorizer.DecisionNoOpinion},
		{"no user", nonResourceRequest(nil, "get", "/version"), authorizer.DecisionNoOpinion},
	}
	b := NewBaseline()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason, err := b.Authorize(context.Background(), tt.attrs)
			if err != nil {
				t.Fatalf("Authorize() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("Authorize() = %v (%q), want %v", got, reason, tt.want)
			}
			if got == authorizer.DecisionAllow && !strings.HasPrefix(reason, "RBAC: ") {
				t.Errorf("Authorize() reason = %q, want an RBAC reason", reason)
			}
			if cad := b.ConditionsAwareAuthorize(context.Background(), tt.attrs); cad.IsAllow() != (tt.want == authorizer.DecisionAllow) {
				t.Errorf("ConditionsAwareAuthorize().IsAllow() = %v, want %v", cad.IsAllow(), tt.want == authorizer.DecisionAllow)
			}
		})
	}
}

func TestBaselineRulesFor(t *testing.T) {
	want := []string{
		"verbs=create groups=authentication.k8s.io resources=selfsubjectreviews names=",
		"verbs=create groups=authorization.k8s.io resources=selfsubjectaccessreviews,selfsubjectrulesreviews names=",
		"verbs=get urls=/api,/api/*,/apis,/apis/*,/openapi,/openapi/*,/version,/version/,/healthz,/livez,/readyz",
	}
	b := NewBaseline()
	for _, ns := range []string{"", "ns1"} {
		resourceRules, nonResourceRules, incomplete, err := b.RulesFor(context.Background(), identity(globex, "alice"), ns)
		if got := describeRules(resourceRules, nonResourceRules); !slices.Equal(got, want) || incomplete || err != nil {
			t.Errorf("RulesFor(%q) = %q, %v, %v; want %q, false, nil", ns, got, incomplete, err, want)
		}
	}

	anonymous := &user.DefaultInfo{Name: user.Anonymous, Groups: []string{user.AllUnauthenticated}}
	resourceRules, nonResourceRules, incomplete, err := b.RulesFor(context.Background(), anonymous, "ns1")
	if len(resourceRules) != 0 || len(nonResourceRules) != 0 || incomplete || err != nil {
		t.Errorf("RulesFor(anonymous) = %v, %v, %v, %v; want nothing", resourceRules, nonResourceRules, incomplete, err)
	}
}
