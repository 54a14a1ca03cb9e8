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

// Package garbagecollector is Kubernetes' garbage collector for every tenant
// of a region: objects whose owners (metadata.ownerReferences) are gone are
// deleted, owners deleted in the foreground wait for their blocking
// dependents, and owners deleted with the orphan policy release their
// dependents first.
//
// It watches every served resource that can be listed, watched and deleted,
// across all tenants (/tenants/*) and metadata only, and keeps a graph of
// objects keyed by tenant and UID. Pods and replica sets, the resources
// with the most objects and the most changes, it takes from the feeds the
// workload controllers of its process follow, rather than watching them a
// second time. It acts only after reading the objects concerned afresh in
// their own tenant, so a stale graph delays work but never deletes what it
// should not.
package garbagecollector

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/content"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/regionwatch"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/runner"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/tenantclient"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

const (
	// discoveryPeriod is how often served resources are discovered again,
	// so that new groups are watched and vanished ones dropped; it is
	// kube-controller-manager's default.
	discoveryPeriod = 30 * time.Second
	// syncTimeout bounds how long a resource that cannot be listed holds
	// up the start of the workers and the release of foreground and
	// orphan deletions, which need every dependent in the graph.
	syncTimeout = time.Minute
)

// ignoredResources are never watched, as by Kubernetes' garbage collector:
// events are many, short-lived, and own nothing.
var ignoredResources = map[schema.GroupResource]bool{
	{Group: "", Resource: "events"}:              true,
	{Group: "events.k8s.io", Resource: "events"}: true,
}

// kindInfo is where objects of a kind are served.
type kindInfo struct {
	resource   schema.GroupVersionResource
	namespaced bool
}

// Controller is the garbage collector of every tenant.
type Controller struct {
	clients   *tenantclient.Factory
	discovery discovery.CachedDiscoveryInterfaceWithContext
	// all lists and watches every tenant's objects.
	all    metadata.Interface
	graph  *graph
	absent *absentOwners

	discoveryPeriod time.Duration
	syncTimeout     time.Duration

	// deleteQueue holds objects to look at (attemptToDelete), orphanQueue
	// owners whose dependents are to be orphaned. Run makes them.
	deleteQueue workqueue.TypedRateLimitingInterface[objectKey]
	orphanQueue workqueue.TypedRateLimitingInterface[objectKey]

	// shared are the monitors fed by feeds, fixed at New; monitors are
	// the ones discovery starts and stops.
	shared     []*monitor
	discovered atomic.Bool
	mu         sync.RWMutex
	kinds      map[schema.GroupVersionKind]kindInfo
	monitors   map[schema.GroupVersionResource]*monitor
}

// New returns a garbage collector that talks to the server base addresses.
// base must be a system identity and carry no /tenants/ prefix: the
// collector watches every tenant and addresses each tenant itself. It
// follows pods and replica sets through feeds, which the caller runs.
func New(base *rest.Config, feeds *regionwatch.Feeds) (*Controller, error) {
	clients, err := tenantclient.New(base)
	if err != nil {
		return nil, err
	}
	all, err := clients.Metadata(tenancy.Wildcard)
	if err != nil {
		return nil, err
	}
	// Discovery is the same for every tenant; the system tenant always
	// exists.
	disc, err := clients.Discovery(tenancy.System)
	if err != nil {
		return nil, err
	}
	c := &Controller{
		clients:         clients,
		discovery:       memory.NewMemCacheClientWithContext(disc),
		all:             all,
		graph:           newGraph(),
		absent:          newAbsentOwners(),
		discoveryPeriod: discoveryPeriod,
		syncTimeout:     syncTimeout,
		kinds:           map[schema.GroupVersionKind]kindInfo{},
		monitors:        map[schema.GroupVersionResource]*monitor{},
		// The queues exist from the start, as the feeds may hand over
		// objects before Run.
		deleteQueue: runner.NewQueue[objectKey]("garbage-collector-delete"),
		orphanQueue: runner.NewQueue[objectKey]("garbage-collector-orphan"),
	}
	c.graph.attemptToDelete = c.deleteQueue.Add
	c.graph.attemptToOrphan = c.orphanQueue.Add
	c.shared = []*monitor{
		subscribeMonitor(feeds.Pods, schema.GroupVersionResource{Version: "v1", Resource: "pods"}, c.graph),
		subscribeMonitor(feeds.ReplicaSets, schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}, c.graph),
	}
	c.graph.resourceOf = func(gvk schema.GroupVersionKind) (schema.GroupResource, bool) {
		k, ok := c.kind(gvk)
		return k.resource.GroupResource(), ok
	}
	return c, nil
}

// Run collects garbage with the given number of workers until ctx ends. It
// may be called once.
func (c *Controller) Run(ctx context.Context, workers int) {
	logger := klog.FromContext(ctx).WithName("garbage-collector")
	ctx = klog.NewContext(ctx, logger)
	logger.Info("Starting controller", "workers", workers)
	watchedResources.Add(float64(len(c.shared)))

	var wg sync.WaitGroup
	wg.Go(func() { c.runDiscovery(ctx) })
	// Workers start once the graph holds what exists, so that an owner
	// not seen yet is not mistaken for one that is gone; they would be
	// right anyway, as they check, but at the cost of a request each.
	_ = wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(context.Context) (bool, error) {
		return c.settled(), nil
	})
	if ctx.Err() == nil {
		logger.Info("Dependency graph built", "objects", c.graph.size(), "resources", c.monitorCount())
	}
	for range workers {
		wg.Go(func() { runner.Work(ctx, c.deleteQueue, c.attemptToDelete) })
		wg.Go(func() { runner.Work(ctx, c.orphanQueue, c.attemptToOrphan) })
	}

	<-ctx.Done()
	c.deleteQueue.ShutDown()
	c.orphanQueue.ShutDown()
	wg.Wait()
	c.mu.Lock()
	monitors := c.monitors
	c.monitors = map[schema.GroupVersionResource]*monitor{}
	c.mu.Unlock()
	for _, m := range monitors {
		m.stop(false)
	}
	watchedResources.Add(-float64(len(monitors) + len(c.shared)))
	graphObjects.Add(-float64(c.graph.size()))
	logger.Info("Stopped controller")
}

