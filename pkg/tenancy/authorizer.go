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
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// SystemScopedResources are the resources that live only in the system
// tenant. No other tenant's identity may reach them, whatever its RBAC says.
// Storage refuses to serve a system-scoped kind missing here.
var SystemScopedResources = map[schema.GroupResource]bool{
	{Group: "", Resource: "nodes"}:                           true,
	{Group: "tenancy.arcturus.io", Resource: "tenants"}:      true,
	{Group: "metal.arcturus.io", Resource: "servers"}:        true,
	{Group: "metal.arcturus.io", Resource: "serverclasses"}:  true,
	{Group: "metal.arcturus.io", Resource: "environments"}:   true,
	{Group: "metal.arcturus.io", Resource: "serverbindings"}: true,
}

// NewAuthorizer returns an authorizer that keeps every identity inside its
// own tenant, then lets the delegate (RBAC of the identity's tenant) decide.
// It is the whole authorization chain, so nothing can grant a way out.
func NewAuthorizer(delegate authorizer.Authorizer) authorizer.Authorizer {
	return authorizer.AuthorizerFunc(func(ctx context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
		return authorize(ctx, attrs, delegate)
	})
}

func authorize(ctx context.Context, attrs authorizer.Attributes, delegate authorizer.Authorizer) (authorizer.Decision, string, error) {
	u := attrs.GetUser()
	if u == nil {
		return authorizer.DecisionDeny, "no user", nil
	}
	own := OfUser(u)
	if reason, denied := denyOutsideTenant(ctx, attrs, own); denied {
		return authorizer.DecisionDeny, reason, nil
	}
	if IsSystemMaster(u) {
		return authorizer.DecisionAllow, "system master", nil
	}
	return delegate.Authorize(ctx, attrs)
}

func denyOutsideTenant(ctx context.Context, attrs authorizer.Attributes, own Name) (string, bool) {
	if own == System {
		target, _ := From(ctx)
		if target.IsWildcard() && attrs.IsResourceRequest() && !isListOrWatch(attrs.GetVerb()) {
			return "requests across all tenants may only list and watch", true
		}
		return "", false
	}
	// Impersonation could name an identity of another tenant, or one with
	// no tenant at all, which would be a system identity.
	if attrs.GetVerb() == "impersonate" {
		return fmt.Sprintf("identities of tenant %q may not impersonate", own), true
	}
	if !attrs.IsResourceRequest() {
		return "", false
	}
	if target, _ := From(ctx); target != own {
		return fmt.Sprintf("identities of tenant %q may not address tenant %q", own, target), true
	}
	gr := schema.GroupResource{Group: attrs.GetAPIGroup(), Resource: attrs.GetResource()}
	if SystemScopedResources[gr] {
		return fmt.Sprintf("%s belong to the system tenant", gr), true
	}
	return "", false
}

// IsSystemMaster reports whether u is in system:masters of the system
// tenant, the one group that may do anything anywhere. The same group in
// another tenant means nothing special.
func IsSystemMaster(u user.Info) bool {
	return OfUser(u) == System && slices.Contains(u.GetGroups(), user.SystemPrivilegedGroup)
}

func isListOrWatch(verb string) bool { return verb == "list" || verb == "watch" }
