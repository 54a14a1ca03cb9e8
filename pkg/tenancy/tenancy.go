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

// Package tenancy holds the tenant model shared by every layer of the API
// server: how a tenant is named, how it travels in a request context, how it
// is read from a user's credentials and how it is recorded on objects.
//
// A tenant is a storage key prefix, not a control plane. Every stored object
// lives under /registry/<group>/<resource>/<tenant>/[<namespace>/]<name> and
// carries its tenant in the server-set annotation arcturus.io/tenant.
package tenancy

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/endpoints/request"
)

// Name is a tenant's name. It is a DNS-1123 label.
type Name string

const (
	// System is the tenant that owns region-level kinds (tenants, nodes,
	// node leases, the metal inventory) and the identities of the region's
	// own components.
	System Name = "system"

	// Wildcard addresses every tenant at once; only list and watch by
	// system identities may use it.
	Wildcard Name = "*"

	// Annotation records an object's tenant. The server sets it; clients
	// cannot choose or change it.
	Annotation = "arcturus.io/tenant"

	// UserExtraKey is the user.Info extra key that carries the tenant of an
	// authenticated identity.
	UserExtraKey = "arcturus.io/tenant"

	// AdminsGroup is the group that a new tenant's cluster-admin binding names.
	AdminsGroup = "arcturus:tenant-admins"

	// PathPrefix starts an explicit tenant address: /tenants/<name>/api/...
	PathPrefix = "/tenants/"
)

func (n Name) String() string { return string(n) }

// IsWildcard reports whether n addresses every tenant.
func (n Name) IsWildcard() bool { return n == Wildcard }

// Validate checks that n can name a tenant.
func Validate(name string) error {
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return fmt.Errorf("invalid tenant name %q: %v", name, errs)
	}
	return nil
}

type contextKey int

const tenantKey contextKey = iota

// WithTenant returns a context that addresses tenant n.
func WithTenant(ctx context.Context, n Name) context.Context {
	return context.WithValue(ctx, tenantKey, n)
}

// From returns the tenant a request addresses: the one named in its path
// (/tenants/<name>/...) or else the tenant of the requesting identity. ok is
// false only for contexts that carry neither.
func From(ctx context.Context) (Name, bool) {
	if n, ok := ctx.Value(tenantKey).(Name); ok && n != "" {
		return n, true
	}
	if u, ok := request.UserFrom(ctx); ok {
		return OfUser(u), true
	}
	return "", false
}

// OfUser returns the tenant an identity belongs to. Identities that carry no
// tenant (the loopback client, certificates without one) belong to System.
func OfUser(u user.Info) Name {
	if u == nil {
		return ""
	}
	if v := u.GetExtra()[UserExtraKey]; len(v) == 1 && v[0] != "" {
		return Name(v[0])
	}
	return System
}

// OfObject returns the tenant recorded on an object's annotations.
func OfObject(annotations map[string]string) Name {
	return Name(annotations[Annotation])
}
