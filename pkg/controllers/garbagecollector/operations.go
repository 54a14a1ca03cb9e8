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
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/runner"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// errInvalidOwner marks a reference no owner can satisfy: a tenant-wide
// object naming a namespaced kind. Like Kubernetes, the collector leaves
// such an object alone rather than retry forever.
var errInvalidOwner = errors.New("a tenant-wide object cannot have a namespaced owner")

// ownerState is what became of an owner, read live in the dependent's tenant.
type ownerState int

const (
	// solid: the owner exists (possibly being deleted, but not waiting for
	// its dependents).
	solid ownerState = iota
	// dangling: no object of that kind, name and UID exists where the
	// dependent's reference can reach.
	dangling
	// waiting: the owner is being deleted in the foreground.
	waiting
)

// attemptToDelete looks at an object whose owners may be gone, or an owner
// being deleted in the foreground, and does what Kubernetes' garbage
// collector does: delete it if all its owners are gone, drop its references
// to the owners that are gone while others remain, and release a foreground
// owner once no dependent blocks it.
func (c *Controller) attemptToDelete(ctx context.Context, key objectKey) error {
	it, ok := c.graph.item(key)
	if !ok {
		// Deleted, or never seen: nothing of it to collect.
		return nil
	}
	if it.deleting && !it.foreground {
		// Going already; its own finalizers decide when.
		return nil
	}
	if !it.foreground && c.graph.ownersSolid(key) {
		return nil
	}
	// The graph may lag: act on the object as it is now.
	ctx, client, latest, err := c.readLive(ctx, it)
	if latest == nil || err != nil {
		return err
	}
	logger := klog.FromContext(ctx)
	if latest.UID != key.uid {
		// Replaced by a namesake; the deletion event of ours will come.
		return nil
	}
	if latest.DeletionTimestamp != nil {
		if slices.Contains(latest.Finalizers, metav1.FinalizerDeleteDependents) {
			return c.processForeground(ctx, client, it, latest)
		}
		return nil
	}
	refs := latest.OwnerReferences
	if len(refs) == 0 {
		return nil
	}

	var solids, gone, waitingFor []metav1.OwnerReference
	for _, ref := range refs {
		state, err := c.ownerState(ctx, client, it, ref)
		if errors.Is(err, errInvalidOwner) {
			logger.V(2).Info("Ignoring object with an invalid owner reference", "owner", ref.Kind+"/"+ref.Name, "reason", err.Error())
			return nil
		}
		if err != nil {
			return err
		}
		switch state {
		case solid:
			solids = append(solids, ref)
		case dangling:
			gone = append(gone, ref)
		case waiting:
			waitingFor = append(waitingFor, ref)
		}
	}

	switch {
	case len(solids) > 0:
		if len(gone) == 0 && len(waitingFor) == 0 {
			return nil
		}
		// Other owners keep it: only the references to owners that are
		// gone, or that wait for their dependents to go, are dropped.
		drop := uids(append(gone, waitingFor...))
		logger.V(2).Info("Removing owner references", "owners", drop, "remainingOwners", uids(solids))
		return c.patchOwnerReferences(ctx, client, it, latest, func(r metav1.OwnerReference) (metav1.OwnerReference, bool) {
			return r, !slices.Contains(drop, r.UID)
		})
	case len(waitingFor) > 0 && it.hasDependents:
		// A foreground owner waits for this object, which has dependents
		// of its own: delete it in the foreground too, so that the wait
		// covers the whole tree.
		if c.graph.hasForegroundDependent(key) {
			// A dependent of ours waits for us while we would wait for
			// it (a cycle, or near enough): stop blocking our owners.
			logger.V(2).Info("Unblocking owner references to break a foreground deletion cycle")
			if err := c.patchOwnerReferences(ctx, client, it, latest, func(r metav1.OwnerReference) (metav1.OwnerReference, bool) {
				r.BlockOwnerDeletion = nil
				return r, true
			}); err != nil {
				return err
			}
		}
		return c.delete(ctx, client, it, metav1.DeletePropagationForeground)
	default:
		// Every owner is gone or going: collect it, honouring a
		// propagation policy already recorded in its finalizers.
		policy := metav1.DeletePropagationBackground
		switch {
		case slices.Contains(latest.Finalizers, metav1.FinalizerOrphanDependents):
			policy = metav1.DeletePropagationOrphan
		case slices.Contains(latest.Finalizers, metav1.FinalizerDeleteDependents):
			policy = metav1.DeletePropagationForeground
		}
		return c.delete(ctx, client, it, policy)
	}
}

