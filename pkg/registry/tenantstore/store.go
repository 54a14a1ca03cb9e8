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
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/storage"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// Scope says where a resource's objects live.
type Scope int

const (
	// TenantScoped objects live in the tenant the request addresses.
	TenantScoped Scope = iota
	// SystemScoped objects (tenants, nodes) live in the system tenant only.
	SystemScoped
)

// Complete finishes a registry store the way CompleteWithOptions does, but
// with tenant-aware storage keys and the tenant annotation stamped on create
// and held fixed on update. The store must have its strategies, NewFunc,
// NewListFunc, qualified resources and TableConvertor set.
func Complete(store *genericregistry.Store, scope Scope, options *generic.StoreOptions) error {
	if store.CreateStrategy == nil {
		return fmt.Errorf("store for %s must have a CreateStrategy", store.DefaultQualifiedResource)
	}
	restOptions, err := options.RESTOptions.GetRESTOptions(store.DefaultQualifiedResource, store.NewFunc())
	if err != nil {
		return fmt.Errorf("storage options for %s: %w", store.DefaultQualifiedResource, err)
	}
	layout := keyLayout{
		prefix:     "/" + trimSlash(restOptions.ResourcePrefix),
		namespaced: store.CreateStrategy.NamespaceScoped(),
		systemOnly: scope == SystemScoped,
	}
	store.KeyRootFunc = layout.root
	store.KeyFunc = layout.key

	attrFunc := options.AttrFunc
	if attrFunc == nil {
		attrFunc = storage.DefaultClusterScopedAttr
		if layout.namespaced {
			attrFunc = storage.DefaultNamespaceScopedAttr
		}
	}
	// The storage is built here rather than in CompleteWithOptions because
	// the watch cache must key objects by tenant, which only the object's
	// annotation tells it.
	s, destroy, err := restOptions.Decorator(restOptions.StorageConfig, layout.prefix, layout.cacheKey,
		store.NewFunc, store.NewListFunc, attrFunc, options.TriggerFunc, options.Indexers)
	if err != nil {
		return fmt.Errorf("storage for %s: %w", store.DefaultQualifiedResource, err)
	}
	store.Storage.Codec = restOptions.StorageConfig.Codec
	store.Storage.Storage = s
	store.DestroyFunc = destroy
	store.StorageVersioner = restOptions.StorageConfig.EncodeVersioner

	guard := annotationGuard{layout: layout, resource: store.DefaultQualifiedResource}
	store.BeginCreate = chainCreate(guard.beginCreate, store.BeginCreate)
	store.BeginUpdate = chainUpdate(guard.beginUpdate, store.BeginUpdate)

	if err := store.CompleteWithOptions(options); err != nil {
		return err
	}
	return nil
}

func trimSlash(s string) string {
	for len(s) > 0 && s[0] == '/' {
		s = s[1:]
	}
	return s
}

// annotationGuard keeps arcturus.io/tenant true to where an object is stored.
type annotationGuard struct {
	layout   keyLayout
	resource schema.GroupResource
}

var annotationPath = field.NewPath("metadata", "annotations").Key(tenancy.Annotation)

func (g annotationGuard) beginCreate(ctx context.Context, obj runtime.Object, _ *metav1.CreateOptions) (genericregistry.FinishFunc, error) {
	t, err := g.layout.tenant(ctx)
	if err != nil {
		return nil, err
	}
	if t.IsWildcard() {
		return nil, apierrors.NewBadRequest("objects cannot be created across all tenants; address one tenant")
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	if v, ok := m.GetAnnotations()[tenancy.Annotation]; ok && v != string(t) {
		return nil, g.invalid(obj, m.GetName(), field.Invalid(annotationPath, v, "is set by the server to the object's tenant "+string(t)))
	}
	setAnnotation(m, string(t))
	return noopFinish, nil
}

func (g annotationGuard) beginUpdate(_ context.Context, obj, old runtime.Object, _ *metav1.UpdateOptions) (genericregistry.FinishFunc, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	oldMeta, err := meta.Accessor(old)
	if err != nil {
		return nil, err
	}
	want := oldMeta.GetAnnotations()[tenancy.Annotation]
	// A client that omits the annotation (a manifest, a replace) keeps it;
	// a client that sends another value is refused.
	if v, ok := m.GetAnnotations()[tenancy.Annotation]; ok && v != want {
		return nil, g.invalid(obj, m.GetName(), field.Invalid(annotationPath, v, "field is immutable"))
	}
	setAnnotation(m, want)
	return noopFinish, nil
}

func (g annotationGuard) invalid(obj runtime.Object, name string, errs ...*field.Error) error {
	kind := reflect.TypeOf(obj).Elem().Name()
	return apierrors.NewInvalid(schema.GroupKind{Group: g.resource.Group, Kind: kind}, name, errs)
}

func setAnnotation(m metav1.Object, value string) {
	annotations := m.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[tenancy.Annotation] = value
	m.SetAnnotations(annotations)
}

func noopFinish(context.Context, bool) {}

func chainCreate(first, next genericregistry.BeginCreateFunc) genericregistry.BeginCreateFunc {
	if next == nil {
		return first
	}
	return func(ctx context.Context, obj runtime.Object, options *metav1.CreateOptions) (genericregistry.FinishFunc, error) {
		if _, err := first(ctx, obj, options); err != nil {
			return nil, err
		}
		return next(ctx, obj, options)
	}
}

func chainUpdate(first, next genericregistry.BeginUpdateFunc) genericregistry.BeginUpdateFunc {
	if next == nil {
		return first
	}
	return func(ctx context.Context, obj, old runtime.Object, options *metav1.UpdateOptions) (genericregistry.FinishFunc, error) {
		if _, err := first(ctx, obj, old, options); err != nil {
			return nil, err
		}
		return next(ctx, obj, old, options)
	}
}
