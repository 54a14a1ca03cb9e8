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

package garbagecollector

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/regionwatch"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// monitor feeds the graph the objects of one resource of every tenant. It
// is a reflector's store but keeps nothing: the graph holds what is needed
// of the objects, and knows which resource reported each. Its reflector is
// its own, a metadata-only watch, or that of a feed the process's other
// controllers share.
type monitor struct {
	resource schema.GroupVersionResource
	graph    *graph
	started  time.Time
	synced   atomic.Bool
	// cancel and done are those of the monitor's own reflector, nil for
	// one fed by a shared feed: that one is never stopped.
	cancel context.CancelFunc
	done   chan struct{}
}

var _ cache.ReflectorStore = &monitor{}

// startMonitor starts watching resource through client, which addresses
// every tenant (/tenants/*).
func startMonitor(ctx context.Context, client metadata.Interface, resource schema.GroupVersionResource, g *graph) *monitor {
	ctx, cancel := context.WithCancel(ctx)
	m := &monitor{
		resource: resource, graph: g, started: time.Now(), cancel: cancel, done: make(chan struct{}),
	}
	ri := client.Resource(resource)
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			list, err := ri.List(ctx, opts)
			if err != nil && ctx.Err() == nil {
				errorsTotal.WithLabelValues("list").Inc()
			}
			return list, err
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			return ri.Watch(ctx, opts)
		},
	}
	logger := klog.FromContext(ctx).WithValues("resource", resource.String())
	// Plain list and watch: a watch-list would gather objects in a store
	// keyed by namespace and name, merging same-named objects of tenants.
	reflector := cache.NewReflectorWithOptions(tenancy.ListWatchOnly(lw), &metav1.PartialObjectMetadata{}, m,
		cache.ReflectorOptions{Name: "garbage-collector " + resource.String(), Logger: &logger})
	go func() {
		defer close(m.done)
		reflector.RunWithContext(ctx)
	}()
	return m
}

// subscribeMonitor returns a monitor of resource fed by feed, which must
// not have started and must list and watch that resource of every tenant.
func subscribeMonitor(feed *regionwatch.Feed, resource schema.GroupVersionResource, g *graph) *monitor {
	m := &monitor{resource: resource, graph: g, started: time.Now()}
	feed.Subscribe(m)
	return m
}

// stop stops the monitor's own watch and waits for it; with forget, the
// graph forgets the objects it reported, as the resource is no longer
// served.
func (m *monitor) stop(forget bool) {
	m.cancel()
	<-m.done
	if forget {
		m.graph.removeResourceExcept(m.resource, nil)
	}
}

// settled tells whether the monitor has listed its resource once, or has
// tried for longer than timeout: a resource that cannot be listed must not
// stop the garbage collector for good.
func (m *monitor) settled(timeout time.Duration) bool {
	return m.synced.Load() || time.Since(m.started) > timeout
}

// object returns the metadata of what a reflector hands the monitor.
func (m *monitor) object(obj any) (metav1.Object, error) {
	o, err := meta.Accessor(obj)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.resource, err)
	}
	return o, nil
}

func (m *monitor) Add(obj any) error    { return m.put(obj) }
func (m *monitor) Update(obj any) error { return m.put(obj) }

func (m *monitor) put(obj any) error {
	o, err := m.object(obj)
	if err != nil {
		return err
	}
	if _, ok := keyOf(o); !ok {
		return fmt.Errorf("%s %s/%s has no %s annotation or no UID", m.resource, o.GetNamespace(), o.GetName(), tenancy.Annotation)
	}
	m.graph.observe(o, &m.resource)
	return nil
}

func (m *monitor) Delete(obj any) error {
	o, err := m.object(obj)
	if err != nil {
		return err
	}
	key, ok := keyOf(o)
	if !ok {
		return nil
	}
	m.graph.remove(key)
	return nil
}

// Replace takes a full list: objects missing from it were deleted while the
// watch was down. One that cannot be keyed is skipped, not the whole list.
func (m *monitor) Replace(list []any, _ string) error {
	seen := make(map[objectKey]struct{}, len(list))
	for _, obj := range list {
		o, err := m.object(obj)
		if err != nil {
			continue
		}
		key, ok := keyOf(o)
		if !ok {
			continue
		}
		seen[key] = struct{}{}
		m.graph.observe(o, &m.resource)
	}
	m.graph.removeResourceExcept(m.resource, seen)
	m.synced.Store(true)
	return nil
}

// Resync does nothing: the reflector runs without a resync period, and the
// graph is rebuilt from lists, not from a store.
func (m *monitor) Resync() error { return nil }
