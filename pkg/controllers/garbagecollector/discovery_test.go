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

package garbagecollector

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	fakediscovery "k8s.io/client-go/discovery/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"
)

// fakeDiscovery serves lists, or fails with err.
type fakeDiscovery struct {
	*fakediscovery.FakeDiscovery
	mu    sync.Mutex
	lists []*metav1.APIResourceList
	err   error
}

func (f *fakeDiscovery) set(err error, lists ...*metav1.APIResourceList) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists, f.err = lists, err
}

func (f *fakeDiscovery) ServerGroupsAndResourcesWithContext(context.Context) ([]*metav1.APIGroup, []*metav1.APIResourceList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return nil, f.lists, f.err
}

func (f *fakeDiscovery) ServerPreferredResourcesWithContext(context.Context) ([]*metav1.APIResourceList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lists, f.err
}

func (f *fakeDiscovery) FreshWithContext(context.Context) bool { return true }
func (f *fakeDiscovery) InvalidateWithContext(context.Context) {}

var _ discovery.CachedDiscoveryInterfaceWithContext = &fakeDiscovery{}

func partial(kind string, o obj) *metav1.PartialObjectMetadata {
	m := o.meta()
	m.APIVersion, m.Kind = "v1", kind
	return m
}

func TestRefreshFollowsDiscovery(t *testing.T) {
	verbs := metav1.Verbs{"delete", "get", "list", "watch"}
	coreWith := func(names ...string) *metav1.APIResourceList {
		l := &metav1.APIResourceList{GroupVersion: "v1"}
		for _, n := range names {
			kind := map[string]string{"configmaps": "ConfigMap", "secrets": "Secret", "events": "Event"}[n]
			l.APIResources = append(l.APIResources, metav1.APIResource{Name: n, Kind: kind, Namespaced: true, Verbs: verbs})
		}
		return l
	}
	// Cannot be watched: never monitored, but its kind resolves.
	widgets := &metav1.APIResourceList{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{
		{Name: "widgets", Kind: "Widget", Namespaced: true, Verbs: metav1.Verbs{"get", "list", "delete"}},
	}}

	owner := obj{tenant: "acme", uid: "o", namespace: "ns", name: "owner"}
	dep := obj{tenant: "acme", uid: "d", namespace: "ns", name: "dep", owners: []metav1.OwnerReference{ownerRef("ConfigMap", owner, false)}}
	scheme := metadatafake.NewTestScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	meta := metadatafake.NewSimpleMetadataClient(scheme, partial("ConfigMap", owner), partial("Secret", dep))
	disc := &fakeDiscovery{FakeDiscovery: &fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{}}}
	disc.set(nil, coreWith("configmaps", "secrets", "events"), widgets)

	c := &Controller{
		discovery: disc, all: meta, graph: newGraph(), absent: newAbsentOwners(), syncTimeout: time.Minute,
		kinds: map[schema.GroupVersionKind]kindInfo{}, monitors: map[schema.GroupVersionResource]*monitor{},
	}
	var mu sync.Mutex
	var queued []objectKey
	c.graph.resourceOf = func(gvk schema.GroupVersionKind) (schema.GroupResource, bool) {
		k, ok := c.kind(gvk)
		return k.resource.GroupResource(), ok
	}
	c.graph.attemptToDelete = func(k objectKey) { mu.Lock(); queued = append(queued, k); mu.Unlock() }
	c.graph.attemptToOrphan = func(objectKey) {}
	took := func() []objectKey {
		mu.Lock()
		defer mu.Unlock()
		out := queued
		queued = nil
		return out
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer func() {
		cancel()
		for _, m := range c.monitors {
			m.stop(false)
		}
	}()
	monitored := func() []string {
		c.mu.RLock()
		defer c.mu.RUnlock()
		var out []string
		for gvr := range c.monitors {
			out = append(out, gvr.Resource)
		}
		slices.Sort(out)
		return out
	}
	eventually := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	if err := c.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := monitored(); !slices.Equal(got, []string{"configmaps", "secrets"}) {
		t.Fatalf("monitoring %q, want configmaps and secrets (events ignored, widgets not watchable)", got)
	}
	if k, ok := c.kind(schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"}); !ok || k.resource.Resource != "widgets" || !k.namespaced {
		t.Errorf("kind Widget = %+v, %v", k, ok)
	}
	eventually("the graph to hold both objects", func() bool { return c.settled() && c.graph.size() == 2 })
	if !c.graph.ownersSolid(objectKey{"acme", "d"}) {
		t.Error("the dependent's owner is in the graph but not solid")
	}
	took()

	// Discovery of v1 fails: what it served is still watched and known.
	groupErr := &discovery.ErrGroupDiscoveryFailed{Groups: map[schema.GroupVersion]error{{Version: "v1"}: errors.New("boom")}}
	disc.set(groupErr, widgets)
	if err := c.refresh(ctx); err == nil {
		t.Error("refresh hid a group discovery failure")
	}
	if got := monitored(); !slices.Equal(got, []string{"configmaps", "secrets"}) {
		t.Errorf("after a failed discovery of v1, monitoring %q", got)
	}
	if _, ok := c.kind(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}); !ok {
		t.Error("kind ConfigMap forgotten after a failed discovery of v1")
	}

	// configmaps is no longer served: its monitor stops, its objects leave
	// the graph, and their dependents are queued to be checked.
	disc.set(nil, coreWith("secrets"), widgets)
	if err := c.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := monitored(); !slices.Equal(got, []string{"secrets"}) {
		t.Errorf("after configmaps vanished, monitoring %q", got)
	}
	if c.graph.size() != 1 {
		t.Errorf("graph holds %d objects, want only the secret", c.graph.size())
	}
	if got := took(); !slices.Contains(got, objectKey{"acme", "d"}) {
		t.Errorf("queued %v, want the dependent of the forgotten owner", got)
	}
	if _, ok := c.kind(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}); ok {
		t.Error("kind ConfigMap still known after configmaps vanished")
	}
}
