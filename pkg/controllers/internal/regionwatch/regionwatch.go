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

// Package regionwatch holds what the controllers that watch the region's
// Nodes and every tenant's Pods and workloads share: their clients,
// reflectors that feed the controllers' own compact records instead of a
// cache of whole objects, so that a region of many pods costs them little
// memory, and the feeds that give the controllers of one process a single
// watch of each resource they all follow.
package regionwatch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// CheckBase checks that base, a controller's client configuration, is set
// and addresses no tenant: the clients add the tenant themselves.
func CheckBase(base *rest.Config) error {
	if base == nil {
		return errors.New("no client configuration")
	}
	if strings.Contains(base.Host, tenancy.PathPrefix) {
		return fmt.Errorf("client configuration %q already addresses a tenant", base.Host)
	}
	return nil
}

// NewClients returns a client of the system tenant, whose Nodes (and their
// Leases) are, and a client of every tenant's pods with the superset type.
// They share one HTTP client.
func NewClients(base *rest.Config) (kubernetes.Interface, *client.Core, error) {
	hc, err := rest.HTTPClientFor(base)
	if err != nil {
		return nil, nil, fmt.Errorf("building HTTP client: %w", err)
	}
	kube, err := kubernetes.NewForConfigAndClient(tenancy.ConfigFor(base, tenancy.System), hc)
	if err != nil {
		return nil, nil, fmt.Errorf("building node client: %w", err)
	}
	core, err := client.NewCore(base, hc)
	if err != nil {
		return nil, nil, err
	}
	return kube, core, nil
}

// NewWorkloadClients returns a client of every tenant's pods and one of
// their apps/v1 workloads, both with the superset types, sharing one HTTP
// client.
func NewWorkloadClients(base *rest.Config) (*client.Core, *client.Apps, error) {
	if err := CheckBase(base); err != nil {
		return nil, nil, err
	}
	hc, err := rest.HTTPClientFor(base)
	if err != nil {
		return nil, nil, fmt.Errorf("building HTTP client: %w", err)
	}
	core, err := client.NewCore(base, hc)
	if err != nil {
		return nil, nil, err
	}
	apps, err := client.NewApps(base, hc)
	if err != nil {
		return nil, nil, err
	}
	return core, apps, nil
}

// Reflector lists and watches objects like obj with list and watch into
// store; name names it in logs.
func Reflector(logger klog.Logger, name string, obj runtime.Object, store cache.ReflectorStore,
	list func(context.Context, metav1.ListOptions) (runtime.Object, error),
	watch func(context.Context, metav1.ListOptions) (watch.Interface, error),
) *cache.Reflector {
	lw := tenancy.ListWatchOnly(&cache.ListWatch{ListWithContextFunc: list, WatchFuncWithContext: watch})
	return cache.NewReflectorWithOptions(lw, obj, store, cache.ReflectorOptions{Name: name, Logger: &logger})
}

// Store is a reflector's store that keeps nothing itself: it hands the
// objects of type T to its owner's functions, which record what they need.
type Store[T runtime.Object] struct {
	kind      string
	onUpdate  func(T)
	onDelete  func(T)
	onReplace func([]T)

	synced chan struct{}
	once   sync.Once
}

var _ cache.ReflectorStore = &Store[runtime.Object]{}

// NewStore returns a store of objects of kind ("pod", for its errors).
// onUpdate is given each object added or changed, onDelete each object
// deleted (in its last known state), and onReplace each full list, whose
// objects are all there are.
func NewStore[T runtime.Object](kind string, onUpdate, onDelete func(T), onReplace func([]T)) *Store[T] {
	return &Store[T]{kind: kind, onUpdate: onUpdate, onDelete: onDelete, onReplace: onReplace, synced: make(chan struct{})}
}

// Synced is closed once the first full list has been replaced into the
// owner's records.
func (s *Store[T]) Synced() <-chan struct{} { return s.synced }

func (s *Store[T]) object(obj any) (T, error) {
	o, ok := obj.(T)
	if !ok {
		return o, fmt.Errorf("unexpected object %T in %s store", obj, s.kind)
	}
	return o, nil
}

// Add hands a new object to onUpdate.
func (s *Store[T]) Add(obj any) error { return s.Update(obj) }

// Update hands a changed object to onUpdate.
func (s *Store[T]) Update(obj any) error {
	o, err := s.object(obj)
	if err != nil {
		return err
	}
	s.onUpdate(o)
	return nil
}

// Delete hands a deleted object to onDelete.
func (s *Store[T]) Delete(obj any) error {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	o, err := s.object(obj)
	if err != nil {
		return err
	}
	s.onDelete(o)
	return nil
}

// Replace hands a full list to onReplace.
func (s *Store[T]) Replace(list []any, _ string) error {
	objs := make([]T, 0, len(list))
	for _, obj := range list {
		o, err := s.object(obj)
		if err != nil {
			return err
		}
		objs = append(objs, o)
	}
	s.onReplace(objs)
	s.once.Do(func() { close(s.synced) })
	return nil
}

// Resync does nothing: there is no cache to resync.
func (s *Store[T]) Resync() error { return nil }
