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

package apiserver

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// fakeStore lists what it was given, streams what the test sends and
// counts the reads that miss the index.
type fakeStore struct {
	list    runtime.Object
	stored  map[string]runtime.Object
	watcher *watch.FakeWatcher
	mu      sync.Mutex
	gets    int
}

func (f *fakeStore) New() runtime.Object     { return nil }
func (f *fakeStore) Destroy()                {}
func (f *fakeStore) NewList() runtime.Object { return nil }
func (f *fakeStore) ConvertToTable(context.Context, runtime.Object, runtime.Object) (*metav1.Table, error) {
	return nil, nil
}

func (f *fakeStore) List(ctx context.Context, _ *metainternalversion.ListOptions) (runtime.Object, error) {
	if t, _ := tenancy.From(ctx); !t.IsWildcard() {
		panic("the index lists one tenant: " + t)
	}
	return f.list.DeepCopyObject(), nil
}

func (f *fakeStore) Watch(context.Context, *metainternalversion.ListOptions) (watch.Interface, error) {
	return f.watcher, nil
}

func (f *fakeStore) Get(_ context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets++
	if obj, ok := f.stored[name]; ok {
		return obj, nil
	}
	return nil, apierrors.NewNotFound(tenancyv1.Resource("tenants"), name)
}

func (f *fakeStore) reads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gets
}

func namespaceOf(tenant tenancy.Name, name string, phase corev1.NamespacePhase) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: "1",
		Annotations: map[string]string{tenancy.Annotation: string(tenant)}}, Status: corev1.NamespaceStatus{Phase: phase}}
}

func TestLifecycleIndex(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	acme := &tenancyv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme", ResourceVersion: "1"},
		Spec: tenancyv1.TenantSpec{Quota: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("3")}}}
	tenants := &fakeStore{
		list:    &tenancyv1.TenantList{ListMeta: metav1.ListMeta{ResourceVersion: "1"}, Items: []tenancyv1.Tenant{*acme}},
		stored:  map[string]runtime.Object{"fresh": &tenancyv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "fresh"}}},
		watcher: watch.NewFake(),
	}
	namespaces := &fakeStore{
		list: &corev1.NamespaceList{ListMeta: metav1.ListMeta{ResourceVersion: "1"}, Items: []corev1.Namespace{
			*namespaceOf("acme", "web", corev1.NamespaceActive), *namespaceOf("beta", "web", corev1.NamespaceTerminating)}},
		watcher: watch.NewFake(),
	}
	index := newLifecycleIndex(tenants, namespaces)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { index.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	eventually := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the index never saw %s", what)
			}
		}
	}
	eventually("the lists", func() bool {
		_, ok := index.namespaces.get(tenantNamespace{"beta", "web"})
		_, tok := index.tenants.get("acme")
		return ok && tok
	})

	in := func(tenant tenancy.Name) context.Context { return tenancy.WithTenant(ctx, tenant) }
	for _, tc := range []struct {
		tenant              tenancy.Name
		name                string
		exists, terminating bool
	}{
		{"acme", "web", true, false},
		{"beta", "web", true, true},
		{"acme", "missing", false, false},
	} {
		exists, terminating, err := index.Namespace(in(tc.tenant), tc.name)
		if err != nil || exists != tc.exists || terminating != tc.terminating {
			t.Errorf("namespace %s/%s: exists %v, terminating %v, error %v; want %v, %v", tc.tenant, tc.name,
				exists, terminating, err, tc.exists, tc.terminating)
		}
	}
	if q, err := index.TenantQuota(ctx, "acme"); err != nil || !q.Pods().Equal(resource.MustParse("3")) {
		t.Errorf("quota of acme: %v, %v", q, err)
	}
	reads := tenants.reads()
	if exists, _, err := index.Tenant(ctx, "acme"); !exists || err != nil || tenants.reads() != reads {
		t.Errorf("acme: exists %v, error %v, %d reads of storage; want it from the index", exists, err, tenants.reads()-reads)
	}
	// A tenant the index has not seen yet is read from storage.
	if exists, _, err := index.Tenant(ctx, "fresh"); !exists || err != nil {
		t.Errorf("fresh: exists %v, error %v", exists, err)
	}
	if exists, _, err := index.Tenant(ctx, "nobody"); exists || err != nil {
		t.Errorf("nobody: exists %v, error %v", exists, err)
	}

	deleting := acme.DeepCopy()
	deleting.ResourceVersion = "2"
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	tenants.watcher.Modify(deleting)
	eventually("acme terminating", func() bool { _, terminating, _ := index.Tenant(ctx, "acme"); return terminating })
	gone := namespaceOf("acme", "web", corev1.NamespaceTerminating)
	gone.ResourceVersion = "3"
	namespaces.watcher.Delete(gone)
	eventually("acme/web deleted", func() bool { exists, _, _ := index.Namespace(in("acme"), "web"); return !exists })
}
