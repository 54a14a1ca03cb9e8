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

package scheduler

import (
	"context"
	"fmt"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	toolscache "k8s.io/client-go/tools/cache"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// activePods leaves out finished pods, as kube-scheduler's informer does: a
// pod that finishes leaves the watch as a deletion and frees its room.
const activePods = "status.phase!=" + string(corev1.PodSucceeded) + ",status.phase!=" + string(corev1.PodFailed)

// handlerStore is a reflector's store that hands every object to the
// scheduler instead of keeping it; it remembers keys only, so that a
// relist can report what disappeared while the watch was down.
type handlerStore struct {
	key      func(obj any) (string, error)
	set      func(obj any)
	remove   func(obj any)
	known    map[string]any
	synced   atomic.Bool
	typeName string
}

var _ toolscache.ReflectorStore = &handlerStore{}

func (s *handlerStore) Add(obj any) error    { return s.put(obj) }
func (s *handlerStore) Update(obj any) error { return s.put(obj) }

func (s *handlerStore) put(obj any) error {
	tenancy.TrimForCache(obj)
	k, err := s.key(obj)
	if err != nil {
		return fmt.Errorf("keying %s: %w", s.typeName, err)
	}
	s.known[k] = obj
	s.set(obj)
	return nil
}

func (s *handlerStore) Delete(obj any) error {
	if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	k, err := s.key(obj)
	if err != nil {
		return fmt.Errorf("keying %s: %w", s.typeName, err)
	}
	delete(s.known, k)
	s.remove(obj)
	return nil
}

func (s *handlerStore) Replace(list []any, _ string) error {
	seen := make(map[string]bool, len(list))
	for _, obj := range list {
		k, err := s.key(obj)
		if err != nil {
			return fmt.Errorf("keying %s: %w", s.typeName, err)
		}
		seen[k] = true
		if err := s.put(obj); err != nil {
			return err
		}
	}
	for k, obj := range s.known {
		if !seen[k] {
			delete(s.known, k)
			s.remove(obj)
		}
	}
	s.synced.Store(true)
	return nil
}

func (s *handlerStore) Resync() error { return nil }

func podUID(obj any) (string, error) {
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return "", fmt.Errorf("unexpected object %T", obj)
	}
	return string(pod.UID), nil
}

func nodeName(obj any) (string, error) {
	node, ok := obj.(*corev1.Node)
	if !ok {
		return "", fmt.Errorf("unexpected object %T", obj)
	}
	return node.Name, nil
}

// podListWatch lists and watches the unfinished pods of every tenant of a
// tenant partition.
func podListWatch(c *client.Core) toolscache.ListerWatcher {
	return tenancy.ListWatchOnly(&toolscache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			opts.FieldSelector = activePods
			return c.ListPods(ctx, tenancy.Wildcard, metav1.NamespaceAll, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			opts.FieldSelector = activePods
			return c.WatchPods(ctx, tenancy.Wildcard, metav1.NamespaceAll, opts)
		},
	})
}

// nodeListWatch lists and watches the nodes of a resource partition.
func nodeListWatch(c kubernetes.Interface) toolscache.ListerWatcher {
	return &toolscache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return c.CoreV1().Nodes().List(ctx, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			return c.CoreV1().Nodes().Watch(ctx, opts)
		},
	}
}