// readLive reads it as it is now, in its tenant, for attemptToDelete and
// attemptToOrphan to act on. It returns ctx with a logger naming it, the
// tenant's client, and the object: nil, with no error, if it is gone.
func (c *Controller) readLive(ctx context.Context, it item) (context.Context, metadata.Interface, *metav1.PartialObjectMetadata, error) {
	logger := klog.FromContext(ctx).WithValues("tenant", it.key.tenant, "resource", it.resource.String(), "object", klog.KRef(it.namespace, it.name))
	ctx = klog.NewContext(ctx, logger)
	client, err := c.clients.Metadata(it.key.tenant)
	if err != nil {
		return ctx, nil, nil, err
	}
	latest, err := client.Resource(it.resource).Namespace(it.namespace).Get(ctx, it.name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return ctx, client, nil, nil
	case err != nil:
		errorsTotal.WithLabelValues("get").Inc()
		return ctx, client, nil, fmt.Errorf("getting %s: %w", it.resource.GroupResource(), err)
	}
	return ctx, client, latest, nil
}

// ownerState reads the owner ref names, in the tenant of the dependent it
// and in its namespace unless the owner's kind is tenant-wide.
func (c *Controller) ownerState(ctx context.Context, client metadata.Interface, it item, ref metav1.OwnerReference) (ownerState, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return 0, fmt.Errorf("owner apiVersion %q: %w", ref.APIVersion, errInvalidOwner)
	}
	kind, ok := c.kind(gv.WithKind(ref.Kind))
	if !ok {
		// Perhaps a group not served yet or not discovered again yet;
		// never a reason to delete.
		return 0, fmt.Errorf("owner kind %s is not served: %w", gv.WithKind(ref.Kind), runner.ErrWaiting)
	}
	namespace := ""
	if kind.namespaced {
		if it.namespace == "" {
			return 0, errInvalidOwner
		}
		namespace = it.namespace
	}
	// System-scoped objects belong to the system tenant, and an owner must
	// be in its dependent's tenant.
	if tenancy.SystemScopedResources[kind.resource.GroupResource()] && it.key.tenant != tenancy.System {
		return dangling, nil
	}
	absent := absentKey{tenant: it.key.tenant, namespace: namespace, uid: ref.UID}
	if c.absent.has(absent) {
		return dangling, nil
	}
	owner, err := client.Resource(kind.resource).Namespace(namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		c.absent.add(absent)
		return dangling, nil
	case err != nil:
		errorsTotal.WithLabelValues("get").Inc()
		return 0, fmt.Errorf("getting owner %s %s: %w", kind.resource.GroupResource(), ref.Name, err)
	}
	if owner.UID != ref.UID || tenancy.OfObject(owner.Annotations) != it.key.tenant {
		// A namesake, or (for kinds that ignore the tenant) another
		// tenant's object: the owner named is not there.
		c.absent.add(absent)
		return dangling, nil
	}
	if owner.DeletionTimestamp != nil && slices.Contains(owner.Finalizers, metav1.FinalizerDeleteDependents) {
		return waiting, nil
	}
	return solid, nil
}

