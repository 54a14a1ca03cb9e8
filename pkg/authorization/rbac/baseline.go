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

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// Baseline grants every authenticated identity, of any tenant, what
// Kubernetes' system:discovery, system:basic-user and
// system:public-info-viewer bootstrap bindings give: API discovery, version
// and health endpoints, and reviews of its own identity and permissions.
// These are fixed here instead of being RBAC objects so that no tenant can
// lose them by editing its own RBAC.
type Baseline struct {
	rules []rbacv1.PolicyRule
}

var (
	_ authorizer.Authorizer   = (*Baseline)(nil)
	_ authorizer.RuleResolver = (*Baseline)(nil)
)

// NewBaseline returns the baseline authorizer.
func NewBaseline() *Baseline {
	return &Baseline{rules: []rbacv1.PolicyRule{
		{
			Verbs: []string{"get"},
			NonResourceURLs: []string{
				"/api", "/api/*", "/apis", "/apis/*", "/openapi", "/openapi/*",
				"/version", "/version/", "/healthz", "/livez", "/readyz",
			},
		},
		{
			Verbs:     []string{"create"},
			APIGroups: []string{"authorization.k8s.io"},
			Resources: []string{"selfsubjectaccessreviews", "selfsubjectrulesreviews"},
		},
		{
			Verbs:     []string{"create"},
			APIGroups: []string{"authentication.k8s.io"},
			Resources: []string{"selfsubjectreviews"},
		},
	}}
}

// Authorize allows the baseline requests of authenticated identities and
// has no opinion on anything else.
func (b *Baseline) Authorize(_ context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	if !authenticated(attrs.GetUser()) {
		return authorizer.DecisionNoOpinion, "", nil
	}
	for i := range b.rules {
		if ruleAllows(attrs, &b.rules[i]) {
			return authorizer.DecisionAllow, "RBAC: allowed by the baseline of every authenticated identity", nil
		}
	}
	return authorizer.DecisionNoOpinion, "", nil
}

// ConditionsAwareAuthorize implements authorizer.Authorizer; baseline
// decisions are unconditional.
func (b *Baseline) ConditionsAwareAuthorize(ctx context.Context, attrs authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return authorizer.ConditionsAwareDecisionFromParts(b.Authorize(ctx, attrs))
}

// EvaluateConditions implements authorizer.Authorizer. The baseline never
// returns a conditional decision, so it fails closed as the interface
// requires.
func (b *Baseline) EvaluateConditions(context.Context, authorizer.ConditionsAwareDecision, authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, "", authorizer.ErrorConditionEvaluationNotSupported
}

// RulesFor reports the baseline rules, which apply in every namespace, so
// that SelfSubjectRulesReview shows them as Kubernetes shows its bootstrap
// rules.
func (b *Baseline) RulesFor(_ context.Context, u user.Info, _ string) ([]authorizer.ResourceRuleInfo, []authorizer.NonResourceRuleInfo, bool, error) {
	if !authenticated(u) {
		return nil, nil, false, nil
	}
	resourceRules, nonResourceRules := ruleInfos(b.rules)
	return resourceRules, nonResourceRules, false, nil
}

// authenticated relies on the group the authentication chain adds to every
// identity it authenticates, as Kubernetes' bootstrap bindings do.
func authenticated(u user.Info) bool {
	return u != nil && slices.Contains(u.GetGroups(), user.AllAuthenticated)
}
