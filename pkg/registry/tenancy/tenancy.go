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

// Package tenancy builds the storage of tenancy.arcturus.io/v1 tenants.
package tenancy

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"

	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
	"github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/validation"
	"github.com/arcturus-cloud/arcturus/pkg/printers"
	"github.com/arcturus-cloud/arcturus/pkg/registry/strategy"
	"github.com/arcturus-cloud/arcturus/pkg/registry/tenantstore"
)

// NewStorage returns the storage of tenants and tenants/status.
func NewStorage(typer runtime.ObjectTyper, optsGetter generic.RESTOptionsGetter) (map[string]rest.Storage, error) {
	s := strategy.New(typer, false, strategy.Funcs{
		Validate:       strategy.Validator(validation.ValidateTenant),
		ValidateUpdate: strategy.UpdateValidator(validation.ValidateTenantUpdate),
		// A tenant is held by a finalizer until its space is empty.
		PrepareForCreate: func(_ context.Context, obj runtime.Object) {
			t := obj.(*tenancyv1.Tenant)
			t.Status = tenancyv1.TenantStatus{Phase: tenancyv1.TenantActive}
			for _, f := range t.Finalizers {
				if f == tenancyv1.TenantFinalizer {
					return
				}
			}
			t.Finalizers = append(t.Finalizers, tenancyv1.TenantFinalizer)
		},
	}).WithStatus("tenancy.arcturus.io/v1")
	tenants, err := tenantstore.NewREST(tenantstore.Kind{
		Resource: tenancyv1.Resource("tenants"), Singular: "tenant",
		New:      func() runtime.Object { return &tenancyv1.Tenant{} },
		NewList:  func() runtime.Object { return &tenancyv1.TenantList{} },
		Strategy: s, Scope: tenantstore.SystemScoped,
		Table: printers.NewTenantTableConvertor(),
	}, optsGetter)
	if err != nil {
		return nil, err
	}
	return map[string]rest.Storage{
		"tenants":        tenants,
		"tenants/status": tenants.Status(s.StatusStrategy("tenancy.arcturus.io/v1", strategy.UpdateValidator(validation.ValidateTenantUpdate))),
	}, nil
}
