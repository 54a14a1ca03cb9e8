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

// Package runner runs a reconcile loop: a reflector lists and watches one
// resource, every object it sees queues a key, and workers reconcile keys
// until the context ends.
//
// It does not use shared informers because they key objects by
// namespace/name, under which same-named objects of two tenants collide when
// a controller watches every tenant (/tenants/*). Here the caller chooses the
// key, and reconcilers read the live object by it.
package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// ErrWaiting marks a reconcile that is not done yet because something it
// waits for (objects being deleted) is still there. The key is retried with
// back-off like any failure, but logged quietly.
var ErrWaiting = errors.New("waiting")

// maxRetryDelay caps the back-off: a tenant or namespace that waits for
// content to go away is looked at again at least this often.
const maxRetryDelay = 30 * time.Second

// Config describes one controller.
type Config struct {
	// Name names the queue, the reflector and the logger.
	Name string
	// ListerWatcher and ObjectType are what the reflector lists and watches.
	ListerWatcher cache.ListerWatcher
	ObjectType    runtime.Object
	// Key gives the queue key of an object. Objects it fails for are
	// skipped and logged.
	Key cache.KeyFunc
	// Filter, if set, tells which objects need reconciling; the keys of
	// the others are not queued.
	Filter func(obj any) bool
	// Reconcile brings the object named by key to its desired state. It
	// must be idempotent; a returned error retries the key with back-off.
	Reconcile func(ctx context.Context, key string) error
	// Workers reconcile keys in parallel; one key is never reconciled by
	// two workers at once.
	Workers int
	// Resync queues every known key again this often, so that state changed
	// behind the controller's back (a bootstrap object deleted) is repaired.
	Resync time.Duration
}

// Run runs the controller until ctx ends, then waits for its goroutines.
func Run(ctx context.Context, c Config) {
	logger := klog.FromContext(ctx).WithName(c.Name)
	ctx = klog.NewContext(ctx, logger)

	queue := NewQueue[string](c.Name)
	store := newQueueingStore(c.Key, c.Filter, queue, logger)
	lw := tenancy.ListWatchOnly(c.ListerWatcher)
	reflector := cache.NewReflectorWithOptions(lw, c.ObjectType, store, cache.ReflectorOptions{
		Name: c.Name, ResyncPeriod: c.Resync, Logger: &logger,
	})

	logger.Info("Starting controller", "workers", c.Workers)
	var wg sync.WaitGroup
	wg.Go(func() { reflector.RunWithContext(ctx) })
	for range c.Workers {
		wg.Go(func() { Work(ctx, queue, c.Reconcile) })
	}
	<-ctx.Done()
	// Workers return once the item in hand is done; its requests fail fast
	// now that ctx has ended.
	queue.ShutDown()
	wg.Wait()
	logger.Info("Stopped controller")
}

// NewQueue returns the queue Run uses, for controllers that fill their own
// queues: failed keys are retried with per-key exponential back-off, capped
// so that a key waiting for something is looked at again now and then.
func NewQueue[T comparable](name string) workqueue.TypedRateLimitingInterface[T] {
	return workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.NewTypedWithMaxWaitRateLimiter(workqueue.DefaultTypedControllerRateLimiter[T](), maxRetryDelay),
		workqueue.TypedRateLimitingQueueConfig[T]{Name: name},
	)
}

// Work reconciles keys from queue until the queue shuts down, as each of
// Run's workers does: a failed key is retried with back-off, quietly if it
// failed with ErrWaiting.
func Work[T comparable](ctx context.Context, queue workqueue.TypedRateLimitingInterface[T], reconcile func(context.Context, T) error) {
	for processNext(ctx, queue, reconcile) {
	}
}

func processNext[T comparable](ctx context.Context, queue workqueue.TypedRateLimitingInterface[T], reconcile func(context.Context, T) error) bool {
	key, quit := queue.Get()
	if quit {
		return false
	}
	defer queue.Done(key)

	logger := klog.FromContext(ctx).WithValues("key", key)
	err := reconcile(klog.NewContext(ctx, logger), key)
	switch {
	case err == nil:
		queue.Forget(key)
	case ctx.Err() != nil:
		// Shutting down: the failure is ours, not the object's.
	case errors.Is(err, ErrWaiting):
		logger.V(4).Info("Waiting", "reason", err.Error())
		queue.AddRateLimited(key)
	default:
		utilruntime.HandleErrorWithContext(ctx, err, "Reconcile failed; retrying", "key", key)
		queue.AddRateLimited(key)
	}
	return true
}

// queueingStore is the reflector's store: it queues the key of every
// object added or updated that passes the filter, and remembers the keys it
// was given with whether they passed, so that a resync can queue them
// again. It keeps no objects: reconcilers read the live object by key, and
// a copy of every tenant's objects would cost memory for nothing.
// Deletions queue nothing, as there is nothing left to reconcile.
type queueingStore struct {
	key    cache.KeyFunc
	filter func(obj any) bool
	queue  workqueue.TypedInterface[string]
	logger klog.Logger

	mu sync.Mutex
	// keys maps each known key to whether its object passed the filter.
	keys map[string]bool
}

var _ cache.ReflectorStore = &queueingStore{}

func newQueueingStore(key cache.KeyFunc, filter func(obj any) bool, queue workqueue.TypedInterface[string], logger klog.Logger) *queueingStore {
	return &queueingStore{key: key, filter: filter, queue: queue, logger: logger, keys: map[string]bool{}}
}

func (s *queueingStore) Add(obj any) error    { return s.put(obj) }
func (s *queueingStore) Update(obj any) error { return s.put(obj) }

func (s *queueingStore) put(obj any) error {
	key, err := s.key(obj)
	if err != nil {
		return fmt.Errorf("keying object: %w", err)
	}
	wanted := s.wanted(obj)
	s.mu.Lock()
	s.keys[key] = wanted
	s.mu.Unlock()
	if wanted {
		s.queue.Add(key)
	}
	return nil
}

func (s *queueingStore) wanted(obj any) bool { return s.filter == nil || s.filter(obj) }

func (s *queueingStore) Delete(obj any) error {
	key, err := s.key(obj)
	if err != nil {
		return fmt.Errorf("keying object: %w", err)
	}
	s.mu.Lock()
	delete(s.keys, key)
	s.mu.Unlock()
	return nil
}

// Replace takes a full list. An object that cannot be keyed is skipped
// rather than failing the whole list, which would stall every other key.
func (s *queueingStore) Replace(list []any, _ string) error {
	keys := make(map[string]bool, len(list))
	for _, obj := range list {
		key, err := s.key(obj)
		if err != nil {
			s.logger.Error(err, "Skipping object that cannot be keyed")
			continue
		}
		keys[key] = s.wanted(obj)
	}
	s.mu.Lock()
	s.keys = keys
	s.mu.Unlock()
	return s.Resync()
}

func (s *queueingStore) Resync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, wanted := range s.keys {
		if wanted {
			s.queue.Add(key)
		}
	}
	return nil
}
