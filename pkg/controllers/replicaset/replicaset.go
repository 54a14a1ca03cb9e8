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

// Package replicaset is kube-controller-manager's ReplicaSet controller for
// every tenant of a region: each ReplicaSet keeps spec.replicas pods that
// its selector matches and that it controls, adopting matching orphans and
// releasing pods it no longer selects, creating pods from its (superset)
// template in slow-start bursts and deleting the least valuable pods first;
// and it reports their counts in its status.
//
// It watches replica sets and pods across tenants (/tenants/*) into caches
// keyed by tenant, and acts on each replica set in its own tenant.
package replicaset

import (
	"context"
	"maps"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	apps "github.com/arcturus-cloud/arcturus/pkg/apis/apps/v1"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/regionwatch"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/runner"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/tenantcache"
	"github.com/arcturus-cloud/arcturus/pkg/events"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

const name = "replicaset-controller"

// controllerKind is what the ownerReferences of a replica set's pods name.
var controllerKind = apps.SchemeGroupVersion.WithKind("ReplicaSet")

// Key names a replica set of any tenant.
type Key = tenantcache.Key

// Controller is the ReplicaSet controller of every tenant.
type Controller struct {
	core *client.Core
	apps *client.Apps

	replicaSets *tenantcache.Cache[*apps.ReplicaSet]
	pods        *tenantcache.Cache[*v1.Pod]

	expectations *expectations
	queue        workqueue.TypedRateLimitingInterface[Key]
	recorder     *events.TypedRecorder[*apps.ReplicaSet]
}

// New returns a controller for the server base addresses. base must be a
// system identity and carry no /tenants/ prefix: the controller watches
// every tenant and addresses each tenant itself. It follows replica sets
// and pods through feeds, which the caller runs.
func New(base *rest.Config, feeds *regionwatch.Feeds) (*Controller, error) {
	core, appsClient, err := regionwatch.NewWorkloadClients(base)
	if err != nil {
		return nil, err
	}
	c := &Controller{
		core: core, apps: appsClient,
		expectations: newExpectations(time.Now),
		queue:        runner.NewQueue[Key](name),
	}
	// Events go where the replica set is, through the one client the
	// controller has for every tenant of its partition.
	c.recorder = events.NewTypedRecorder(controllerKind,
		events.TypedSource[*apps.ReplicaSet]{Component: name, Controller: "arcturus.io/" + name},
		func(*apps.ReplicaSet) (*client.Core, bool) { return core, true })
	// Replica sets are written back whole (their status), so they keep
	// everything but managed fields.
	c.replicaSets = tenantcache.New(name+"/replicasets", tenantcache.DropManagedFields[apps.ReplicaSet],
		tenantcache.Handlers[*apps.ReplicaSet]{Add: c.addReplicaSet, Update: c.updateReplicaSet, Delete: c.deleteReplicaSet})
	c.pods = tenantcache.New(name+"/pods", trimPod,
		tenantcache.Handlers[*v1.Pod]{Add: c.addPod, Update: c.updatePod, Delete: c.deletePod})
	logger := klog.Background().WithName(name)
	feeds.ReplicaSets.Subscribe(c.replicaSets.Store(logger))
	feeds.Pods.Subscribe(c.pods.Store(logger))
	return c, nil
}

// Run runs workers until ctx ends, then waits for its goroutines.
func (c *Controller) Run(ctx context.Context, workers int) {
	logger := klog.FromContext(ctx).WithName(name)
	ctx = klog.NewContext(ctx, logger)
	logger.Info("Starting controller", "workers", workers)

	var wg sync.WaitGroup
	wg.Go(func() { c.recorder.Run(ctx) })
	// Workers start once both caches are full: before, every replica set
	// would look short of pods.
	if tenantcache.WaitForSync(ctx, c.replicaSets.Synced(), c.pods.Synced()) {
		logger.Info("Caches synced", "replicaSets", c.replicaSets.Len(), "pods", c.pods.Len())
		for range workers {
			wg.Go(func() { runner.Work(ctx, c.queue, c.sync) })
		}
	}
	<-ctx.Done()
	c.queue.ShutDown()
	wg.Wait()
	logger.Info("Stopped controller")
}

func (c *Controller) addReplicaSet(rs *apps.ReplicaSet) { c.queue.Add(tenantcache.KeyOf(rs)) }

func (c *Controller) updateReplicaSet(old, cur *apps.ReplicaSet) {
	if old.UID != cur.UID {
		// Deleted and recreated under the same name while the watch
		// was down: the old one's expectations do not apply.
		c.deleteReplicaSet(old)
	}
	c.queue.Add(tenantcache.KeyOf(cur))
}

func (c *Controller) deleteReplicaSet(rs *apps.ReplicaSet) {
	key := tenantcache.KeyOf(rs)
	// A replica set created again under this name starts clean.
	c.expectations.forget(key)
	c.queue.Add(key)
}

// resolve returns the replica set a controller reference of a pod in
// tenant t and namespace ns names, if it is that very replica set.
func (c *Controller) resolve(t tenancy.Name, ns string, ref *metav1.OwnerReference) *apps.ReplicaSet {
	if ref.Kind != controllerKind.Kind {
		return nil
	}
	if gv, err := schema.ParseGroupVersion(ref.APIVersion); err != nil || gv.Group != controllerKind.Group {
		return nil
	}
	rs, ok := c.replicaSets.Get(Key{Tenant: t, Namespace: ns, Name: ref.Name})
	if !ok || rs.UID != ref.UID {
		return nil
	}
	return rs
}

// selecting returns the replica sets whose selector matches an orphan pod:
// those that may adopt it.
func (c *Controller) selecting(pod *v1.Pod) []*apps.ReplicaSet {
	var out []*apps.ReplicaSet
	for _, rs := range c.replicaSets.List(tenancy.OfObject(pod.Annotations), pod.Namespace) {
		if selects(rs, pod.Labels) {
			out = append(out, rs)
		}
	}
	return out
}

func (c *Controller) addPod(pod *v1.Pod) {
	if pod.DeletionTimestamp != nil {
		// Already being deleted when first seen (a relist): it counts
		// as deleted for expectations.
		c.deletePod(pod)
		return
	}
	t := tenancy.OfObject(pod.Annotations)
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		rs := c.resolve(t, pod.Namespace, ref)
		if rs == nil {
			return
		}
		key := tenantcache.KeyOf(rs)
		c.expectations.creationObserved(key)
		c.queue.Add(key)
		return
	}
	for _, rs := range c.selecting(pod) {
		c.queue.Add(tenantcache.KeyOf(rs))
	}
}

