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

// Package deployment is kube-controller-manager's Deployment controller for
// every tenant of a region. A Deployment owns one ReplicaSet per pod
// template it has had, named <deployment>-<pod-template-hash>; it rolls
// from the old ones to the new one with the Recreate or RollingUpdate
// strategy (maxSurge, maxUnavailable), scales them proportionally when it
// is scaled mid-rollout, keeps revisionHistoryLimit old ones, stops rolling
// out while paused, and reports replicas and the Available and Progressing
// conditions exactly as Kubernetes does, which kubectl rollout reads.
//
// It watches deployments and replica sets across tenants (/tenants/*) into
// caches keyed by tenant, and acts on each deployment in its own tenant.
// Pods are the ReplicaSet controller's.
package deployment

import (
	"context"
	"maps"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	apps "github.com/arcturus-cloud/arcturus/pkg/apis/apps/v1"
	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/regionwatch"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/runner"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/tenantcache"
	"github.com/arcturus-cloud/arcturus/pkg/events"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

const name = "deployment-controller"

// controllerKind is what the ownerReferences of a deployment's replica sets
// name.
var controllerKind = apps.SchemeGroupVersion.WithKind("Deployment")

// Key names a deployment of any tenant.
type Key = tenantcache.Key

// Controller is the Deployment controller of every tenant.
type Controller struct {
	core *client.Core
	apps *client.Apps

	deployments *tenantcache.Cache[*apps.Deployment]
	replicaSets *tenantcache.Cache[*apps.ReplicaSet]

	queue    workqueue.TypedRateLimitingInterface[Key]
	recorder *events.TypedRecorder[*apps.Deployment]
	now      func() time.Time
}

// New returns a controller for the server base addresses. base must be a
// system identity and carry no /tenants/ prefix: the controller watches
// every tenant and addresses each tenant itself. It follows replica sets
// through feeds, which the caller runs.
func New(base *rest.Config, feeds *regionwatch.Feeds) (*Controller, error) {
	core, appsClient, err := regionwatch.NewWorkloadClients(base)
	if err != nil {
		return nil, err
	}
	c := &Controller{core: core, apps: appsClient, queue: runner.NewQueue[Key](name), now: time.Now}
	// Events go where the deployment is, through the one client the
	// controller has for every tenant of its partition.
	c.recorder = events.NewTypedRecorder(controllerKind,
		events.TypedSource[*apps.Deployment]{Component: name, Controller: "arcturus.io/" + name},
		func(*apps.Deployment) (*client.Core, bool) { return core, true })
	// Both kinds are written back whole and their annotations matter
	// (revisions, sizes, change-cause): only managed fields go.
	c.deployments = tenantcache.New(name+"/deployments", tenantcache.DropManagedFields[apps.Deployment],
		tenantcache.Handlers[*apps.Deployment]{Add: c.addDeployment, Update: c.updateDeployment, Delete: c.deleteDeployment})
	c.replicaSets = tenantcache.New(name+"/replicasets", tenantcache.DropManagedFields[apps.ReplicaSet],
		tenantcache.Handlers[*apps.ReplicaSet]{Add: c.addReplicaSet, Update: c.updateReplicaSet, Delete: c.deleteReplicaSet})
	feeds.ReplicaSets.Subscribe(c.replicaSets.Store(klog.Background().WithName(name)))
	return c, nil
}

// Run runs workers until ctx ends, then waits for its goroutines.
func (c *Controller) Run(ctx context.Context, workers int) {
	logger := klog.FromContext(ctx).WithName(name)
	ctx = klog.NewContext(ctx, logger)
	logger.Info("Starting controller", "workers", workers)

	var wg sync.WaitGroup
	wg.Go(func() { c.recorder.Run(ctx) })
	wg.Go(func() {
		c.deployments.Run(ctx, tenantcache.AcrossTenants(c.apps.ListDeployments, c.apps.WatchDeployments), &apps.Deployment{})
	})
	// Before both caches are full, a deployment would not find its
	// replica sets and create them again.
	if tenantcache.WaitForSync(ctx, c.deployments.Synced(), c.replicaSets.Synced()) {
		logger.Info("Caches synced", "deployments", c.deployments.Len(), "replicaSets", c.replicaSets.Len())
		for range workers {
			wg.Go(func() { runner.Work(ctx, c.queue, c.syncDeployment) })
		}
	}
	<-ctx.Done()
	c.queue.ShutDown()
	wg.Wait()
	logger.Info("Stopped controller")
}

func (c *Controller) addDeployment(d *apps.Deployment) { c.queue.Add(tenantcache.KeyOf(d)) }

func (c *Controller) updateDeployment(_, cur *apps.Deployment) { c.queue.Add(tenantcache.KeyOf(cur)) }

func (c *Controller) deleteDeployment(d *apps.Deployment) { c.queue.Add(tenantcache.KeyOf(d)) }

// resolve returns the deployment a controller reference of a replica set
// in tenant t and namespace ns names, if it is that very deployment.
func (c *Controller) resolve(t tenancy.Name, ns string, ref *metav1.OwnerReference) *apps.Deployment {
	if ref.Kind != controllerKind.Kind {
		return nil
	}
	if gv, err := schema.ParseGroupVersion(ref.APIVersion); err != nil || gv.Group != controllerKind.Group {
		return nil
	}
	d, ok := c.deployments.Get(Key{Tenant: t, Namespace: ns, Name: ref.Name})
	if !ok || d.UID != ref.UID {
		return nil
	}
	return d
}

// selecting returns the deployments whose selector matches an orphan
// replica set: those that may adopt it.
func (c *Controller) selecting(rs *apps.ReplicaSet) []*apps.Deployment {
	var out []*apps.Deployment
	for _, d := range c.deployments.List(tenancy.OfObject(rs.Annotations), rs.Namespace) {
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		// An empty selector selects nothing here rather than everything.
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(rs.Labels)) {
			continue
		}
		out = append(out, d)
	}
	return out
}

