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

// Package rbac builds the storage of rbac.authorization.k8s.io/v1. Every
// kind is tenant-scoped: ClusterRoles and ClusterRoleBindings are a
// tenant's own, like its namespaces.
package rbac

import (
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/arcturus-cloud/arcturus/pkg/apis/rbac/validation"
	"github.com/arcturus-cloud/arcturus/pkg/printers"
	"github.com/arcturus-cloud/arcturus/pkg/registry/strategy"
	"github.com/arcturus-cloud/arcturus/pkg/registry/tenantstore"
)

// NewStorage returns the storage of the four RBAC kinds.
func NewStorage(typer runtime.ObjectTyper, optsGetter generic.RESTOptionsGetter) (map[string]rest.Storage, error) {
	kinds := []tenantstore.Kind{
		{
			Resource: rbacv1.Resource("roles"), Singular: "role",
			New:     func() runtime.Object { return &rbacv1.Role{} },
			NewList: func() runtime.Object { return &rbacv1.RoleList{} },
			Strategy: strategy.New(typer, true, strategy.Funcs{
				Validate:       strategy.Validator(validation.ValidateRole),
				ValidateUpdate: strategy.UpdateValidator(validation.ValidateRoleUpdate),
			}),
			Table: printers.NewRoleTableConvertor(),
		},
		{
			Resource: rbacv1.Resource("rolebindings"), Singular: "rolebinding",
			New:     func() runtime.Object { return &rbacv1.RoleBinding{} },
			NewList: func() runtime.Object { return &rbacv1.RoleBindingList{} },
			Strategy: strategy.New(typer, true, strategy.Funcs{
				Validate:       strategy.Validator(validation.ValidateRoleBinding),
				ValidateUpdate: strategy.UpdateValidator(validation.ValidateRoleBindingUpdate),
			}),
			Table: printers.NewRoleBindingTableConvertor(),
		},
		{
			Resource: rbacv1.Resource("clusterroles"), Singular: "clusterrole",
			New:     func() runtime.Object { return &rbacv1.ClusterRole{} },
			NewList: func() runtime.Object { return &rbacv1.ClusterRoleList{} },
			Strategy: strategy.New(typer, false, strategy.Funcs{
				Validate:       strategy.Validator(validation.ValidateClusterRole),
				ValidateUpdate: strategy.UpdateValidator(validation.ValidateClusterRoleUpdate),
			}),
			Table: printers.NewClusterRoleTableConvertor(),
		},
		{
			Resource: rbacv1.Resource("clusterrolebindings"), Singular: "clusterrolebinding",
			New:     func() runtime.Object { return &rbacv1.ClusterRoleBinding{} },
			NewList: func() runtime.Object { return &rbacv1.ClusterRoleBindingList{} },
			Strategy: strategy.New(typer, false, strategy.Funcs{
				Validate:       strategy.Validator(validation.ValidateClusterRoleBinding),
				ValidateUpdate: strategy.UpdateValidator(validation.ValidateClusterRoleBindingUpdate),
			}),
			Table: printers.NewClusterRoleBindingTableConvertor(),
		},
	}
	return tenantstore.NewRESTs(kinds, optsGetter)
}
