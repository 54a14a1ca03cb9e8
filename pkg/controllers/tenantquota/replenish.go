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

package tenantquota

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/klog/v2"

	usage "github.com/arcturus-cloud/arcturus/pkg/admission/tenantquota"
	arcv1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// Replenishment: for each resource some quota counts, one watch across all
// tenants (/tenants/*) reports deletions, and for pods also pods that
// finish, so that the tenant is recounted a moment later instead of at the
// next resync. The watches keep no objects: a region's pods would cost
// memory per tenant, and the recount lists what it needs. Creations need
// no watch; admission charged them.

// replenisher is the watch of one resource.
type replenisher struct {
	// tenants is how many tenants' quotas count the resource.
	tenants int
	cancel  context.CancelFunc
	done    chan struct{}
}

// errNotServed marks a resource that a quota names but the server does
// not serve to tenants (yet).
var errNotServed = errors.New("not served")

// watchLocked changes by delta the number of tenants whose quotas count gr,
// starting its watch when the first appears and stopping it after the
// last. c.mu is held.
func (c *Controller) watchLocked(gr schema.GroupResource, delta int) {
	r := c.watched[gr]
	if r == nil {
		if delta <= 0 {
			return
		}
		r = &replenisher{}
		c.watched[gr] = r
	}
	r.tenants += delta
	if r.tenants <= 0 {
		if r.cancel != nil {
			r.cancel()
		}
		delete(c.watched, gr)
		return
	}
	if r.cancel == nil && c.ctx != nil {
		ctx, cancel := context.WithCancel(c.ctx)
		r.cancel, r.done = cancel, make(chan struct{})
		go func() {
			defer close(r.done)
			c.replenish(ctx, gr)
		}()
	}
}

// stopWatches stops every watch and waits for them.
func (c *Controller) stopWatches() {
	c.mu.Lock()
	var done []chan struct{}
	for gr, r := range c.watched {
		if r.cancel != nil {
			r.cancel()
			done = append(done, r.done)
		}
		delete(c.watched, gr)
	}
	c.mu.Unlock()
	for _, d := range done {
		<-d
	}
}

// replenish watches gr until ctx ends, starting over after failures.
func (c *Controller) replenish(ctx context.Context, gr schema.GroupResource) {
	logger := klog.FromContext(ctx).WithValues("resource", gr.String())
	ctx = klog.NewContext(ctx, logger)
	logger.V(2).Info("Watching for replenishment")
	for {
		err := c.watchDeletions(ctx, gr)
		if ctx.Err() != nil {
			return
		}
		// A resource not served yet is looked for again at the pace of
		// the resync; a failed watch sooner.
		delay := 5 * time.Second
		if errors.Is(err, errNotServed) {
			delay = c.cfg.ResyncPeriod
		}
		logger.V(2).Info("Watch for replenishment ended; starting over", "err", err, "after", delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// watchDeletions lists gr to learn the current resource version, recounts
// the tenants that count gr (deletions before then were not seen), and
// watches from there for as long as the server lets it resume. It returns
// nil when the watch must start over from a new list.
func (c *Controller) watchDeletions(ctx context.Context, gr schema.GroupResource) error {
	rv, err := c.currentVersion(ctx, gr)
	if err != nil {
		return err
	}
	for _, name := range c.quotaTenants() {
		if c.countsResource(name, gr) {
			c.queue.Add(name)
		}
	}
	for ctx.Err() == nil {
		w, err := c.watchFrom(ctx, gr, rv)
		if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
			return nil
		}
		if err != nil {
			return err
		}
		rv, err = c.consume(ctx, gr, w, rv)
		w.Stop()
		if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// consume handles the events of w until it closes and returns the resource
// version to resume from.
func (c *Controller) consume(ctx context.Context, gr schema.GroupResource, w watch.Interface, rv string) (string, error) {
	for {
		select {
		case <-ctx.Done():
			return rv, nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				return rv, nil
			}
			if ev.Type == watch.Error {
				return rv, apierrors.FromObject(ev.Object)
			}
			obj, err := meta.Accessor(ev.Object)
			if err != nil {
				return rv, fmt.Errorf("watch event of %T: %w", ev.Object, err)
			}
			rv = obj.GetResourceVersion()
			if releases(gr, ev) {
				if t := tenantOf(obj); c.countsResource(t, gr) {
					c.queue.AddAfter(t, replenishDelay)
				}
			}
		}
	}
}

// releases tells whether an event may give quota back: an object deleted,
// or a pod finished.
func releases(gr schema.GroupResource, ev watch.Event) bool {
	switch ev.Type {
	case watch.Deleted:
		return true
	case watch.Modified:
		pod, ok := ev.Object.(*arcv1.Pod)
		return ok && gr == usage.PodsResource &&
			(pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed)
	}
	return false
}

// currentVersion is the resource version of gr across tenants now, from a
// list of one object.
func (c *Controller) currentVersion(ctx context.Context, gr schema.GroupResource) (string, error) {
	opts := metav1.ListOptions{Limit: 1}
	var list runtime.Object
	var err error
	if gr == usage.PodsResource {
		list, err = c.core.ListPods(ctx, tenancy.Wildcard, metav1.NamespaceAll, opts)
	} else {
		gvr, ok, lookupErr := c.resources.lookup(ctx, gr)
		if lookupErr != nil {
			return "", lookupErr
		}
		if !ok {
			return "", errNotServed
		}
		list, err = c.wildcard.Resource(gvr).List(ctx, opts)
	}
	if err != nil {
		return "", fmt.Errorf("listing %s: %w", gr, err)
	}
	lm, err := meta.ListAccessor(list)
	if err != nil {
		return "", err
	}
	return lm.GetResourceVersion(), nil
}

// watchFrom watches gr across tenants from resource version rv.
func (c *Controller) watchFrom(ctx context.Context, gr schema.GroupResource, rv string) (watch.Interface, error) {
	opts := metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true}
	if gr == usage.PodsResource {
		return c.core.WatchPods(ctx, tenancy.Wildcard, metav1.NamespaceAll, opts)
	}
	gvr, ok, err := c.resources.lookup(ctx, gr)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNotServed
	}
	return c.wildcard.Resource(gvr).Watch(ctx, opts)
}