func (c *Controller) addReplicaSet(rs *apps.ReplicaSet) {
	if rs.DeletionTimestamp != nil {
		c.deleteReplicaSet(rs)
		return
	}
	t := tenancy.OfObject(rs.Annotations)
	if ref := metav1.GetControllerOfNoCopy(rs); ref != nil {
		if d := c.resolve(t, rs.Namespace, ref); d != nil {
			c.queue.Add(tenantcache.KeyOf(d))
		}
		return
	}
	for _, d := range c.selecting(rs) {
		c.queue.Add(tenantcache.KeyOf(d))
	}
}

func (c *Controller) updateReplicaSet(old, cur *apps.ReplicaSet) {
	if old.ResourceVersion == cur.ResourceVersion {
		return
	}
	t := tenancy.OfObject(cur.Annotations)
	curRef, oldRef := metav1.GetControllerOfNoCopy(cur), metav1.GetControllerOfNoCopy(old)
	refChanged := !sameRef(curRef, oldRef)
	if refChanged && oldRef != nil {
		if d := c.resolve(t, old.Namespace, oldRef); d != nil {
			c.queue.Add(tenantcache.KeyOf(d))
		}
	}
	if curRef != nil {
		if d := c.resolve(t, cur.Namespace, curRef); d != nil {
			c.queue.Add(tenantcache.KeyOf(d))
		}
		return
	}
	if refChanged || !maps.Equal(old.Labels, cur.Labels) {
		for _, d := range c.selecting(cur) {
			c.queue.Add(tenantcache.KeyOf(d))
		}
	}
}

func (c *Controller) deleteReplicaSet(rs *apps.ReplicaSet) {
	ref := metav1.GetControllerOfNoCopy(rs)
	if ref == nil {
		return
	}
	if d := c.resolve(tenancy.OfObject(rs.Annotations), rs.Namespace, ref); d != nil {
		c.queue.Add(tenantcache.KeyOf(d))
	}
}

func sameRef(a, b *metav1.OwnerReference) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.UID == b.UID && a.Name == b.Name && a.Kind == b.Kind && a.APIVersion == b.APIVersion
}
