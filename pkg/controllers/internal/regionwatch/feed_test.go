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
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// recorder is an owner's view of a store: what it was handed, in order.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, s)
}

func (r *recorder) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func (r *recorder) store() *Store[*corev1.Node] {
	return NewStore("node",
		func(n *corev1.Node) { r.add("update " + n.Name) },
		func(n *corev1.Node) { r.add("delete " + n.Name) },
		func(list []*corev1.Node) {
			for _, n := range list {
				r.add("replace " + n.Name)
			}
		})
}

func TestFeed(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var lists, watches atomic.Int32
	fake := watch.NewFake()
	f := NewFeed("nodes", &corev1.Node{}, &cache.ListWatch{
		ListWithContextFunc: func(context.Context, metav1.ListOptions) (runtime.Object, error) {
			lists.Add(1)
			return &corev1.NodeList{ListMeta: metav1.ListMeta{ResourceVersion: "1"}, Items: []corev1.Node{*node("a")}}, nil
		},
		WatchFuncWithContext: func(context.Context, metav1.ListOptions) (watch.Interface, error) {
			watches.Add(1)
			return fake, nil
		},
	})
	var first, second recorder
	s1, s2 := first.store(), second.store()
	f.Subscribe(s1)
	f.Subscribe(failing{})
	f.Subscribe(s2)

	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Run(ctx)
	}()
	for _, s := range []*Store[*corev1.Node]{s1, s2} {
		select {
		case <-s.Synced():
		case <-time.After(10 * time.Second):
			t.Fatal("a store did not sync")
		}
	}
	b := node("b")
	b.ResourceVersion = "2"
	fake.Add(b)
	b = b.DeepCopy()
	b.ResourceVersion = "3"
	fake.Delete(b)

	want := []string{"replace a", "update b", "delete b"}
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Equal(first.get(), want) || !slices.Equal(second.get(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("stores were handed %q and %q, want %q each", first.get(), second.get(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if l, w := lists.Load(), watches.Load(); l != 1 || w != 1 {
		t.Errorf("%d lists and %d watches for three stores, want one each", l, w)
	}
	cancel()
	<-done

	defer func() {
		if recover() == nil {
			t.Error("subscribing to a running feed did not panic")
		}
	}()
	f.Subscribe(second.store())
}

func TestFeedWithoutStores(t *testing.T) {
	f := NewFeed("nodes", &corev1.Node{}, &cache.ListWatch{
		ListWithContextFunc: func(context.Context, metav1.ListOptions) (runtime.Object, error) {
			t.Error("a feed nobody subscribed to listed")
			return &corev1.NodeList{}, nil
		},
		WatchFuncWithContext: func(context.Context, metav1.ListOptions) (watch.Interface, error) {
			t.Error("a feed nobody subscribed to watched")
			return watch.NewFake(), nil
		},
	})
	f.Run(context.Background()) // returns at once: the context never ends
}

// failing is a store that takes lists but refuses every change.
type failing struct{}

var errRefused = errors.New("refused")

func (failing) Add(any) error               { return errRefused }
func (failing) Update(any) error            { return errRefused }
func (failing) Delete(any) error            { return errRefused }
func (failing) Replace([]any, string) error { return nil }
func (failing) Resync() error               { return nil }
