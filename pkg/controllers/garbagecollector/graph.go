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
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// objectKey names an object of the graph. UIDs are unique across tenants,
// but an owner reference is only ever resolved in the tenant of the object
// that makes it. Keying by tenant too means that a reference naming another
// tenant's UID meets a placeholder of its own tenant, never the other
// tenant's object: it can neither keep that object's deletion waiting nor be
// reached by that object's cascade.
type objectKey struct {
	tenant tenancy.Name
	uid    types.UID
}

func (k objectKey) String() string { return string(k.tenant) + "/" + string(k.uid) }

// node is an object of the graph or, while observed is false, an owner known
// only from its dependents' references: gone, not seen yet, or of a kind
// nobody watches.
type node struct {
	key      objectKey
	observed bool
	// resource is its monitor's, shared by all its objects: one graph node
	// per object of the region, so every word counts.
	resource *schema.GroupVersionResource
	// namespace is "" for tenant-wide and system-scoped objects.
	namespace string
	name      string
	owners    []metav1.OwnerReference
	// deleting: the object has a deletion timestamp. foreground: it also
	// waits for its blocking dependents (foregroundDeletion finalizer);
	// orphan: its dependents are to lose their references to it first.
	deleting   bool
	foreground bool
	orphan     bool
	dependents map[*node]struct{}
}

// item is a copy of what a worker needs of an observed node, taken under the
// graph's lock.
type item struct {
	key        objectKey
	resource   schema.GroupVersionResource
	namespace  string
	name       string
	deleting   bool
	foreground bool
	// hasDependents: some object of the graph names this one as an owner.
	hasDependents bool
}

// graph holds every watched object of every tenant with its owner
// references, and the reverse edges from owners to dependents. Monitors feed
// it; workers read snapshots of it. Changes that call for work put keys on
// the queues through the enqueue functions.
type graph struct {
	mu       sync.Mutex
	nodes    map[objectKey]*node
	observed int

	// resourceOf maps an owner reference's apiVersion and kind to a
	// resource, or false if no served resource has that kind.
	resourceOf func(schema.GroupVersionKind) (schema.GroupResource, bool)
	// attemptToDelete queues an object whose owners may be gone or being
	// deleted in the foreground, or an owner deleted in the foreground
	// whose dependents may be gone. attemptToOrphan queues an owner whose
	// dependents are to be orphaned.
	attemptToDelete func(objectKey)
	attemptToOrphan func(objectKey)
}

func newGraph() *graph {
	return &graph{nodes: map[objectKey]*node{}}
}

// keyOf returns the graph key of an object, false if it carries no tenant.
func keyOf(m metav1.Object) (objectKey, bool) {
	t := tenancy.OfObject(m.GetAnnotations())
	uid := m.GetUID()
	return objectKey{tenant: t, uid: uid}, t != "" && uid != ""
}

// observe records an added or updated object of resource and queues what
// the change calls for.
func (g *graph) observe(m metav1.Object, resource *schema.GroupVersionResource) {
	key, ok := keyOf(m)
	if !ok {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.nodes[key]
	if n == nil {
		n = &node{key: key}
		g.nodes[key] = n
	}
	wasObserved, wasForeground, wasOrphan := n.observed, n.foreground, n.orphan
	if !n.observed {
		g.observed++
		graphObjects.Inc()
	}
	oldOwners := n.owners
	n.observed = true
	n.resource, n.namespace, n.name = resource, m.GetNamespace(), m.GetName()
	n.owners = m.GetOwnerReferences()
	n.deleting = m.GetDeletionTimestamp() != nil
	finalizers := m.GetFinalizers()
	n.foreground = n.deleting && slices.Contains(finalizers, metav1.FinalizerDeleteDependents)
	n.orphan = n.deleting && slices.Contains(finalizers, metav1.FinalizerOrphanDependents)

	added, removed, unblocked := diffOwners(oldOwners, n.owners)
	for _, uid := range removed {
		if owner := g.nodes[objectKey{key.tenant, uid}]; owner != nil {
			delete(owner.dependents, n)
			g.ownerLostDependent(owner)
		}
	}
	for _, uid := range unblocked {
		if owner := g.nodes[objectKey{key.tenant, uid}]; owner != nil && owner.foreground {
			g.attemptToDelete(owner.key)
		}
	}
	for _, uid := range added {
		ownerKey := objectKey{key.tenant, uid}
		owner := g.nodes[ownerKey]
		if owner == nil {
			owner = &node{key: ownerKey}
			g.nodes[ownerKey] = owner
		}
		if owner.dependents == nil {
			owner.dependents = map[*node]struct{}{}
		}
		owner.dependents[n] = struct{}{}
	}

	if !g.ownersSolidLocked(n) {
		g.attemptToDelete(key)
	}
	if n.foreground && (!wasObserved || !wasForeground) {
		for dep := range n.dependents {
			g.attemptToDelete(dep.key)
		}
		g.attemptToDelete(key)
	}
	if n.orphan && (!wasObserved || !wasOrphan) {
		g.attemptToOrphan(key)
	}
}

// diffOwners compares owner references by UID: the owners added, removed,
// and kept but no longer blocking their deletion.
func diffOwners(old, cur []metav1.OwnerReference) (added, removed, unblocked []types.UID) {
	blocking := func(r metav1.OwnerReference) bool { return r.BlockOwnerDeletion != nil && *r.BlockOwnerDeletion }
	oldByUID := make(map[types.UID]bool, len(old))
	for _, r := range old {
		oldByUID[r.UID] = oldByUID[r.UID] || blocking(r)
	}
	curByUID := make(map[types.UID]bool, len(cur))
	for _, r := range cur {
		curByUID[r.UID] = curByUID[r.UID] || blocking(r)
	}
	for uid, block := range curByUID {
		wasBlocking, had := oldByUID[uid]
		switch {
		case !had:
			added = append(added, uid)
		case wasBlocking && !block:
			unblocked = append(unblocked, uid)
		}
	}
	for uid := range oldByUID {
		if _, kept := curByUID[uid]; !kept {
			removed = append(removed, uid)
		}
	}
	return added, removed, unblocked
}

// remove forgets a deleted object. Its dependents are queued, as their owner
// is gone; it stays as a placeholder while they reference it.
func (g *graph) remove(key objectKey) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if n := g.nodes[key]; n != nil && n.observed {
		g.removeLocked(n)
	}
}

