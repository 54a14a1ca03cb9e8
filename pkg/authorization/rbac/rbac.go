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

// Package rbac authorizes requests with Kubernetes RBAC semantics, scoped to
// tenants: every Role, RoleBinding, ClusterRole and ClusterRoleBinding belongs
// to exactly one tenant (its arcturus.io/tenant annotation), and a request is
// judged only by the objects of the requesting identity's own tenant.
package rbac

import (
	"context"
	"fmt"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// Authorizer is a tenant-aware RBAC authorizer and rule resolver.
type Authorizer struct {
	source RuleSource
}

var (
	_ authorizer.Authorizer   = (*Authorizer)(nil)
	_ authorizer.RuleResolver = (*Authorizer)(nil)
)

// New returns an Authorizer that reads RBAC objects from source.
func New(source RuleSource) *Authorizer {
	return &Authorizer{source: source}
}

// Authorize allows a request when any rule bound to its user, in the user's
// tenant, matches it. It never denies, so that later authorizers in a chain
// still get a say. Failures to resolve a binding end up in the reason, not
// the error: an error with NoOpinion turns a 403 into a 500.
func (a *Authorizer) Authorize(ctx context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	var (
		allowedBy fmt.Stringer
		errs      []error
	)
	a.visitRulesFor(ctx, attrs.GetUser(), attrs.GetNamespace(), func(source fmt.Stringer, rule *rbacv1.PolicyRule, err error) bool {
		if err != nil {
			errs = append(errs, err)
			return true
		}
		if ruleAllows(attrs, rule) {
			allowedBy = source
			return false
		}
		return true
	})
	if allowedBy != nil {
		return authorizer.DecisionAllow, "RBAC: allowed by " + allowedBy.String(), nil
	}
	if len(errs) > 0 {
		return authorizer.DecisionNoOpinion, fmt.Sprintf("RBAC: %v", utilerrors.NewAggregate(errs)), nil
	}
	return authorizer.DecisionNoOpinion, "", nil
}

// ConditionsAwareAuthorize implements authorizer.Authorizer; RBAC decisions
// are unconditional.
func (a *Authorizer) ConditionsAwareAuthorize(ctx context.Context, attrs authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return authorizer.ConditionsAwareDecisionFromParts(a.Authorize(ctx, attrs))
}

// EvaluateConditions implements authorizer.Authorizer. RBAC never returns a
// conditional decision, so it fails closed as the interface requires.
func (a *Authorizer) EvaluateConditions(context.Context, authorizer.ConditionsAwareDecision, authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, "", authorizer.ErrorConditionEvaluationNotSupported
}

// RulesFor lists the rules that apply to u in namespace (tenant-wide rules
// included), for SelfSubjectRulesReview. The list is incomplete, and err
// says why, when some binding of u could not be resolved.
func (a *Authorizer) RulesFor(ctx context.Context, u user.Info, namespace string) ([]authorizer.ResourceRuleInfo, []authorizer.NonResourceRuleInfo, bool, error) {
	var (
		rules []rbacv1.PolicyRule
		errs  []error
	)
	a.visitRulesFor(ctx, u, namespace, func(_ fmt.Stringer, rule *rbacv1.PolicyRule, err error) bool {
		if err != nil {
			errs = append(errs, err)
		} else {
			rules = append(rules, *rule)
		}
		return true
	})
	resourceRules, nonResourceRules := ruleInfos(rules)
	if len(errs) > 0 {
		return resourceRules, nonResourceRules, true, utilerrors.NewAggregate(errs)
	}
	return resourceRules, nonResourceRules, false, nil
}

// visitor receives each rule that applies to a user along with the binding
// that grants it, or an error for a binding that could not be resolved. It
// returns false to stop the walk.
type visitor func(source fmt.Stringer, rule *rbacv1.PolicyRule, err error) bool

// visitRulesFor walks the rules granted to u by the RBAC objects of u's
// tenant: first its ClusterRoleBindings, then, when namespace is set, the
// RoleBindings of that namespace.
func (a *Authorizer) visitRulesFor(ctx context.Context, u user.Info, namespace string, visit visitor) {
	if u == nil {
		return
	}
	tenant := tenancy.OfUser(u)

	clusterBindings, err := a.source.ListClusterRoleBindings(ctx, tenant)
	if err != nil && !visit(nil, nil, fmt.Errorf("listing ClusterRoleBindings of tenant %q: %w", tenant, err)) {
		return
	}
	for _, b := range clusterBindings {
		subject, ok := appliesTo(u, b.Subjects, "")
		if !ok {
			continue
		}
		g := grant{tenant: tenant, binding: "ClusterRoleBinding", name: b.Name, roleRef: b.RoleRef, subject: subject}
		if !a.visitRoleRef(ctx, g, visit) {
			return
		}
	}

	if namespace == "" {
		return
	}
	bindings, err := a.source.ListRoleBindings(ctx, tenant, namespace)
	if err != nil && !visit(nil, nil, fmt.Errorf("listing RoleBindings of tenant %q in namespace %q: %w", tenant, namespace, err)) {
		return
	}
	for _, b := range bindings {
		subject, ok := appliesTo(u, b.Subjects, namespace)
		if !ok {
			continue
		}
		g := grant{tenant: tenant, binding: "RoleBinding", namespace: namespace, name: b.Name, roleRef: b.RoleRef, subject: subject}
		if !a.visitRoleRef(ctx, g, visit) {
			return
		}
	}
}

// visitRoleRef visits the rules of the role g refers to and reports whether
// the walk should go on.
func (a *Authorizer) visitRoleRef(ctx context.Context, g grant, visit visitor) bool {
	rules, err := a.roleRules(ctx, g)
	if err != nil {
		return visit(nil, nil, fmt.Errorf("%s: %w", g, err))
	}
	for i := range rules {
		if !visit(g, &rules[i], nil) {
			return false
		}
	}
	return true
}

// roleRules resolves a binding's roleRef within the binding's own tenant. A
// Role is looked up in the binding's namespace; a ClusterRole's rules apply
// wherever the binding applies.
// RoleRefRules returns the rules a binding in namespace of tenant t would
// grant through ref; namespace is empty for a ClusterRoleBinding.
func (a *Authorizer) RoleRefRules(ctx context.Context, t tenancy.Name, namespace string, ref rbacv1.RoleRef) ([]rbacv1.PolicyRule, error) {
	return a.roleRules(ctx, grant{tenant: t, namespace: namespace, roleRef: ref})
}

func (a *Authorizer) roleRules(ctx context.Context, g grant) ([]rbacv1.PolicyRule, error) {
	if g.roleRef.APIGroup != rbacv1.GroupName {
		return nil, fmt.Errorf("unsupported role reference API group %q", g.roleRef.APIGroup)
	}
	switch g.roleRef.Kind {
	case "Role":
		role, err := a.source.GetRole(ctx, g.tenant, g.namespace, g.roleRef.Name)
		if err != nil {
			return nil, fmt.Errorf("getting Role: %w", err)
		}
		return role.Rules, nil
	case "ClusterRole":
		role, err := a.source.GetClusterRole(ctx, g.tenant, g.roleRef.Name)
		if apierrors.IsNotFound(err) {
			if rules, ok := builtinClusterRoleRules[g.roleRef.Name]; ok {
				return rules, nil
			}
		}
		if err != nil {
			return nil, fmt.Errorf("getting ClusterRole: %w", err)
		}
		return role.Rules, nil
	default:
		return nil, fmt.Errorf("unsupported role reference kind %q", g.roleRef.Kind)
	}
}

// appliesTo returns the first subject that names u. namespace is the
// binding's namespace, empty for ClusterRoleBindings.
func appliesTo(u user.Info, subjects []rbacv1.Subject, namespace string) (*rbacv1.Subject, bool) {
	for i := range subjects {
		if subjectMatches(u, &subjects[i], namespace) {
			return &subjects[i], true
		}
	}
	return nil, false
}

// subjectMatches needs no tenant check for service accounts: the binding
// belongs to u's tenant, so a ServiceAccount subject names an account of
// that tenant, and u's credentials say u is of that tenant too.
func subjectMatches(u user.Info, s *rbacv1.Subject, namespace string) bool {
	switch s.Kind {
	case rbacv1.UserKind:
		return u.GetName() == s.Name
	case rbacv1.GroupKind:
		return slices.Contains(u.GetGroups(), s.Name)
	case rbacv1.ServiceAccountKind:
		// A RoleBinding may leave out the namespace of a service account
		// in its own namespace; a ClusterRoleBinding has none to offer.
		ns := s.Namespace
		if ns == "" {
			ns = namespace
		}
		return ns != "" && serviceaccount.MatchesUsername(ns, s.Name, u.GetName())
	default:
		return false
	}
}

// grant describes the binding through which a rule applies, for reasons and
// errors.
type grant struct {
	tenant    tenancy.Name
	binding   string // "ClusterRoleBinding" or "RoleBinding"
	namespace string // of a RoleBinding
	name      string
	roleRef   rbacv1.RoleRef
	subject   *rbacv1.Subject
}

func (g grant) String() string {
	name := g.name
	if g.namespace != "" {
		name = g.namespace + "/" + g.name
	}
	subject := fmt.Sprintf("%s %q", g.subject.Kind, g.subject.Name)
	if g.subject.Kind == rbacv1.ServiceAccountKind {
		ns := g.subject.Namespace
		if ns == "" {
			ns = g.namespace
		}
		subject = fmt.Sprintf("%s %q", g.subject.Kind, ns+"/"+g.subject.Name)
	}
	return fmt.Sprintf("%s %q of %s %q to %s in tenant %q", g.binding, name, g.roleRef.Kind, g.roleRef.Name, subject, g.tenant)
}
