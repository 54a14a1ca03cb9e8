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

package runner

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

func namespace(tenant, name, rv string, terminating bool) *corev1.Namespace {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: name, ResourceVersion: rv, Annotations: map[string]string{tenancy.Annotation: tenant},
	}}
	if terminating {
		now := metav1.Now()
		ns.DeletionTimestamp = &now
	}
	return ns
}

func tenantKey(obj any) (string, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return "", err
	}
	t := tenancy.OfObject(m.GetAnnotations())
	if t == "" {
		return "", fmt.Errorf("%s has no tenant", m.GetName())
	}
	return string(t) + "/" + m.GetName(), nil
}

// recorder is a reconciler that records the keys it is given and asks for
// a retry of keys listed in waitOnce the first time it sees them.
type recorder struct {
	mu       sync.Mutex
	seen     []string
	waitOnce map[string]bool
}

func (r *recorder) reconcile(_ context.Context, key string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, key)
	if r.waitOnce[key] {
		delete(r.waitOnce, key)
		return fmt.Errorf("not yet: %w", ErrWaiting)
	}
	return nil
}

func (r *recorder) count(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, k := range r.seen {
		if k == key {
			n++
		}
	}
	return n
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRun(t *testing.T) {
	w := watch.NewFake()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(context.Context, metav1.ListOptions) (runtime.Object, error) {
			return &corev1.NamespaceList{
				ListMeta: metav1.ListMeta{ResourceVersion: "10"},
				Items: []corev1.Namespace{
					// Same name in two tenants: both must be reconciled.
					*namespace("acme", "team", "3", true),
					*namespace("beta", "team", "4", true),
					*namespace("acme", "live", "5", false),
					// Cannot be keyed; must not stall the others.
					{ObjectMeta: metav1.ObjectMeta{Name: "stray", ResourceVersion: "6"}},
				},
			}, nil
		},
		WatchFuncWithContext: func(context.Context, metav1.ListOptions) (watch.Interface, error) { return w, nil },
	}
	r := &recorder{waitOnce: map[string]bool{"beta/team": true}}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, Config{
			Name:          "test",
			ListerWatcher: lw,
			ObjectType:    &corev1.Namespace{},
			Key:           tenantKey,
			Filter: func(obj any) bool {
				m, err := meta.Accessor(obj)
				return err == nil && m.GetDeletionTimestamp() != nil
			},
			Reconcile: r.reconcile,
			Workers:   2,
		})
	}()

	eventually(t, "both tenants' namespace team to be reconciled", func() bool {
		return r.count("acme/team") == 1 && r.count("beta/team") == 2
	})
	if n := r.count("acme/live"); n != 0 {
		t.Errorf("acme/live, which is not terminating, was reconciled %d times", n)
	}

	w.Modify(namespace("acme", "live", "11", true))
	eventually(t, "acme/live to be reconciled once it terminates", func() bool { return r.count("acme/live") == 1 })

	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if !w.IsStopped() {
		t.Error("the watch was not stopped")
	}
	if r.count("acme/team") != 1 {
		t.Errorf("acme/team reconciled %d times, want 1", r.count("acme/team"))
	}
}

func TestQueueingStore(t *testing.T) {
	var queued []string
	s := newQueueingStore(tenantKey, nil, &sliceQueue{&queued}, klog.Background())
	if err := s.Replace([]any{namespace("acme", "a", "1", false), namespace("beta", "a", "1", false)}, "1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(namespace("acme", "a", "2", false)); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(namespace("beta", "a", "2", false)); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "stray"}}); err == nil {
		t.Error("Add accepted an object without a tenant")
	}
	if err := s.Resync(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(queued[:2])
	want := []string{"acme/a", "beta/a", "acme/a", "acme/a"}
	if !slices.Equal(queued, want) {
		t.Errorf("queued %q, want %q", queued, want)
	}
}

// TestQueueingStoreFilter checks that resyncs queue only the keys whose
// latest object passed the filter, without the store keeping objects.
func TestQueueingStoreFilter(t *testing.T) {
	var queued []string
	terminating := func(obj any) bool { return obj.(*corev1.Namespace).DeletionTimestamp != nil }
	s := newQueueingStore(tenantKey, terminating, &sliceQueue{&queued}, klog.Background())
	if err := s.Replace([]any{namespace("acme", "a", "1", false), namespace("acme", "b", "1", true)}, "1"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(queued, []string{"acme/b"}) {
		t.Fatalf("after the list, queued %q, want only the terminating namespace", queued)
	}
	// a starts terminating; b is deleted.
	if err := s.Update(namespace("acme", "a", "2", true)); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(namespace("acme", "b", "2", true)); err != nil {
		t.Fatal(err)
	}
	queued = queued[:0]
	if err := s.Resync(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(queued, []string{"acme/a"}) {
		t.Errorf("resync queued %q, want acme/a alone", queued)
	}
}

// sliceQueue records what is added to it, without deduplicating as a
// work queue does.
type sliceQueue struct{ added *[]string }

func (q *sliceQueue) Add(key string)      { *q.added = append(*q.added, key) }
func (q *sliceQueue) Len() int            { return len(*q.added) }
func (q *sliceQueue) Get() (string, bool) { panic("unused") }
func (q *sliceQueue) Done(string)         {}
func (q *sliceQueue) ShutDown()           {}
func (q *sliceQueue) ShutDownWithDrain()  {}
func (q *sliceQueue) ShuttingDown() bool  { return false }