// removeResourceExcept forgets the objects of resource that are not in
// keep: those gone while its monitor's watch was down, or all of them (keep
// nil) when the resource is no longer served. An object seen since under
// another version of its resource stays.
func (g *graph) removeResourceExcept(resource schema.GroupVersionResource, keep map[objectKey]struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for key, n := range g.nodes {
		if _, kept := keep[key]; !kept && n.observed && *n.resource == resource {
			g.removeLocked(n)
		}
	}
}

func (g *graph) removeLocked(n *node) {
	for _, ref := range n.owners {
		if owner := g.nodes[objectKey{n.key.tenant, ref.UID}]; owner != nil {
			delete(owner.dependents, n)
			g.ownerLostDependent(owner)
		}
	}
	g.observed--
	graphObjects.Dec()
	*n = node{key: n.key, dependents: n.dependents}
	for dep := range n.dependents {
		g.attemptToDelete(dep.key)
	}
	g.prune(n)
}

// ownerLostDependent is called when a dependent of owner went away or
// stopped referencing it: an owner deleted in the foreground may be free to
// go, and a placeholder nobody references is dropped.
func (g *graph) ownerLostDependent(owner *node) {
	if owner.foreground {
		g.attemptToDelete(owner.key)
	}
	g.prune(owner)
}

func (g *graph) prune(n *node) {
	if !n.observed && len(n.dependents) == 0 {
		delete(g.nodes, n.key)
	}
}

// ownersSolidLocked tells whether the graph shows every owner of n present,
// in n's tenant and namespace (or tenant-wide), under the name and kind the
// reference gives, and not waiting for its dependents. Then n needs no
// look at the live owners: if one of them goes, its deletion event queues
// n again. Objects being deleted outside the foreground are left alone.
func (g *graph) ownersSolidLocked(n *node) bool {
	if n.deleting && !n.foreground {
		return true
	}
	for _, ref := range n.owners {
		owner := g.nodes[objectKey{n.key.tenant, ref.UID}]
		if owner == nil || !owner.observed || owner.foreground || owner.name != ref.Name ||
			(owner.namespace != "" && owner.namespace != n.namespace) {
			return false
		}
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		if err != nil {
			return false
		}
		if gr, ok := g.resourceOf(gv.WithKind(ref.Kind)); !ok || gr != owner.resource.GroupResource() {
			return false
		}
	}
	return true
}

// ownersSolid is ownersSolidLocked for the object key, false if it is not
// observed.
func (g *graph) ownersSolid(key objectKey) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.nodes[key]
	return n != nil && n.observed && g.ownersSolidLocked(n)
}

func (n *node) item() item {
	return item{
		key: n.key, resource: *n.resource, namespace: n.namespace, name: n.name,
		deleting: n.deleting, foreground: n.foreground, hasDependents: len(n.dependents) > 0,
	}
}

// item returns the observed object key, false if the graph does not hold it.
func (g *graph) item(key objectKey) (item, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.nodes[key]
	if n == nil || !n.observed {
		return item{}, false
	}
	return n.item(), true
}

// dependents returns the observed dependents of the object key that its
// references can reach: in its namespace, or anywhere in the tenant if it is
// tenant-wide. With blocking, only those whose reference blocks the owner's
// deletion.
func (g *graph) dependents(key objectKey, blocking bool) []item {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.nodes[key]
	if n == nil {
		return nil
	}
	var out []item
	for dep := range n.dependents {
		if !dep.observed || (n.namespace != "" && dep.namespace != n.namespace) {
			continue
		}
		if blocking && !slices.ContainsFunc(dep.owners, func(r metav1.OwnerReference) bool {
			return r.UID == key.uid && r.BlockOwnerDeletion != nil && *r.BlockOwnerDeletion
		}) {
			continue
		}
		out = append(out, dep.item())
	}
	return out
}

// hasForegroundDependent tells whether a dependent of the object key is
// itself being deleted in the foreground.
func (g *graph) hasForegroundDependent(key objectKey) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.nodes[key]
	if n == nil {
		return false
	}
	for dep := range n.dependents {
		if dep.foreground {
			return true
		}
	}
	return false
}

// size returns the number of observed objects.
func (g *graph) size() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.observed
}
