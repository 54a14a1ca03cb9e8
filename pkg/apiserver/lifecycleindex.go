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

package apiserver

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// lifecycleIndex knows, for every tenant and namespace of the partition,
// what a request needs on its way in: whether it exists, whether it is
// terminating, and a tenant's quota. It is fed by watches of their storage
// and keeps a few bytes per entry, so that these lookups cost neither an
// etcd read per request nor decoded objects kept in the watch cache for
// every idle tenant. An entry not yet seen (created a moment ago, or before
// the first list) is read from storage.
type lifecycleIndex struct {
	tenantStore    restStore
	namespaceStore restStore

	tenants    *entries[tenancy.Name, tenantEntry]
	namespaces *entries[tenantNamespace, bool] // → terminating
}

type tenantEntry struct {
	terminating bool
	quota       corev1.ResourceList
}

type tenantNamespace struct {
	tenant tenancy.Name
	name   string
}

// restStore is the registry storage the index lists, watches and reads.
type restStore interface {
	rest.Getter
	rest.Lister
	rest.Watcher
}

func newLifecycleIndex(tenants, namespaces restStore) *lifecycleIndex {
	return &lifecycleIndex{
		tenantStore:    tenants,
		namespaceStore: namespaces,
		tenants: newEntries(func(obj any) (tenancy.Name, tenantEntry) {
			t := obj.(*tenancyv1.Tenant)
			return tenancy.Name(t.Name), tenantEntryOf(t)
		}),
		namespaces: newEntries(func(obj any) (tenantNamespace, bool) {
			ns := obj.(*corev1.Namespace)
			return tenantNamespace{tenancy.Name(ns.Annotations[tenancy.Annotation]), ns.Name}, namespaceTerminating(ns)
		}),
	}
}

// Run fills the index and keeps it current until ctx ends.
func (x *lifecycleIndex) Run(ctx context.Context) {
	var wg sync.WaitGroup
	feed := func(name string, store restStore, sink cache.ReflectorStore) {
		logger := klog.FromContext(ctx).WithValues("index", name)
		r := cache.NewReflectorWithOptions(storageListWatch(store), nil, sink,
			cache.ReflectorOptions{Name: "lifecycle index of " + name, Logger: &logger})
		wg.Go(func() { r.RunWithContext(ctx) })
	}
	feed("tenants", x.tenantStore, x.tenants)
	feed("namespaces", x.namespaceStore, x.namespaces)
	wg.Wait()
}

// Tenant is a tenancy.Lookup.
func (x *lifecycleIndex) Tenant(ctx context.Context, name tenancy.Name) (exists, terminating bool, err error) {
	e, ok, err := x.tenant(ctx, name)
	return ok, e.terminating, err
}

// TenantQuota is the quota of a tenant, nil for none or for a tenant that
// does not exist.
func (x *lifecycleIndex) TenantQuota(ctx context.Context, name tenancy.Name) (corev1.ResourceList, error) {
	e, _, err := x.tenant(ctx, name)
	return e.quota, err
}

func (x *lifecycleIndex) tenant(ctx context.Context, name tenancy.Name) (tenantEntry, bool, error) {
	if e, ok := x.tenants.get(name); ok {
		return e, true, nil
	}
	obj, err := x.tenantStore.Get(genericapirequest.WithNamespace(tenancy.WithTenant(ctx, tenancy.System), metav1.NamespaceNone),
		string(name), &metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return tenantEntry{}, false, nil
	}
	if err != nil {
		return tenantEntry{}, false, fmt.Errorf("reading tenant %s: %w", name, err)
	}
	return tenantEntryOf(obj.(*tenancyv1.Tenant)), true, nil
}

// Namespace tells whether a namespace of the tenant of ctx exists and
// whether it is terminating.
func (x *lifecycleIndex) Namespace(ctx context.Context, name string) (exists, terminating bool, err error) {
	t, _ := tenancy.From(ctx)
	if terminating, ok := x.namespaces.get(tenantNamespace{t, name}); ok {
		return true, terminating, nil
	}
	obj, err := x.namespaceStore.Get(genericapirequest.WithNamespace(ctx, metav1.NamespaceNone), name, &metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("reading namespace %s: %w", name, err)
	}
	return true, namespaceTerminating(obj.(*corev1.Namespace)), nil
}

func tenantEntryOf(t *tenancyv1.Tenant) tenantEntry {
	e := tenantEntry{terminating: t.DeletionTimestamp != nil || t.Status.Phase == tenancyv1.TenantTerminating}
	if len(t.Spec.Quota) > 0 {
		e.quota = t.Spec.Quota.DeepCopy()
	}
	return e
}

func namespaceTerminating(ns *corev1.Namespace) bool {
	return ns.DeletionTimestamp != nil || ns.Status.Phase == corev1.NamespaceTerminating
}

// entries is a map that a reflector fills: entry makes the key and value
// of an object, keeping only what the index needs of it.
type entries[K comparable, V any] struct {
	entry func(obj any) (K, V)
	mu    sync.RWMutex
	m     map[K]V
}

var _ cache.ReflectorStore = &entries[string, bool]{}

func newEntries[K comparable, V any](entry func(obj any) (K, V)) *entries[K, V] {
	return &entries[K, V]{entry: entry, m: map[K]V{}}
}

func (e *entries[K, V]) get(k K) (V, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	v, ok := e.m[k]
	return v, ok
}

func (e *entries[K, V]) Add(obj any) error {
	k, v := e.entry(obj)
	e.mu.Lock()
	e.m[k] = v
	e.mu.Unlock()
	return nil
}

func (e *entries[K, V]) Update(obj any) error { return e.Add(obj) }

func (e *entries[K, V]) Delete(obj any) error {
	k, _ := e.entry(obj)
	e.mu.Lock()
	delete(e.m, k)
	e.mu.Unlock()
	return nil
}

func (e *entries[K, V]) Replace(objs []any, _ string) error {
	m := make(map[K]V, len(objs))
	for _, obj := range objs {
		k, v := e.entry(obj)
		m[k] = v
	}
	e.mu.Lock()
	e.m = m
	e.mu.Unlock()
	return nil
}

func (e *entries[K, V]) Resync() error { return nil }

// storageListWatch lists and watches a resource of every tenant straight
// from its registry storage, as the watch cache does, without a request.
func storageListWatch(store restStore) cache.ListerWatcher {
	everyTenant := func(ctx context.Context) context.Context {
		return genericapirequest.WithNamespace(tenancy.WithTenant(ctx, tenancy.Wildcard), metav1.NamespaceNone)
	}
	internal := func(opts metav1.ListOptions) (*metainternalversion.ListOptions, error) {
		var out metainternalversion.ListOptions
		if err := metainternalversion.Convert_v1_ListOptions_To_internalversion_ListOptions(&opts, &out, nil); err != nil {
			return nil, fmt.Errorf("list options: %w", err)
		}
		return &out, nil
	}
	return tenancy.ListWatchOnly(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			in, err := internal(opts)
			if err != nil {
				return nil, err
			}
			return store.List(everyTenant(ctx), in)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			in, err := internal(opts)
			if err != nil {
				return nil, err
			}
			return store.Watch(everyTenant(ctx), in)
		},
	})
}
