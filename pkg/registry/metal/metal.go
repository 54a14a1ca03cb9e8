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

// Package metal builds the storage of metal.arcturus.io/v1alpha1: servers,
// server classes, environments and server bindings, all in the system tenant.
package metal

import (
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
	"github.com/arcturus-cloud/arcturus/pkg/apis/metal/validation"
	"github.com/arcturus-cloud/arcturus/pkg/printers"
	"github.com/arcturus-cloud/arcturus/pkg/registry/strategy"
	"github.com/arcturus-cloud/arcturus/pkg/registry/tenantstore"
)

const apiVersion = "metal.arcturus.io/v1alpha1"

// kind is one resource of the group: its names, validation, printer and
// what its create clears.
type kind struct {
	resource, singular string
	shortNames         []string
	newObj, newList    func() runtime.Object
	validate           func(runtime.Object) field.ErrorList
	validateUpdate     func(obj, old runtime.Object) field.ErrorList
	prepareForCreate   func(context.Context, runtime.Object)
	table              *printers.TableConvertor
}

// NewStorage returns the storage of the metal group's resources and their
// status subresources.
func NewStorage(typer runtime.ObjectTyper, optsGetter generic.RESTOptionsGetter) (map[string]rest.Storage, error) {
	kinds := []kind{{
		resource: "servers", singular: "server", shortNames: []string{"srv"},
		newObj:         func() runtime.Object { return &metalv1alpha1.Server{} },
		newList:        func() runtime.Object { return &metalv1alpha1.ServerList{} },
		validate:       strategy.Validator(validation.ValidateServer),
		validateUpdate: strategy.UpdateValidator(validation.ValidateServerUpdate),
		// A deleted server is held until it is decommissioned.
		prepareForCreate: func(_ context.Context, obj runtime.Object) {
			s := obj.(*metalv1alpha1.Server)
			s.Status = metalv1alpha1.ServerStatus{Power: metalv1alpha1.PowerUnknown}
			if !slices.Contains(s.Finalizers, metalv1alpha1.ServerFinalizer) {
				s.Finalizers = append(s.Finalizers, metalv1alpha1.ServerFinalizer)
			}
		},
		table: printers.NewServerTableConvertor(),
	}, {
		resource: "serverclasses", singular: "serverclass", shortNames: []string{"sc"},
		newObj:         func() runtime.Object { return &metalv1alpha1.ServerClass{} },
		newList:        func() runtime.Object { return &metalv1alpha1.ServerClassList{} },
		validate:       strategy.Validator(validation.ValidateServerClass),
		validateUpdate: strategy.UpdateValidator(validation.ValidateServerClassUpdate),
		prepareForCreate: func(_ context.Context, obj runtime.Object) {
			obj.(*metalv1alpha1.ServerClass).Status = metalv1alpha1.ServerClassStatus{}
		},
		table: printers.NewServerClassTableConvertor(),
	}, {
		resource: "environments", singular: "environment", shortNames: []string{"env"},
		newObj:         func() runtime.Object { return &metalv1alpha1.Environment{} },
		newList:        func() runtime.Object { return &metalv1alpha1.EnvironmentList{} },
		validate:       strategy.Validator(validation.ValidateEnvironment),
		validateUpdate: strategy.UpdateValidator(validation.ValidateEnvironmentUpdate),
		prepareForCreate: func(_ context.Context, obj runtime.Object) {
			obj.(*metalv1alpha1.Environment).Status = metalv1alpha1.EnvironmentStatus{}
		},
		table: printers.NewEnvironmentTableConvertor(),
	}, {
		resource: "serverbindings", singular: "serverbinding", shortNames: []string{"sb"},
		newObj:         func() runtime.Object { return &metalv1alpha1.ServerBinding{} },
		newList:        func() runtime.Object { return &metalv1alpha1.ServerBindingList{} },
		validate:       strategy.Validator(validation.ValidateServerBinding),
		validateUpdate: strategy.UpdateValidator(validation.ValidateServerBindingUpdate),
		prepareForCreate: func(_ context.Context, obj runtime.Object) {
			obj.(*metalv1alpha1.ServerBinding).Status = metalv1alpha1.ServerBindingStatus{}
		},
		table: printers.NewServerBindingTableConvertor(),
	}}
	storage := map[string]rest.Storage{}
	stores := map[string]*tenantstore.REST{}
	for _, k := range kinds {
		s := strategy.New(typer, false, strategy.Funcs{
			Validate: k.validate, ValidateUpdate: k.validateUpdate, PrepareForCreate: k.prepareForCreate,
		}).WithStatus(apiVersion)
		store, err := tenantstore.NewREST(tenantstore.Kind{
			Resource: metalv1alpha1.Resource(k.resource), Singular: k.singular,
			New: k.newObj, NewList: k.newList,
			Strategy: s, Scope: tenantstore.SystemScoped,
			Table: k.table, ShortNames: k.shortNames, Categories: []string{"metal"},
		}, optsGetter)
		if err != nil {
			return nil, err
		}
		stores[k.resource] = store
		storage[k.resource] = store
		storage[k.resource+"/status"] = store.Status(s.StatusStrategy(apiVersion, k.validateUpdate))
	}
	storage["serverbindings"] = &bindingREST{REST: stores["serverbindings"], servers: stores["servers"]}
	return storage, nil
}

// bindingREST refuses a binding of a server that cannot be given out. The
// name of a binding is the server's, so etcd's create makes the binding
// exclusive; this check only turns a doomed claim into a clear error.
type bindingREST struct {
	*tenantstore.REST
	servers rest.Getter
}

func (r *bindingREST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	b, ok := obj.(*metalv1alpha1.ServerBinding)
	if !ok {
		return nil, apierrors.NewInternalError(fmt.Errorf("unexpected object %T", obj))
	}
	got, err := r.servers.Get(ctx, b.Name, &metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, apierrors.NewInvalid(metalv1alpha1.SchemeGroupVersion.WithKind("ServerBinding").GroupKind(), b.Name,
				field.ErrorList{field.NotFound(field.NewPath("metadata", "name"), b.Name)})
		}
		return nil, err
	}
	// A claimed server is dirty as soon as its binding is seen: a second
	// claim must hear that the server is taken, not that it is dirty.
	if _, err := r.REST.Get(ctx, b.Name, &metav1.GetOptions{}); err == nil {
		return nil, apierrors.NewAlreadyExists(metalv1alpha1.Resource("serverbindings"), b.Name)
	} else if !apierrors.IsNotFound(err) {
		return nil, err
	}
	s := got.(*metalv1alpha1.Server)
	var reason string
	switch {
	case s.DeletionTimestamp != nil:
		reason = "is being decommissioned"
	case !s.Spec.Accepted:
		reason = "is not accepted"
	case s.Spec.Cordoned:
		reason = "is cordoned"
	case !s.Status.IsClean:
		reason = "is not clean: it has not been wiped since its last use"
	}
	if reason != "" {
		return nil, apierrors.NewConflict(metalv1alpha1.Resource("serverbindings"), b.Name, fmt.Errorf("server %s %s", b.Name, reason))
	}
	return r.REST.Create(ctx, obj, createValidation, options)
}