// processForeground releases an owner deleted in the foreground once none
// of its dependents blocks its deletion; until then it queues the blocking
// dependents for deletion.
func (c *Controller) processForeground(ctx context.Context, client metadata.Interface, it item, latest *metav1.PartialObjectMetadata) error {
	if !c.settled() {
		return fmt.Errorf("dependency graph incomplete: %w", runner.ErrWaiting)
	}
	blocking := c.graph.dependents(it.key, true)
	if len(blocking) == 0 {
		klog.FromContext(ctx).V(2).Info("No dependent blocks the foreground deletion; removing the finalizer")
		return c.removeFinalizer(ctx, client, it, latest, metav1.FinalizerDeleteDependents)
	}
	for _, dep := range blocking {
		if !dep.foreground {
			c.deleteQueue.Add(dep.key)
		}
	}
	return fmt.Errorf("%d dependents block the deletion: %w", len(blocking), runner.ErrWaiting)
}

// attemptToOrphan removes an owner deleted with the orphan policy from its
// dependents' owner references, then its orphan finalizer.
func (c *Controller) attemptToOrphan(ctx context.Context, key objectKey) error {
	if !c.settled() {
		// A dependent not yet in the graph would keep its reference and
		// be collected once the owner is gone.
		return fmt.Errorf("dependency graph incomplete: %w", runner.ErrWaiting)
	}
	it, ok := c.graph.item(key)
	if !ok {
		return nil
	}
	ctx, client, latest, err := c.readLive(ctx, it)
	if latest == nil || err != nil {
		return err
	}
	logger := klog.FromContext(ctx)
	if latest.UID != key.uid || latest.DeletionTimestamp == nil || !slices.Contains(latest.Finalizers, metav1.FinalizerOrphanDependents) {
		return nil
	}
	dependents := c.graph.dependents(key, false)
	var errs []error
	for _, dep := range dependents {
		if err := c.removeOwnerReference(ctx, client, dep, key.uid); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	logger.V(2).Info("Dependents orphaned; removing the finalizer", "dependents", len(dependents))
	return c.removeFinalizer(ctx, client, it, latest, metav1.FinalizerOrphanDependents)
}

// removeOwnerReference removes the references to owner from dep, retrying
// a few times if dep changes meanwhile. client addresses dep's tenant.
func (c *Controller) removeOwnerReference(ctx context.Context, client metadata.Interface, dep item, owner types.UID) error {
	for attempt := 0; ; attempt++ {
		latest, err := client.Resource(dep.resource).Namespace(dep.namespace).Get(ctx, dep.name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			errorsTotal.WithLabelValues("get").Inc()
			return fmt.Errorf("getting dependent %s %s: %w", dep.resource.GroupResource(), klog.KRef(dep.namespace, dep.name), err)
		}
		if latest.UID != dep.key.uid || !slices.ContainsFunc(latest.OwnerReferences, func(r metav1.OwnerReference) bool { return r.UID == owner }) {
			return nil
		}
		err = c.patchOwnerReferences(ctx, client, dep, latest, func(r metav1.OwnerReference) (metav1.OwnerReference, bool) {
			return r, r.UID != owner
		})
		if !errors.Is(err, runner.ErrWaiting) || attempt == 4 {
			return err
		}
	}
}

// patchOwnerReferences rewrites latest's owner references with edit, which
// returns each reference as it should be and whether to keep it. The patch
// carries latest's resource version, so a concurrent change fails it (and
// the caller retries) rather than being overwritten.
func (c *Controller) patchOwnerReferences(ctx context.Context, client metadata.Interface, it item, latest *metav1.PartialObjectMetadata,
	edit func(metav1.OwnerReference) (metav1.OwnerReference, bool)) error {
	var refs []metav1.OwnerReference
	for _, r := range latest.OwnerReferences {
		if r, keep := edit(r); keep {
			refs = append(refs, r)
		}
	}
	return c.patchMetadata(ctx, client, it, latest, map[string]any{"ownerReferences": refs})
}

// removeFinalizer removes finalizer f from latest; the server deletes an
// object whose last finalizer goes.
func (c *Controller) removeFinalizer(ctx context.Context, client metadata.Interface, it item, latest *metav1.PartialObjectMetadata, f string) error {
	var finalizers []string // null: the last one goes
	for _, x := range latest.Finalizers {
		if x != f {
			finalizers = append(finalizers, x)
		}
	}
	return c.patchMetadata(ctx, client, it, latest, map[string]any{"finalizers": finalizers})
}

// patchMetadata merge-patches fields of latest's metadata, with latest's UID
// and resource version as preconditions. A conflict is returned as ErrWaiting, to be retried soon and quietly.
func (c *Controller) patchMetadata(ctx context.Context, client metadata.Interface, it item, latest *metav1.PartialObjectMetadata, fields map[string]any) error {
	meta := map[string]any{"uid": latest.UID, "resourceVersion": latest.ResourceVersion}
	maps.Copy(meta, fields)
	body, err := json.Marshal(map[string]any{"metadata": meta})
	if err != nil {
		return fmt.Errorf("encoding patch: %w", err)
	}
	_, err = client.Resource(it.resource).Namespace(it.namespace).Patch(ctx, it.name, types.MergePatchType, body, metav1.PatchOptions{})
	switch {
	case err == nil, apierrors.IsNotFound(err):
		return nil
	case apierrors.IsConflict(err):
		return fmt.Errorf("%s changed meanwhile: %w", it.resource.GroupResource(), runner.ErrWaiting)
	default:
		errorsTotal.WithLabelValues("patch").Inc()
		return fmt.Errorf("patching %s: %w", it.resource.GroupResource(), err)
	}
}

// delete deletes it with policy, provided it is still the object of that
// UID.
func (c *Controller) delete(ctx context.Context, client metadata.Interface, it item, policy metav1.DeletionPropagation) error {
	klog.FromContext(ctx).V(2).Info("Deleting object whose owners are gone", "propagationPolicy", policy)
	uid := it.key.uid
	err := client.Resource(it.resource).Namespace(it.namespace).Delete(ctx, it.name, metav1.DeleteOptions{
		PropagationPolicy: &policy,
		Preconditions:     &metav1.Preconditions{UID: &uid},
	})
	switch {
	case err == nil:
		deletions.WithLabelValues("ok").Inc()
		return nil
	case apierrors.IsNotFound(err), apierrors.IsConflict(err):
		// Gone already, or replaced by a namesake.
		deletions.WithLabelValues("gone").Inc()
		return nil
	default:
		deletions.WithLabelValues("error").Inc()
		errorsTotal.WithLabelValues("delete").Inc()
		return fmt.Errorf("deleting %s: %w", it.resource.GroupResource(), err)
	}
}

func uids(refs []metav1.OwnerReference) []types.UID {
	out := make([]types.UID, 0, len(refs))
	for _, r := range refs {
		out = append(out, r.UID)
	}
	return out
}

// absentKey names an owner found missing where a dependent's reference
// reaches: its tenant, the dependent's namespace for namespaced kinds ("" for
// tenant-wide ones), and its UID.
type absentKey struct {
	tenant    tenancy.Name
	namespace string
	uid       types.UID
}

// absentOwners remembers owners found missing, so that the dependents of a
// deleted owner do not each read it again. UIDs are never reused, so an
// owner missing once is missing for good; the set is only bounded.
type absentOwners struct {
	mu  sync.Mutex
	set map[absentKey]struct{}
}

const maxAbsentOwners = 10000

func newAbsentOwners() *absentOwners { return &absentOwners{set: map[absentKey]struct{}{}} }

func (a *absentOwners) has(k absentKey) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.set[k]
	return ok
}

func (a *absentOwners) add(k absentKey) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.set) >= maxAbsentOwners {
		// Forgetting costs a request per owner, not correctness.
		clear(a.set)
	}
	a.set[k] = struct{}{}
}
