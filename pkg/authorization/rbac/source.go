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

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// RuleSource is the read side of the RBAC objects the authorizer evaluates.
// Every lookup names a tenant; an implementation must never return an object
// of another tenant. Lookups of absent objects return a NotFound API error.
// Returned objects are shared and must not be modified.
type RuleSource interface {
	GetRole(ctx context.Context, tenant tenancy.Name, namespace, name string) (*rbacv1.Role, error)
	ListRoleBindings(ctx context.Context, tenant tenancy.Name, namespace string) ([]*rbacv1.RoleBinding, error)
	GetClusterRole(ctx context.Context, tenant tenancy.Name, name string) (*rbacv1.ClusterRole, error)
	ListClusterRoleBindings(ctx context.Context, tenant tenancy.Name) ([]*rbacv1.ClusterRoleBinding, error)
}
