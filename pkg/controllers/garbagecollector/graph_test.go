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
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

var (
	configMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	secrets    = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	namespaces = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
)

// recorder is a graph whose queues are slices.
type recorder struct {
	*graph
	deletes, orphans []objectKey
}

func newRecorder() *recorder {
	r := &recorder{graph: newGraph()}
	r.resourceOf = func(gvk schema.GroupVersionKind) (schema.GroupResource, bool) {
		switch gvk {
		case schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}:
			return configMaps.GroupResource(), true
		case schema.GroupVersionKind{Version: "v1", Kind: "Secret"}:
			return secrets.GroupResource(), true
		case schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}:
			return namespaces.GroupResource(), true
		}
		return schema.GroupResource{}, false
	}
	r.attemptToDelete = func(k objectKey) { r.deletes = append(r.deletes, k) }
	r.attemptToOrphan = func(k objectKey) { r.orphans = append(r.orphans, k) }
	return r
}

// took returns what was queued for deletion since the last call.
func (r *recorder) took() []objectKey {
	out := r.deletes
	r.deletes = nil
	slices.SortFunc(out, func(a, b objectKey) int {
		if a.String() < b.String() {
			return -1
		}
		if a.String() > b.String() {
			return 1
		}
		return 0
	})
	return slices.Compact(out)
}

type obj struct {
	tenant     tenancy.Name
	uid        types.UID
	namespace  string
	name       string
	owners     []metav1.OwnerReference
	finalizers []string
	deleting   bool
}

func (o obj) meta() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
		Name: o.name, Namespace: o.namespace, UID: o.uid, OwnerReferences: o.owners, Finalizers: o.finalizers,
		Annotations: map[string]string{tenancy.Annotation: string(o.tenant)},
	}}
	if o.deleting {
		now := metav1.Now()
		m.DeletionTimestamp = &now
	}
	return m
}

func (o obj) key() objectKey { return objectKey{o.tenant, o.uid} }

func ownerRef(kind string, o obj, block bool) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "v1", Kind: kind, Name: o.name, UID: o.uid, BlockOwnerDeletion: &block}
}

func keys(ks ...objectKey) []objectKey {
	slices.SortFunc(ks, func(a, b objectKey) int {
		if a.String() < b.String() {
			return -1
		}
		return 1
	})
	return ks
}

func TestGraphBackground(t *testing.T) {
	g := newRecorder()
	owner := obj{tenant: "acme", uid: "o", namespace: "ns", name: "owner"}
	dep := obj{tenant: "acme", uid: "d", namespace: "ns", name: "dep", owners: []metav1.OwnerReference{ownerRef("ConfigMap", owner, false)}}

	// A dependent seen before its owner is queued, to check the owner.
	g.observe(dep.meta(), &secrets)
	if got := g.took(); !slices.Equal(got, keys(dep.key())) {
		t.Fatalf("dependent before owner queued %v", got)
	}
	g.observe(owner.meta(), &configMaps)
	if !g.ownersSolid(dep.key()) {
		t.Error("owner observed, but the dependent's owners are not solid")
	}
	// Updates with the owner in place queue nothing.
	g.observe(dep.meta(), &secrets)
	if got := g.took(); len(got) != 0 {
		t.Errorf("solid dependent queued %v", got)
	}

	g.remove(owner.key())
	if got := g.took(); !slices.Equal(got, keys(dep.key())) {
		t.Errorf("owner deletion queued %v, want the dependent", got)
	}
	if n := g.nodes[owner.key()]; n == nil || n.observed {
		t.Errorf("deleted owner with a dependent: node %+v, want a placeholder", n)
	}
	g.remove(dep.key())
	if len(g.nodes) != 0 {
		t.Errorf("graph keeps %d nodes after every object went", len(g.nodes))
	}
	if g.size() != 0 {
		t.Errorf("graph counts %d objects", g.size())
	}
}

