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
	"time"

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

	mu         sync.RWMutex
	tenants    map[tenancy.Name]tenantEntry
	namespaces map[tenantNamespace]bool // → terminating
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
		tenants:        map[tenancy.Name]tenantEntry{},
		namespaces:     map[tenantNamespace]bool{},
	}
}

// Run fills the index and keeps it current until ctx ends.
func (x *lifecycleIndex) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for name, feed := range map[string]struct {
		store restStore
		sink  indexSink
	}{
		"tenants":    {x.tenantStore, indexSink{put: x.putTenant, remove: x.removeTenant, replace: x.replaceTenants}},
		"namespaces": {x.namespaceStore, indexSink{put: x.putNamespace, remove: x.removeNamespace, replace: x.replaceNamespaces}},
	} {
		logger := klog.FromContext(ctx).WithValues("index", name)
		r := cache.NewReflectorWithOptions(storageListWatch(feed.store), nil, feed.sink,
			cache.ReflectorOptions{Name: "lifecycle index of " + name, Logger: &logger, MinWatchTimeout: 5 * time.Minute})
		wg.Go(func() { r.RunWithContext(ctx) })
	}
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
	x.mu.RLock()
	e, ok := x.tenants[name]
	x.mu.RUnlock()
	if ok {
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
	x.mu.RLock()
	terminating, ok := x.namespaces[tenantNamespace{t, name}]
	x.mu.RUnlock()
	if ok {
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

func namespaceKey(ns *corev1.Namespace) tenantNamespace {
	return tenantNamespace{tenancy.Name(ns.Annotations[tenancy.Annotation]), ns.Name}
}

func (x *lifecycleIndex) putTenant(obj any) {
	t := obj.(*tenancyv1.Tenant)
	x.mu.Lock()
	x.tenants[tenancy.Name(t.Name)] = tenantEntryOf(t)
	x.mu.Unlock()
}

func (x *lifecycleIndex) removeTenant(obj any) {
	t := obj.(*tenancyv1.Tenant)
	x.mu.Lock()
	delete(x.tenants, tenancy.Name(t.Name))
	x.mu.Unlock()
}

func (x *lifecycleIndex) replaceTenants(objs []any) {
	tenants := make(map[tenancy.Name]tenantEntry, len(objs))
	for _, obj := range objs {
		t := obj.(*tenancyv1.Tenant)
		tenants[tenancy.Name(t.Name)] = tenantEntryOf(t)
	}
	x.mu.Lock()
	x.tenants = tenants
	x.mu.Unlock()
}

func (x *lifecycleIndex) putNamespace(obj any) {
	ns := obj.(*corev1.Namespace)
	x.mu.Lock()
	x.namespaces[namespaceKey(ns)] = namespaceTerminating(ns)
	x.mu.Unlock()
}

func (x *lifecycleIndex) removeNamespace(obj any) {
	ns := obj.(*corev1.Namespace)
	x.mu.Lock()
	delete(x.namespaces, namespaceKey(ns))
	x.mu.Unlock()
}

func (x *lifecycleIndex) replaceNamespaces(objs []any) {
	namespaces := make(map[tenantNamespace]bool, len(objs))
	for _, obj := range objs {
		ns := obj.(*corev1.Namespace)
		namespaces[namespaceKey(ns)] = namespaceTerminating(ns)
	}
	x.mu.Lock()
	x.namespaces = namespaces
	x.mu.Unlock()
}

// indexSink is the reflector's store: it hands each object to the index,
// which keeps what it needs of it, and keeps nothing itself.
type indexSink struct {
	put, remove func(obj any)
	replace     func(objs []any)
}

var _ cache.ReflectorStore = indexSink{}

func (s indexSink) Add(obj any) error    { s.put(obj); return nil }
func (s indexSink) Update(obj any) error { s.put(obj); return nil }
func (s indexSink) Delete(obj any) error { s.remove(obj); return nil }
func (s indexSink) Replace(objs []any, _ string) error {
	s.replace(objs)
	return nil
}
func (indexSink) Resync() error { return nil }

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
