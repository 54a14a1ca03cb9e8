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

package tenantstore

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// Kind describes one served resource.
type Kind struct {
	// Resource is the plural, group-qualified resource; Singular its singular.
	Resource schema.GroupResource
	Singular string
	New      func() runtime.Object
	NewList  func() runtime.Object
	// Strategy applies to create, update and delete.
	Strategy interface {
		rest.RESTCreateStrategy
		rest.RESTUpdateStrategy
		rest.RESTDeleteStrategy
	}
	Scope Scope
	// Attrs gives the labels and selectable fields of an object; nil means
	// metadata.name and metadata.namespace only.
	Attrs storage.AttrFunc
	// Table prints the kind for kubectl get; nil prints name and age.
	Table      rest.TableConvertor
	ShortNames []string
	Categories []string
	// TTL, when set, expires objects that long after their last write.
	TTL time.Duration
}

// REST is a registry store plus the discovery facts kubectl relies on.
type REST struct {
	*genericregistry.Store
	shortNames []string
	categories []string
}

var (
	_ rest.ShortNamesProvider = &REST{}
	_ rest.CategoriesProvider = &REST{}
)

func (r *REST) ShortNames() []string { return r.shortNames }
func (r *REST) Categories() []string { return r.categories }

// NewREST builds the storage of a kind.
func NewREST(k Kind, optsGetter generic.RESTOptionsGetter) (*REST, error) {
	if k.Scope == SystemScoped && !tenancy.SystemScopedResources[k.Resource] {
		// Its objects would land in the system tenant while the authorizer
		// let every tenant's identities write them.
		return nil, fmt.Errorf("%s is system-scoped but not in tenancy.SystemScopedResources", k.Resource)
	}
	table := k.Table
	if table == nil {
		table = rest.NewDefaultTableConvertor(k.Resource)
	}
	store := &genericregistry.Store{
		NewFunc:                   k.New,
		NewListFunc:               k.NewList,
		DefaultQualifiedResource:  k.Resource,
		SingularQualifiedResource: schema.GroupResource{Group: k.Resource.Group, Resource: k.Singular},
		CreateStrategy:            k.Strategy,
		UpdateStrategy:            k.Strategy,
		DeleteStrategy:            k.Strategy,
		TableConvertor:            table,
	}
	if rs, ok := k.Strategy.(rest.ResetFieldsStrategy); ok {
		store.ResetFieldsStrategy = rs
	}
	if k.TTL > 0 {
		seconds := uint64(k.TTL.Seconds())
		store.TTLFunc = func(runtime.Object, uint64, bool) (uint64, error) { return seconds, nil }
	}
	if err := Complete(store, k.Scope, &generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: k.Attrs}); err != nil {
		return nil, fmt.Errorf("building storage for %s: %w", k.Resource, err)
	}
	return &REST{Store: store, shortNames: k.ShortNames, categories: k.Categories}, nil
}

// StatusREST serves a status subresource: get, and update through the
// status strategy, over the main resource's storage.
type StatusREST struct {
	store *genericregistry.Store
}

var (
	_ rest.Patcher             = &StatusREST{}
	_ rest.ResetFieldsStrategy = &StatusREST{}
)

// Status returns the status subresource of r, writing through s.
func (r *REST) Status(s interface {
	rest.RESTUpdateStrategy
	rest.ResetFieldsStrategy
}) *StatusREST {
	sub := *r.Store
	sub.CreateStrategy = nil
	sub.DeleteStrategy = nil
	sub.UpdateStrategy = s
	sub.ResetFieldsStrategy = s
	return &StatusREST{store: &sub}
}

func (r *StatusREST) New() runtime.Object { return r.store.New() }

// Destroy does nothing: the main resource owns the storage.
func (r *StatusREST) Destroy() {}

func (r *StatusREST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	return r.store.Get(ctx, name, options)
}

// Update writes the status; a status update never creates an object.
func (r *StatusREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc,
	updateValidation rest.ValidateObjectUpdateFunc, _ bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	return r.store.Update(ctx, name, objInfo, createValidation, updateValidation, false, options)
}

func (r *StatusREST) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return r.store.GetResetFields()
}

func (r *StatusREST) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return r.store.ConvertToTable(ctx, object, tableOptions)
}

// NewRESTs builds the storage of several kinds, keyed by resource name.
func NewRESTs(kinds []Kind, optsGetter generic.RESTOptionsGetter) (map[string]rest.Storage, error) {
	out := make(map[string]rest.Storage, len(kinds))
	for _, k := range kinds {
		s, err := NewREST(k, optsGetter)
		if err != nil {
			return nil, err
		}
		out[k.Resource.Resource] = s
	}
	return out, nil
}

// GetCachedOrLive reads an object from the watch cache, and from etcd when
// the cache does not have it: an object created a moment ago may not have
// reached the cache yet.
func GetCachedOrLive(ctx context.Context, getter rest.Getter, name string) (runtime.Object, error) {
	obj, err := getter.Get(ctx, name, &metav1.GetOptions{ResourceVersion: "0"})
	if apierrors.IsNotFound(err) {
		return getter.Get(ctx, name, &metav1.GetOptions{})
	}
	return obj, err
}
