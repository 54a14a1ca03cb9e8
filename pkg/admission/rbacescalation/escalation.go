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

// Package rbacescalation is the admission plugin that keeps RBAC from being
// a way up, as Kubernetes' RBAC storage does: an identity may write a role
// only with rules it holds itself, and bind a role only if it holds its
// rules, unless it may "escalate" or "bind" explicitly.
package rbacescalation

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	rbacvalidation "k8s.io/component-helpers/auth/rbac/validation"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// RoleRefResolver returns the rules a role reference grants in a namespace
// (empty for cluster-wide) of a tenant.
type RoleRefResolver interface {
	RoleRefRules(ctx context.Context, t tenancy.Name, namespace string, ref rbacv1.RoleRef) ([]rbacv1.PolicyRule, error)
}

// Escalation is the admission plugin.
type Escalation struct {
	*admission.Handler
	authorizer authorizer.Authorizer
	rules      authorizer.RuleResolver
	roleRefs   RoleRefResolver
}

var _ admission.ValidationInterface = &Escalation{}

// New returns the plugin. authz answers the explicit escalate and bind
// checks, rules lists what an identity holds, roleRefs resolves bindings.
func New(authz authorizer.Authorizer, rules authorizer.RuleResolver, roleRefs RoleRefResolver) *Escalation {
	return &Escalation{
		Handler:    admission.NewHandler(admission.Create, admission.Update),
		authorizer: authz,
		rules:      rules,
		roleRefs:   roleRefs,
	}
}

func (e *Escalation) Validate(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	if a.GetResource().Group != rbacv1.GroupName || a.GetSubresource() != "" {
		return nil
	}
	u := a.GetUserInfo()
	if u == nil || tenancy.IsSystemMaster(u) {
		return nil
	}
	switch obj := a.GetObject().(type) {
	case *rbacv1.Role:
		return e.checkRules(ctx, a, u, obj.Rules)
	case *rbacv1.ClusterRole:
		return e.checkRules(ctx, a, u, obj.Rules)
	case *rbacv1.RoleBinding:
		return e.checkBinding(ctx, a, u, obj.RoleRef)
	case *rbacv1.ClusterRoleBinding:
		return e.checkBinding(ctx, a, u, obj.RoleRef)
	}
	return nil
}

// checkRules lets a role through when its writer holds every rule in it
// where the role applies, or may escalate.
func (e *Escalation) checkRules(ctx context.Context, a admission.Attributes, u user.Info, rules []rbacv1.PolicyRule) error {
	if e.allowed(ctx, u, "escalate", a.GetResource().Resource, a.GetNamespace(), a.GetName()) {
		return nil
	}
	return e.covered(ctx, a, u, rules, fmt.Sprintf("%s %q", a.GetKind().Kind, a.GetName()))
}

// checkBinding lets a binding through when its writer holds the rules of the
// role it binds, or may bind that role.
func (e *Escalation) checkBinding(ctx context.Context, a admission.Attributes, u user.Info, ref rbacv1.RoleRef) error {
	resource := "clusterroles"
	if ref.Kind == "Role" {
		resource = "roles"
	}
	if e.allowed(ctx, u, "bind", resource, a.GetNamespace(), ref.Name) {
		return nil
	}
	t, _ := tenancy.From(ctx)
	rules, err := e.roleRefs.RoleRefRules(ctx, t, a.GetNamespace(), ref)
	if apierrors.IsNotFound(err) {
		// A binding to a role that does not exist grants nothing yet; the
		// role itself is checked when it is written.
		return nil
	}
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("resolving %s %q: %w", ref.Kind, ref.Name, err))
	}
	return e.covered(ctx, a, u, rules, fmt.Sprintf("%s %q", ref.Kind, ref.Name))
}

func (e *Escalation) covered(ctx context.Context, a admission.Attributes, u user.Info, rules []rbacv1.PolicyRule, what string) error {
	held, err := e.heldRules(ctx, u, a.GetNamespace())
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	if ok, missing := rbacvalidation.Covers(held, rules); !ok {
		return admission.NewForbidden(a, fmt.Errorf("user %q is attempting to grant RBAC permissions not currently held through %s: %v", u.GetName(), what, missing))
	}
	return nil
}

func (e *Escalation) allowed(ctx context.Context, u user.Info, verb, resource, namespace, name string) bool {
	decision, _, err := e.authorizer.Authorize(ctx, authorizer.AttributesRecord{
		User: u, Verb: verb, APIGroup: rbacv1.GroupName, Resource: resource,
		Namespace: namespace, Name: name, ResourceRequest: true,
	})
	return err == nil && decision == authorizer.DecisionAllow
}

// heldRules are the rules u holds in namespace (cluster-wide ones included),
// in the form Covers compares.
func (e *Escalation) heldRules(ctx context.Context, u user.Info, namespace string) ([]rbacv1.PolicyRule, error) {
	resourceRules, nonResourceRules, _, err := e.rules.RulesFor(ctx, u, namespace)
	if err != nil {
		return nil, fmt.Errorf("listing the rules of %q: %w", u.GetName(), err)
	}
	held := make([]rbacv1.PolicyRule, 0, len(resourceRules)+len(nonResourceRules))
	for _, r := range resourceRules {
		held = append(held, rbacv1.PolicyRule{
			Verbs: r.GetVerbs(), APIGroups: r.GetAPIGroups(), Resources: r.GetResources(), ResourceNames: r.GetResourceNames(),
		})
	}
	for _, r := range nonResourceRules {
		held = append(held, rbacv1.PolicyRule{Verbs: r.GetVerbs(), NonResourceURLs: r.GetNonResourceURLs()})
	}
	return held, nil
}