func TestGraphOwnerMismatch(t *testing.T) {
	g := newRecorder()
	owner := obj{tenant: "acme", uid: "o", namespace: "ns", name: "owner"}
	g.observe(owner.meta(), &configMaps)
	for name, ref := range map[string]metav1.OwnerReference{
		"wrong name": {APIVersion: "v1", Kind: "ConfigMap", Name: "other", UID: "o"},
		"wrong kind": {APIVersion: "v1", Kind: "Secret", Name: "owner", UID: "o"},
		"unknown":    {APIVersion: "example.com/v1", Kind: "Thing", Name: "owner", UID: "o"},
	} {
		dep := obj{tenant: "acme", uid: types.UID("d-" + name), namespace: "ns", name: "dep", owners: []metav1.OwnerReference{ref}}
		g.observe(dep.meta(), &secrets)
		if got := g.took(); !slices.Equal(got, keys(dep.key())) {
			t.Errorf("%s: queued %v, want the dependent to be checked", name, got)
		}
	}
	other := obj{tenant: "acme", uid: "x", namespace: "elsewhere", name: "dep", owners: []metav1.OwnerReference{ownerRef("ConfigMap", owner, false)}}
	g.observe(other.meta(), &secrets)
	if got := g.took(); !slices.Equal(got, keys(other.key())) {
		t.Errorf("dependent in another namespace queued %v, want it checked", got)
	}
	if deps := g.dependents(owner.key(), false); len(deps) != 3 {
		// The three same-namespace dependents; not the one elsewhere.
		t.Errorf("dependents = %d, want 3", len(deps))
	}
}

func TestGraphCrossTenant(t *testing.T) {
	g := newRecorder()
	betaOwner := obj{tenant: "beta", uid: "b", namespace: "ns", name: "owner"}
	g.observe(betaOwner.meta(), &configMaps)
	g.took()
	// acme names beta's UID: it must meet an acme placeholder.
	acmeDep := obj{tenant: "acme", uid: "d", namespace: "ns", name: "dep", owners: []metav1.OwnerReference{ownerRef("ConfigMap", betaOwner, true)}}
	g.observe(acmeDep.meta(), &secrets)
	if got := g.took(); !slices.Equal(got, keys(acmeDep.key())) {
		t.Errorf("foreign reference queued %v, want the dependent checked", got)
	}
	if deps := g.dependents(betaOwner.key(), false); len(deps) != 0 {
		t.Errorf("beta's owner has dependents %v from acme", deps)
	}
	if n := g.nodes[objectKey{"acme", "b"}]; n == nil || n.observed {
		t.Errorf("acme placeholder for the foreign UID = %+v", n)
	}

	// beta's owner deleted in the foreground waits for nothing of acme's,
	// and its deletion queues nothing of acme's.
	fg := betaOwner
	fg.deleting, fg.finalizers = true, []string{metav1.FinalizerDeleteDependents}
	g.observe(fg.meta(), &configMaps)
	if got := g.took(); !slices.Equal(got, keys(betaOwner.key())) {
		t.Errorf("foreground owner queued %v, want only itself", got)
	}
	if b := g.dependents(betaOwner.key(), true); len(b) != 0 {
		t.Errorf("blocking dependents of beta's owner: %v", b)
	}
	g.remove(betaOwner.key())
	if got := g.took(); len(got) != 0 {
		t.Errorf("beta's owner deletion queued %v", got)
	}
}

