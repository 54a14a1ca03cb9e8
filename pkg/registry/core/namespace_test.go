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

package core

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/arcturus-cloud/arcturus/pkg/registry/internal/registrytest"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

func newTestNamespaceStorage(t *testing.T) *NamespaceStorage {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	// Stored as core/v1 and held as core/v1: the server's way minus the
	// conversion to an internal version.
	s, err := newNamespaceStorage(scheme, registrytest.RESTOptions(t, scheme, corev1.SchemeGroupVersion, corev1.SchemeGroupVersion))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Namespace.Store.DestroyFunc)
	return s
}

// requestContext is what the handler chain hands a cluster-scoped request
// into a tenant.
func requestContext(ctx context.Context, tenant tenancy.Name) context.Context {
	return genericapirequest.WithNamespace(tenancy.WithTenant(ctx, tenant), metav1.NamespaceNone)
}

func TestNamespaceLifecycle(t *testing.T) {
	s := newTestNamespaceStorage(t)
	ctx := requestContext(t.Context(), "acme")

	create := func(t *testing.T, name string) *corev1.Namespace {
		t.Helper()
		obj, err := s.Namespace.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, nil, &metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("creating namespace %s: %v", name, err)
		}
		return obj.(*corev1.Namespace)
	}
	get := func(t *testing.T, name string) (*corev1.Namespace, bool) {
		t.Helper()
		obj, err := s.Namespace.Get(ctx, name, &metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, false
		}
		if err != nil {
			t.Fatalf("getting namespace %s: %v", name, err)
		}
		return obj.(*corev1.Namespace), true
	}
	mustTerminate := func(t *testing.T, name string) *corev1.Namespace {
		t.Helper()
		ns, ok := get(t, name)
		if !ok {
			t.Fatalf("namespace %s is gone, want it Terminating", name)
		}
		if ns.DeletionTimestamp == nil || ns.Status.Phase != corev1.NamespaceTerminating {
			t.Fatalf("namespace %s: deletionTimestamp %v, phase %q; want it Terminating", name, ns.DeletionTimestamp, ns.Status.Phase)
		}
		return ns
	}
	update := func(t *testing.T, sub interface {
		Update(context.Context, string, rest.UpdatedObjectInfo, rest.ValidateObjectFunc, rest.ValidateObjectUpdateFunc, bool, *metav1.UpdateOptions) (runtime.Object, bool, error)
	}, ns *corev1.Namespace) {
		t.Helper()
		if _, _, err := sub.Update(ctx, ns.Name, rest.DefaultUpdatedObjectInfo(ns), nil, nil, false, &metav1.UpdateOptions{}); err != nil {
			t.Fatalf("updating namespace %s: %v", ns.Name, err)
		}
	}

	t.Run("delete waits for the finalize subresource", func(t *testing.T) {
		ns := create(t, "team")
		if len(ns.Spec.Finalizers) != 1 || ns.Spec.Finalizers[0] != corev1.FinalizerKubernetes {
			t.Fatalf("spec.finalizers = %v, want [kubernetes]", ns.Spec.Finalizers)
		}
		if _, _, err := s.Namespace.Delete(ctx, "team", rest.ValidateAllObjectFunc, nil); err != nil {
			t.Fatal(err)
		}
		ns = mustTerminate(t, "team")

		// A second delete changes nothing while spec.finalizers remain.
		if _, _, err := s.Namespace.Delete(ctx, "team", rest.ValidateAllObjectFunc, nil); err != nil {
			t.Fatal(err)
		}
		ns = mustTerminate(t, "team")

		// The namespace controller reports progress through the status; that
		// must not delete the namespace before its contents are gone.
		ns.Status.Conditions = []corev1.NamespaceCondition{{
			Type: corev1.NamespaceContentRemaining, Status: corev1.ConditionTrue, Reason: "SomeResourcesRemain",
		}}
		update(t, s.Status, ns)
		ns = mustTerminate(t, "team")

		ns.Spec.Finalizers = nil
		update(t, s.Finalize, ns)
		if _, ok := get(t, "team"); ok {
			t.Fatal("namespace team still exists after its last finalizer was removed")
		}
	})

	t.Run("metadata finalizers hold a finalized namespace", func(t *testing.T) {
		obj, err := s.Namespace.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: "held", Finalizers: []string{"example.com/hold"},
		}}, nil, &metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ns := obj.(*corev1.Namespace)
		if _, _, err := s.Namespace.Delete(ctx, ns.Name, rest.ValidateAllObjectFunc, nil); err != nil {
			t.Fatal(err)
		}
		ns = mustTerminate(t, ns.Name)
		ns.Spec.Finalizers = nil
		update(t, s.Finalize, ns)
		ns = mustTerminate(t, ns.Name)

		ns.Finalizers = nil
		update(t, s.Namespace, ns)
		if _, ok := get(t, ns.Name); ok {
			t.Fatal("namespace held still exists after its last finalizer was removed")
		}
	})

	t.Run("delete without finalizers removes at once", func(t *testing.T) {
		ns := create(t, "plain")
		ns.Spec.Finalizers = nil
		update(t, s.Finalize, ns)
		if ns, _ = get(t, "plain"); ns == nil || ns.DeletionTimestamp != nil {
			t.Fatalf("finalizing a live namespace deleted it: %v", ns)
		}
		if _, _, err := s.Namespace.Delete(ctx, "plain", rest.ValidateAllObjectFunc, nil); err != nil {
			t.Fatal(err)
		}
		if _, ok := get(t, "plain"); ok {
			t.Fatal("namespace plain without finalizers survived delete")
		}
	})

	t.Run("delete collection marks namespaces Terminating", func(t *testing.T) {
		create(t, "a")
		create(t, "b")
		if _, err := s.Namespace.DeleteCollection(ctx, rest.ValidateAllObjectFunc, nil, nil); err != nil {
			t.Fatal(err)
		}
		mustTerminate(t, "a")
		mustTerminate(t, "b")
	})

	t.Run("other tenants are untouched", func(t *testing.T) {
		other := requestContext(t.Context(), "beta")
		if _, err := s.Namespace.Create(other, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, nil, &metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Namespace.DeleteCollection(ctx, rest.ValidateAllObjectFunc, nil, nil); err != nil {
			t.Fatal(err)
		}
		obj, err := s.Namespace.Get(other, "a", &metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if ns := obj.(*corev1.Namespace); ns.DeletionTimestamp != nil {
			t.Fatal("deleting tenant acme's namespaces marked tenant beta's namespace a Terminating")
		}
	})
}
