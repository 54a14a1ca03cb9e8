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

package regionwatch

import (
	"context"
	"errors"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	appsv1 "github.com/arcturus-cloud/arcturus/pkg/apis/apps/v1"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/tenantcache"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// Feed is one list and watch of a resource whose objects go to every store
// subscribed to it, so that the controllers of one process that follow the
// same resource (every pod of the region) cost the server one watch and
// one decoding of each event between them, as kube-controller-manager's
// shared informers do.
//
// The stores are handed the same objects, one after another in the order
// they subscribed, from the feed's goroutine. A store must not modify an
// object it is handed: the next store gets the same one.
type Feed struct {
	name string
	obj  runtime.Object
	lw   cache.ListerWatcher

	mu      sync.Mutex
	stores  fanout
	running bool
}

// NewFeed returns a feed of objects like obj, listed and watched through
// lw; name names it in logs.
func NewFeed(name string, obj runtime.Object, lw cache.ListerWatcher) *Feed {
	return &Feed{name: name, obj: obj, lw: tenancy.ListWatchOnly(lw)}
}

// Subscribe adds store to the feed. It must be called before Run.
func (f *Feed) Subscribe(store cache.ReflectorStore) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running {
		panic("regionwatch: Subscribe to feed " + f.name + " after it started")
	}
	f.stores = append(f.stores, store)
}

// Run lists and watches into the subscribed stores until ctx ends. A feed
// nobody subscribed to returns at once, without a watch.
func (f *Feed) Run(ctx context.Context) {
	f.mu.Lock()
	f.running = true
	stores := f.stores
	f.mu.Unlock()
	if len(stores) == 0 {
		return
	}
	logger := klog.FromContext(ctx)
	cache.NewReflectorWithOptions(f.lw, f.obj, stores, cache.ReflectorOptions{Name: f.name, Logger: &logger}).RunWithContext(ctx)
}

// fanout is a reflector's store that hands everything to several stores.
// One store's error does not keep the object from the others; a list one
// store refuses is listed again for all of them, as the reflector does.
type fanout []cache.ReflectorStore

func (f fanout) each(do func(cache.ReflectorStore) error) error {
	var errs []error
	for _, s := range f {
		if err := do(s); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (f fanout) Add(obj any) error {
	return f.each(func(s cache.ReflectorStore) error { return s.Add(obj) })
}

func (f fanout) Update(obj any) error {
	return f.each(func(s cache.ReflectorStore) error { return s.Update(obj) })
}

func (f fanout) Delete(obj any) error {
	return f.each(func(s cache.ReflectorStore) error { return s.Delete(obj) })
}

// Replace hands each store a list of its own: stores own the lists they are
// given.
func (f fanout) Replace(list []any, resourceVersion string) error {
	return f.each(func(s cache.ReflectorStore) error {
		return s.Replace(append([]any(nil), list...), resourceVersion)
	})
}

func (f fanout) Resync() error {
	return f.each(func(s cache.ReflectorStore) error { return s.Resync() })
}

// Feeds are the watches the controllers of one process share.
type Feeds struct {
	// Pods are every tenant's pods, as the superset type.
	Pods *Feed
	// ReplicaSets are every tenant's replica sets.
	ReplicaSets *Feed
}

// NewFeeds returns the feeds of the server base addresses, as a system
// master of no tenant, over one HTTP client of their own.
func NewFeeds(base *rest.Config) (*Feeds, error) {
	core, apps, err := NewWorkloadClients(base)
	if err != nil {
		return nil, err
	}
	return &Feeds{
		Pods:        NewFeed("pods", &v1.Pod{}, tenantcache.AcrossTenants(core.ListPods, core.WatchPods)),
		ReplicaSets: NewFeed("replicasets", &appsv1.ReplicaSet{}, tenantcache.AcrossTenants(apps.ListReplicaSets, apps.WatchReplicaSets)),
	}, nil
}

// Run runs every feed until ctx ends and they have returned.
func (f *Feeds) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, feed := range []*Feed{f.Pods, f.ReplicaSets} {
		wg.Go(func() { feed.Run(ctx) })
	}
	wg.Wait()
}
