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

package agent

import (
	"context"
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// boundPod is a pod bound to one of the agent's nodes, with the tenant
// partition it lives in.
type boundPod struct {
	pod       *v1.Pod
	partition *client.Core
}

func (b boundPod) tenant() tenancy.Name { return tenancy.OfObject(b.pod.Annotations) }

// podCache holds the pods bound to the agent's nodes, from every tenant of
// every tenant partition, keyed by UID: namespace/name repeats across
// tenants, a UID does not.
type podCache struct {
	mu   sync.RWMutex
	pods map[types.UID]boundPod
}

func newPodCache() *podCache { return &podCache{pods: map[types.UID]boundPod{}} }

func (c *podCache) get(uid types.UID) (boundPod, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	p, ok := c.pods[uid]
	return p, ok
}

// partitionStore feeds one tenant partition's reflector into the cache and
// queues the UID of every pod that changes, appears or disappears.
type partitionStore struct {
	cache     *podCache
	partition *client.Core
	wanted    func(*v1.Pod) bool
	enqueue   func(types.UID)
	// known are the UIDs this partition contributed, for Replace.
	known map[types.UID]bool
}

var _ cache.ReflectorStore = &partitionStore{}

func (s *partitionStore) Add(obj any) error    { return s.put(obj) }
func (s *partitionStore) Update(obj any) error { return s.put(obj) }

func (s *partitionStore) put(obj any) error {
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return fmt.Errorf("unexpected object %T in pod cache", obj)
	}
	if !s.wanted(pod) {
		return s.Delete(obj)
	}
	s.cache.mu.Lock()
	s.cache.pods[pod.UID] = boundPod{pod: pod, partition: s.partition}
	s.cache.mu.Unlock()
	s.known[pod.UID] = true
	s.enqueue(pod.UID)
	return nil
}

// forget drops a pod this partition contributed and queues it, so that
// what the node holds of it is removed.
func (s *partitionStore) forget(uid types.UID) {
	s.cache.mu.Lock()
	delete(s.cache.pods, uid)
	s.cache.mu.Unlock()
	delete(s.known, uid)
	s.enqueue(uid)
}

func (s *partitionStore) Delete(obj any) error {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return fmt.Errorf("unexpected object %T in pod cache", obj)
	}
	if s.known[pod.UID] {
		s.forget(pod.UID)
	}
	return nil
}

// Replace takes a full relist: pods missing from it were deleted while the
// watch was down and are queued so that their remains are removed.
func (s *partitionStore) Replace(list []any, _ string) error {
	seen := make(map[types.UID]bool, len(list))
	for _, obj := range list {
		if pod, ok := obj.(*v1.Pod); ok {
			seen[pod.UID] = true
		}
		if err := s.put(obj); err != nil {
			return err
		}
	}
	for uid := range s.known {
		if !seen[uid] {
			s.forget(uid)
		}
	}
	return nil
}

// Resync queues every pod again; the agent's periodic sync does the same
// per pod, so it is not used.
func (s *partitionStore) Resync() error { return nil }

// podListWatch lists and watches the pods of every tenant of a partition
// that match fieldSelector.
func podListWatch(c *client.Core, fieldSelector string) cache.ListerWatcher {
	return tenancy.ListWatchOnly(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			opts.FieldSelector = fieldSelector
			return c.ListPods(ctx, tenancy.Wildcard, metav1.NamespaceAll, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			opts.FieldSelector = fieldSelector
			return c.WatchPods(ctx, tenancy.Wildcard, metav1.NamespaceAll, opts)
		},
	})
}