func TestGraphForegroundAndOrphan(t *testing.T) {
	g := newRecorder()
	owner := obj{tenant: "acme", uid: "o", name: "team"} // tenant-wide: a namespace
	blocking := obj{tenant: "acme", uid: "b", namespace: "team", name: "b", owners: []metav1.OwnerReference{ownerRef("Namespace", owner, true)}}
	loose := obj{tenant: "acme", uid: "l", namespace: "other", name: "l", owners: []metav1.OwnerReference{ownerRef("Namespace", owner, false)}}
	g.observe(owner.meta(), &namespaces)
	g.observe(blocking.meta(), &configMaps)
	g.observe(loose.meta(), &configMaps)
	if got := g.took(); len(got) != 0 {
		t.Fatalf("queued %v with every owner present", got)
	}

	fg := owner
	fg.deleting, fg.finalizers = true, []string{metav1.FinalizerDeleteDependents}
	g.observe(fg.meta(), &namespaces)
	if got := g.took(); !slices.Equal(got, keys(owner.key(), blocking.key(), loose.key())) {
		t.Errorf("foreground deletion queued %v, want the owner and both dependents", got)
	}
	g.observe(fg.meta(), &namespaces)
	if got := g.took(); len(got) != 0 {
		t.Errorf("unchanged foreground owner queued %v again", got)
	}
	if b := g.dependents(owner.key(), true); len(b) != 1 || b[0].key != blocking.key() {
		t.Errorf("blocking dependents = %v, want only %v", b, blocking.key())
	}

	// The blocking dependent stops blocking: the owner is looked at again.
	unblocked := blocking
	unblocked.owners = []metav1.OwnerReference{ownerRef("Namespace", owner, false)}
	g.observe(unblocked.meta(), &configMaps)
	if got := g.took(); !slices.Equal(got, keys(owner.key(), blocking.key())) {
		t.Errorf("unblocking queued %v, want the owner (and the dependent, whose owner waits)", got)
	}
	// A dependent goes: likewise.
	g.remove(loose.key())
	if got := g.took(); !slices.Equal(got, keys(owner.key())) {
		t.Errorf("dependent deletion queued %v, want the owner", got)
	}

	orphaner := obj{tenant: "acme", uid: "p", namespace: "team", name: "p", deleting: true, finalizers: []string{metav1.FinalizerOrphanDependents}}
	g.observe(orphaner.meta(), &configMaps)
	g.observe(orphaner.meta(), &configMaps)
	if !slices.Equal(g.orphans, []objectKey{orphaner.key()}) {
		t.Errorf("orphan queue = %v, want the owner once", g.orphans)
	}
}

func TestGraphRemoveResource(t *testing.T) {
	g := newRecorder()
	owner := obj{tenant: "acme", uid: "o", namespace: "ns", name: "owner"}
	dep := obj{tenant: "acme", uid: "d", namespace: "ns", name: "dep", owners: []metav1.OwnerReference{ownerRef("ConfigMap", owner, false)}}
	g.observe(owner.meta(), &configMaps)
	g.observe(dep.meta(), &secrets)
	g.took()
	// Keeping what a relist of secrets returned forgets nothing.
	g.removeResourceExcept(secrets, map[objectKey]struct{}{dep.key(): {}})
	if g.size() != 2 {
		t.Fatalf("graph size %d after a relist that found every object", g.size())
	}
	g.removeResourceExcept(configMaps, nil)
	if got := g.took(); !slices.Equal(got, keys(dep.key())) {
		t.Errorf("dropping the owner's resource queued %v, want the dependent checked", got)
	}
}

func TestDiffOwners(t *testing.T) {
	yes, no := true, false
	old := []metav1.OwnerReference{{UID: "a", BlockOwnerDeletion: &yes}, {UID: "b", BlockOwnerDeletion: &yes}, {UID: "c"}}
	cur := []metav1.OwnerReference{{UID: "a", BlockOwnerDeletion: &yes}, {UID: "b", BlockOwnerDeletion: &no}, {UID: "d"}}
	added, removed, unblocked := diffOwners(old, cur)
	if !slices.Equal(added, []types.UID{"d"}) || !slices.Equal(removed, []types.UID{"c"}) || !slices.Equal(unblocked, []types.UID{"b"}) {
		t.Errorf("diffOwners = added %v, removed %v, unblocked %v", added, removed, unblocked)
	}
}