func (c *Controller) updatePod(old, cur *v1.Pod) {
	if old.ResourceVersion == cur.ResourceVersion {
		return
	}
	labelsChanged := !maps.Equal(old.Labels, cur.Labels)
	if cur.DeletionTimestamp != nil {
		// A pod being deleted is gone as far as its replica set is
		// concerned: it is not counted, and it may be replaced now.
		c.deletePod(cur)
		if labelsChanged {
			c.deletePod(old)
		}
		return
	}
	t := tenancy.OfObject(cur.Annotations)
	curRef, oldRef := metav1.GetControllerOfNoCopy(cur), metav1.GetControllerOfNoCopy(old)
	refChanged := !sameRef(curRef, oldRef)
	if refChanged && oldRef != nil {
		if rs := c.resolve(t, old.Namespace, oldRef); rs != nil {
			c.queue.Add(tenantcache.KeyOf(rs))
		}
	}
	if curRef != nil {
		rs := c.resolve(t, cur.Namespace, curRef)
		if rs == nil {
			return
		}
		key := tenantcache.KeyOf(rs)
		c.queue.Add(key)
		// A pod that just became ready becomes available minReadySeconds
		// later, with no event to say so.
		if rs.Spec.MinReadySeconds > 0 && !podReady(old) && podReady(cur) {
			c.queue.AddAfter(key, time.Duration(rs.Spec.MinReadySeconds)*time.Second+time.Second)
		}
		return
	}
	if labelsChanged || refChanged {
		for _, rs := range c.selecting(cur) {
			c.queue.Add(tenantcache.KeyOf(rs))
		}
	}
}

func (c *Controller) deletePod(pod *v1.Pod) {
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil {
		return
	}
	rs := c.resolve(tenancy.OfObject(pod.Annotations), pod.Namespace, ref)
	if rs == nil {
		return
	}
	key := tenantcache.KeyOf(rs)
	c.expectations.deletionObserved(key, pod.UID)
	c.queue.Add(key)
}

func sameRef(a, b *metav1.OwnerReference) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.UID == b.UID && a.Name == b.Name && a.Kind == b.Kind && a.APIVersion == b.APIVersion
}
