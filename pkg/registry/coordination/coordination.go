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

// Package coordination builds the storage of coordination.k8s.io/v1 leases.
package coordination

import (
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/arcturus-cloud/arcturus/pkg/apis/coordination/validation"
	"github.com/arcturus-cloud/arcturus/pkg/printers"
	"github.com/arcturus-cloud/arcturus/pkg/registry/strategy"
	"github.com/arcturus-cloud/arcturus/pkg/registry/tenantstore"
)

// NewStorage returns the storage of leases.
func NewStorage(typer runtime.ObjectTyper, optsGetter generic.RESTOptionsGetter) (map[string]rest.Storage, error) {
	return tenantstore.NewRESTs([]tenantstore.Kind{{
		Resource: coordinationv1.Resource("leases"), Singular: "lease",
		New:     func() runtime.Object { return &coordinationv1.Lease{} },
		NewList: func() runtime.Object { return &coordinationv1.LeaseList{} },
		Strategy: strategy.New(typer, true, strategy.Funcs{
			Validate:       strategy.Validator(validation.ValidateLease),
			ValidateUpdate: strategy.UpdateValidator(validation.ValidateLeaseUpdate),
		}),
		Table: printers.NewLeaseTableConvertor(),
	}}, optsGetter)
}
