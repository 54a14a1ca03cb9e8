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

// Package controllerref claims objects for a controller as Kubernetes'
// workload controllers do (its ControllerRefManager): a controller owns the
// objects whose controller ownerReference names it, adopts orphans its
// selector matches, and releases owned objects its selector no longer
// matches. Adoption and release are strategic merge patches of the
// ownerReferences that name the object's UID, so they never touch a
// same-named replacement.
package controllerref

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
)

// New returns the controller ownerReference a controller sets on what it
// creates or adopts: controller and blockOwnerDeletion set, so that the
// garbage collector's foreground deletion waits for the dependent.
func New(owner metav1.Object, gvk schema.GroupVersionKind) metav1.OwnerReference {
	return *metav1.NewControllerRef(owner, gvk)
}

// Manager claims objects for one controller.
type Manager struct {
	// Owner is the controller.
	Owner metav1.Object
	// Kind is the owner's kind, for the ownerReference.
	Kind schema.GroupVersionKind
	// Selector tells which objects the owner wants.
	Selector labels.Selector
	// CanAdopt is asked once, before the first adoption: it reads the
	// owner afresh and fails if it is gone, replaced or being deleted, as
	// a cached owner may be (Kubernetes' RecheckDeletionTimestamp).
	CanAdopt func(ctx context.Context) error
	// Patch applies a strategic merge patch to the object named.
	Patch func(ctx context.Context, namespace, name string, patch []byte) error

	once     sync.Once
	adoptErr error
}

// Claim returns the objects of objs the owner controls once orphans that
// match have been adopted and owned objects that do not match released.
// Objects that failed to be adopted or released are left out, and their
// errors returned together.
func Claim[T metav1.Object](ctx context.Context, m *Manager, objs []T) ([]T, error) {
	var claimed []T
	var errs []error
	for _, obj := range objs {
		ok, err := m.claim(ctx, obj)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			claimed = append(claimed, obj)
		}
	}
	return claimed, utilerrors.NewAggregate(errs)
}

func (m *Manager) claim(ctx context.Context, obj metav1.Object) (bool, error) {
	match := m.Selector.Matches(labels.Set(obj.GetLabels()))
	if ref := metav1.GetControllerOfNoCopy(obj); ref != nil {
		if ref.UID != m.Owner.GetUID() {
			return false, nil // someone else's
		}
		if match {
			return true, nil
		}
		// Ours, but no longer selected. An owner being deleted lets the
		// garbage collector deal with its dependents instead.
		if m.Owner.GetDeletionTimestamp() != nil {
			return false, nil
		}
		return false, m.release(ctx, obj)
	}
	// An orphan.
	if !match || m.Owner.GetDeletionTimestamp() != nil || obj.GetDeletionTimestamp() != nil ||
		obj.GetNamespace() != m.Owner.GetNamespace() {
		return false, nil
	}
	if err := m.adopt(ctx, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// ownerRefPatch is the strategic merge patch that adds a controller
// reference; metadata.uid makes it fail on an object of another UID.
type ownerRefPatch struct {
	Metadata struct {
		OwnerReferences []metav1.OwnerReference `json:"ownerReferences"`
		UID             types.UID               `json:"uid"`
	} `json:"metadata"`
}

func (m *Manager) adopt(ctx context.Context, obj metav1.Object) error {
	m.once.Do(func() {
		if m.CanAdopt != nil {
			m.adoptErr = m.CanAdopt(ctx)
		}
	})
	if m.adoptErr != nil {
		return fmt.Errorf("cannot adopt %s/%s: %w", obj.GetNamespace(), obj.GetName(), m.adoptErr)
	}
	var p ownerRefPatch
	p.Metadata.OwnerReferences = []metav1.OwnerReference{New(m.Owner, m.Kind)}
	p.Metadata.UID = obj.GetUID()
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return m.Patch(ctx, obj.GetNamespace(), obj.GetName(), data)
}

// ReleasePatch is the strategic merge patch that removes owner's reference
// from the object of UID uid.
func ReleasePatch(owner, uid types.UID) []byte {
	return fmt.Appendf(nil, `{"metadata":{"ownerReferences":[{"$patch":"delete","uid":%q}],"uid":%q}}`, owner, uid)
}

func (m *Manager) release(ctx context.Context, obj metav1.Object) error {
	err := m.Patch(ctx, obj.GetNamespace(), obj.GetName(), ReleasePatch(m.Owner.GetUID(), obj.GetUID()))
	// Gone, or replaced by an object of another UID (Invalid): nothing
	// left to release.
	if apierrors.IsNotFound(err) || apierrors.IsInvalid(err) {
		return nil
	}
	return err
}