// runDiscovery discovers served resources now and every discoveryPeriod
// until ctx ends; every second until the first discovery succeeds.
func (c *Controller) runDiscovery(ctx context.Context) {
	for {
		if err := c.refresh(ctx); err != nil && ctx.Err() == nil {
			errorsTotal.WithLabelValues("discovery").Inc()
			klog.FromContext(ctx).Error(err, "Discovery failed; watching what was found")
		}
		delay := c.discoveryPeriod
		if !c.discovered.Load() {
			delay = time.Second
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// refresh discovers served resources, starts monitors for new ones, and
// stops those of resources no longer served. Resources of group versions
// whose discovery failed keep their monitors: failing to see a group is no
// sign that its objects are gone.
func (c *Controller) refresh(ctx context.Context) error {
	c.discovery.InvalidateWithContext(ctx)
	_, all, allErr := c.discovery.ServerGroupsAndResourcesWithContext(ctx)
	if allErr != nil && !discovery.IsGroupDiscoveryFailedError(allErr) {
		return fmt.Errorf("discovering resources: %w", allErr)
	}
	preferred, prefErr := c.discovery.ServerPreferredResourcesWithContext(ctx)
	if prefErr != nil && !discovery.IsGroupDiscoveryFailedError(prefErr) {
		return fmt.Errorf("discovering preferred resources: %w", prefErr)
	}
	failed := map[schema.GroupVersion]error{}
	for _, err := range []error{allErr, prefErr} {
		var groupErr *discovery.ErrGroupDiscoveryFailed
		if errors.As(err, &groupErr) {
			maps.Copy(failed, groupErr.Groups)
		}
	}
	watchable, selectErr := content.Watchable(preferred)
	fed := map[schema.GroupResource]bool{}
	for _, m := range c.shared {
		fed[m.resource.GroupResource()] = true
	}
	desired := map[schema.GroupVersionResource]bool{}
	for _, r := range watchable {
		if gr := r.GroupResource(); !ignoredResources[gr] && !fed[gr] {
			desired[r.GroupVersionResource] = true
		}
	}

	kinds := kindsOf(all)
	var stop []*monitor
	c.mu.Lock()
	for gvk, k := range c.kinds {
		if _, ok := failed[gvk.GroupVersion()]; ok {
			kinds[gvk] = k
		}
	}
	c.kinds = kinds
	for gvr, m := range c.monitors {
		if _, ok := failed[gvr.GroupVersion()]; !desired[gvr] && !ok {
			stop = append(stop, m)
			delete(c.monitors, gvr)
		}
	}
	var started []string
	for gvr := range desired {
		if c.monitors[gvr] == nil {
			c.monitors[gvr] = startMonitor(ctx, c.all, gvr, c.graph)
			started = append(started, gvr.String())
		}
	}
	c.mu.Unlock()

	logger := klog.FromContext(ctx)
	for _, m := range stop {
		logger.Info("Resource no longer served; not watching it", "resource", m.resource.String())
		m.stop(true)
	}
	if len(started) > 0 {
		logger.V(2).Info("Watching resources", "resources", strings.Join(started, ","))
	}
	watchedResources.Add(float64(len(started) - len(stop)))
	c.discovered.Store(true)
	var discoveryErr error
	if len(failed) > 0 {
		discoveryErr = fmt.Errorf("discovering resources: %w", &discovery.ErrGroupDiscoveryFailed{Groups: failed})
	}
	return errors.Join(discoveryErr, selectErr)
}

// kindsOf maps every kind of the discovery lists, in every version, to its
// resource: owner references may name any served version.
func kindsOf(lists []*metav1.APIResourceList) map[schema.GroupVersionKind]kindInfo {
	kinds := map[schema.GroupVersionKind]kindInfo{}
	for _, list := range lists {
		if list == nil {
			continue
		}
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") || r.Kind == "" {
				continue
			}
			kinds[gv.WithKind(r.Kind)] = kindInfo{resource: gv.WithResource(r.Name), namespaced: r.Namespaced}
		}
	}
	return kinds
}

// kind returns where objects of gvk are served.
func (c *Controller) kind(gvk schema.GroupVersionKind) (kindInfo, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	k, ok := c.kinds[gvk]
	return k, ok
}

// settled tells whether the graph holds every watched resource's objects:
// resources have been discovered and each monitor has listed once (or given
// up waiting for a list that keeps failing).
func (c *Controller) settled() bool {
	if !c.discovered.Load() {
		return false
	}
	for _, m := range c.shared {
		if !m.settled(c.syncTimeout) {
			return false
		}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, m := range c.monitors {
		if !m.settled(c.syncTimeout) {
			return false
		}
	}
	return true
}

func (c *Controller) monitorCount() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.monitors) + len(c.shared)
}
