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

// Package tenantcache is a client-side cache of the objects of one resource
// in every tenant, filled by a reflector over /tenants/*: what a shared
// informer and its lister are to kube-controller-manager's controllers.
//
// Informers key objects by namespace/name, under which same-named objects
// of two tenants would overwrite each other; this cache keys them by
// tenant, namespace and name, lists them by tenant and namespace, and tells
// handlers of each change with the previous state.
package tenantcache

import (
	"context"
	"errors"
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// Object is what a cache holds: a typed API object.
type Object interface {
	metav1.Object
	runtime.Object
}

// Key names an object of any tenant. It is comparable, so it can key maps
// and work queues.
type Key struct {
	Tenant    tenancy.Name
	Namespace string
	Name      string
}

// KeyOf is the key of obj, whose tenant is its tenant annotation.
func KeyOf(obj metav1.Object) Key {
	return Key{Tenant: tenancy.OfObject(obj.GetAnnotations()), Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

func (k Key) String() string { return string(k.Tenant) + "/" + k.Namespace + "/" + k.Name }

// scope is a namespace of a tenant.
type scope struct {
	tenant    tenancy.Name
	namespace string
}

// Handlers are told of every change after the cache has applied it. They
// run on the reflector's goroutine, one at a time, so they should only
// queue work. Any of them may be nil.
type Handlers[T Object] struct {
	Add    func(obj T)
	Update func(old, cur T)
	Delete func(obj T)
}

// Cache holds the objects of one resource of every tenant. Objects it
// returns are shared: callers must copy them before changing them.
type Cache[T Object] struct {
	name     string
	trim     func(T) T
	handlers Handlers[T]

	mu      sync.RWMutex
	items   map[Key]T
	byScope map[scope]map[string]T

	synced   chan struct{}
	syncOnce sync.Once
}

// New returns an empty cache. trim, if set, returns what the cache keeps
// of each object, without what the controller never reads. It must leave
// its argument as it is: a feed hands the same object to other caches.
func New[T Object](name string, trim func(T) T, handlers Handlers[T]) *Cache[T] {
	return &Cache[T]{
		name: name, trim: trim, handlers: handlers,
		items: map[Key]T{}, byScope: map[scope]map[string]T{}, synced: make(chan struct{}),
	}
}

// Get returns the object named by k.
func (c *Cache[T]) Get(k Key) (T, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	obj, ok := c.items[k]
	return obj, ok
}

// List returns the objects of a namespace of a tenant, in no order.
func (c *Cache[T]) List(tenant tenancy.Name, namespace string) []T {
	c.mu.RLock()
	defer c.mu.RUnlock()
	names := c.byScope[scope{tenant, namespace}]
	out := make([]T, 0, len(names))
	for _, obj := range names {
		out = append(out, obj)
	}
	return out
}

// Len is the number of objects held.
func (c *Cache[T]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.items)
}

// Synced is closed once the cache holds a first full list.
func (c *Cache[T]) Synced() <-chan struct{} { return c.synced }

// Run fills the cache from lw until ctx ends. lw must list and watch every
// tenant (/tenants/*); it is used by plain list and watch, never by
// watch-list, whose temporary store would merge same-named objects of
// different tenants.
func (c *Cache[T]) Run(ctx context.Context, lw cache.ListerWatcher, expected T) {
	logger := klog.FromContext(ctx)
	r := cache.NewReflectorWithOptions(tenancy.ListWatchOnly(lw), expected, c.Store(logger),
		cache.ReflectorOptions{Name: c.name, Logger: &logger})
	r.RunWithContext(ctx)
}

// Store returns the cache as a reflector's store, to fill it from a watch
// shared with other caches; logger reports objects it cannot keep.
func (c *Cache[T]) Store(logger klog.Logger) cache.ReflectorStore {
	return &store[T]{c: c, logger: logger}
}

// AcrossTenants lists and watches a resource in every namespace of every
// tenant, through a typed client's list and watch of one tenant and
// namespace.
func AcrossTenants[L runtime.Object](
	listOf func(context.Context, tenancy.Name, string, metav1.ListOptions) (L, error),
	watchOf func(context.Context, tenancy.Name, string, metav1.ListOptions) (watch.Interface, error),
) cache.ListerWatcher {
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return listOf(ctx, tenancy.Wildcard, metav1.NamespaceAll, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return watchOf(ctx, tenancy.Wildcard, metav1.NamespaceAll, o)
		},
	}
}

// WaitForSync waits until every cache has synced or ctx ends, and reports
// whether they all synced.
func WaitForSync(ctx context.Context, synced ...<-chan struct{}) bool {
	for _, ch := range synced {
		select {
		case <-ctx.Done():
			return false
		case <-ch:
		}
	}
	return true
}

// set stores obj and returns what it replaced.
func (c *Cache[T]) set(k Key, obj T) (old T, existed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, existed = c.items[k]
	c.items[k] = obj
	s := scope{k.Tenant, k.Namespace}
	names := c.byScope[s]
	if names == nil {
		names = map[string]T{}
		c.byScope[s] = names
	}
	names[k.Name] = obj
	return old, existed
}

// remove forgets the object named by k and returns it.
func (c *Cache[T]) remove(k Key) (old T, existed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, existed = c.items[k]
	if !existed {
		return old, false
	}
	delete(c.items, k)
	s := scope{k.Tenant, k.Namespace}
	delete(c.byScope[s], k.Name)
	if len(c.byScope[s]) == 0 {
		delete(c.byScope, s)
	}
	return old, true
}

// store is the reflector's view of a cache.
type store[T Object] struct {
	c      *Cache[T]
	logger klog.Logger
}

var _ cache.ReflectorStore = &store[*metav1.PartialObjectMetadata]{}

var errNoTenant = errors.New("object has no tenant annotation")

// key checks and keys an object the reflector hands over.
func (s *store[T]) key(obj any) (T, Key, error) {
	typed, ok := obj.(T)
	if !ok {
		var zero T
		return zero, Key{}, fmt.Errorf("unexpected object %T in cache %s", obj, s.c.name)
	}
	k := KeyOf(typed)
	if k.Tenant == "" {
		return typed, k, fmt.Errorf("%s/%s: %w", k.Namespace, k.Name, errNoTenant)
	}
	return typed, k, nil
}

func (s *store[T]) Add(obj any) error    { return s.put(obj) }
func (s *store[T]) Update(obj any) error { return s.put(obj) }

func (s *store[T]) put(obj any) error {
	typed, k, err := s.key(obj)
	if err != nil {
		return err
	}
	s.store(typed, k)
	return nil
}

func (s *store[T]) store(obj T, k Key) {
	if s.c.trim != nil {
		obj = s.c.trim(obj)
	}
	old, existed := s.c.set(k, obj)
	h := s.c.handlers
	switch {
	case !existed && h.Add != nil:
		h.Add(obj)
	case existed && h.Update != nil:
		h.Update(old, obj)
	}
}

func (s *store[T]) Delete(obj any) error {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	typed, k, err := s.key(obj)
	if err != nil {
		return err
	}
	if _, existed := s.c.remove(k); existed && s.c.handlers.Delete != nil {
		// The final state is the watch's, fresher than the cached one.
		if s.c.trim != nil {
			typed = s.c.trim(typed)
		}
		s.c.handlers.Delete(typed)
	}
	return nil
}

// Replace takes a full list: objects missing from it were deleted while
// the watch was down. An object that cannot be keyed is skipped rather
// than failing the list, which would stall every other object.
func (s *store[T]) Replace(list []any, _ string) error {
	seen := make(map[Key]bool, len(list))
	for _, obj := range list {
		typed, k, err := s.key(obj)
		if err != nil {
			s.logger.Error(err, "Skipping object that cannot be cached", "cache", s.c.name)
			continue
		}
		seen[k] = true
		if old, ok := s.c.Get(k); ok && old.GetResourceVersion() == typed.GetResourceVersion() {
			continue
		}
		s.store(typed, k)
	}
	var gone []Key
	s.c.mu.RLock()
	for k := range s.c.items {
		if !seen[k] {
			gone = append(gone, k)
		}
	}
	s.c.mu.RUnlock()
	for _, k := range gone {
		if old, existed := s.c.remove(k); existed && s.c.handlers.Delete != nil {
			s.c.handlers.Delete(old)
		}
	}
	s.c.syncOnce.Do(func() { close(s.c.synced) })
	return nil
}

// Resync is not used: controllers requeue what they wait for themselves.
func (s *store[T]) Resync() error { return nil }

// KeepAnnotations drops managed fields and every annotation but the
// tenant's and keep, for caches of objects that are never written back
// whole (only patched or deleted), across many tenants. It changes obj's
// annotations and managed fields to new ones, leaving the old ones as they
// were, so that obj can be a shallow copy of an object others hold.
func KeepAnnotations(obj metav1.Object, keep ...string) {
	obj.SetManagedFields(nil)
	in := obj.GetAnnotations()
	var out map[string]string
	for _, k := range append(keep, tenancy.Annotation) {
		if v, ok := in[k]; ok {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	obj.SetAnnotations(out)
}

// DropManagedFields returns a shallow copy of obj without its managed
// fields, which no controller reads and which are often most of its
// metadata. Objects a controller writes back whole keep everything else:
// an update without them would remove them.
func DropManagedFields[O any, T interface {
	*O
	metav1.Object
}](obj T) T {
	kept := T(new(O))
	*kept = *obj
	kept.SetManagedFields(nil)
	return kept
}
