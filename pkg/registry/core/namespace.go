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
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/util/dryrun"

	arcv1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/apis/core/validation"
	"github.com/arcturus-cloud/arcturus/pkg/printers"
	"github.com/arcturus-cloud/arcturus/pkg/registry/strategy"
	"github.com/arcturus-cloud/arcturus/pkg/registry/tenantstore"
)

// NamespaceStorage is the namespace resource and its subresources.
type NamespaceStorage struct {
	Namespace *NamespaceREST
	Status    *tenantstore.StatusREST
	Finalize  *tenantstore.StatusREST
}

// NamespaceREST deletes namespaces in two steps, as Kubernetes does: a
// namespace with spec.finalizers is first marked Terminating and emptied by
// the namespace controller, which then clears the finalizers and deletes it.
type NamespaceREST struct {
	*tenantstore.REST
}

func namespaceAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	ns, ok := obj.(*corev1.Namespace)
	if !ok {
		return nil, nil, fmt.Errorf("not a namespace: %T", obj)
	}
	set := generic.ObjectMetaFieldsSet(&ns.ObjectMeta, false)
	set["status.phase"] = string(ns.Status.Phase)
	return ns.Labels, set, nil
}

func newNamespaceStorage(typer runtime.ObjectTyper, optsGetter generic.RESTOptionsGetter) (*NamespaceStorage, error) {
	s := strategy.New(typer, false, strategy.Funcs{
		Validate:       strategy.Validator(validation.ValidateNamespace),
		ValidateUpdate: strategy.UpdateValidator(validation.ValidateNamespaceUpdate),
		PrepareForCreate: func(_ context.Context, obj runtime.Object) {
			ns := obj.(*corev1.Namespace)
			ns.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
			if !hasFinalizer(ns, corev1.FinalizerKubernetes) {
				ns.Spec.Finalizers = append(ns.Spec.Finalizers, corev1.FinalizerKubernetes)
			}
		},
		// spec.finalizers change only through the finalize subresource.
		PrepareForUpdate: func(_ context.Context, obj, old runtime.Object) {
			obj.(*corev1.Namespace).Spec.Finalizers = old.(*corev1.Namespace).Spec.Finalizers
		},
	}).WithStatus("v1")
	namespaces, err := tenantstore.NewREST(tenantstore.Kind{
		Resource:   arcv1.Resource("namespaces"),
		Singular:   "namespace",
		New:        func() runtime.Object { return &corev1.Namespace{} },
		NewList:    func() runtime.Object { return &corev1.NamespaceList{} },
		Strategy:   s,
		Attrs:      namespaceAttrs,
		Table:      printers.NewNamespaceTableConvertor(),
		ShortNames: []string{"ns"},
	}, optsGetter)
	if err != nil {
		return nil, err
	}
	// Set before the subresources copy the store, so that a status or
	// finalize update deletes a namespace only once spec.finalizers are gone
	// too: the default check looks at metadata.finalizers alone and would
	// remove a Terminating namespace at its first status update.
	namespaces.ShouldDeleteDuringUpdate = shouldDeleteNamespaceDuringUpdate
	finalize := strategy.New(typer, false, strategy.Funcs{
		Validate:       strategy.Validator(validation.ValidateNamespace),
		ValidateUpdate: strategy.UpdateValidator(validation.ValidateNamespaceUpdate),
		PrepareForUpdate: func(_ context.Context, obj, old runtime.Object) {
			ns := obj.(*corev1.Namespace)
			finalizers := ns.Spec.Finalizers
			*ns = *old.(*corev1.Namespace)
			ns.Spec.Finalizers = finalizers
		},
	}).WithStatus("v1")
	return &NamespaceStorage{
		Namespace: &NamespaceREST{REST: namespaces},
		Status:    namespaces.Status(s.StatusStrategy("v1", strategy.UpdateValidator(validation.ValidateNamespaceUpdate))),
		Finalize:  namespaces.Status(finalize),
	}, nil
}

// shouldDeleteNamespaceDuringUpdate adds spec.finalizers to the store's
// default rule (deletion requested and metadata.finalizers empty).
func shouldDeleteNamespaceDuringUpdate(_ context.Context, _ string, obj, _ runtime.Object) bool {
	ns, ok := obj.(*corev1.Namespace)
	return ok && len(ns.Spec.Finalizers) == 0
}

func hasFinalizer(ns *corev1.Namespace, f corev1.FinalizerName) bool {
	for _, x := range ns.Spec.Finalizers {
		if x == f {
			return true
		}
	}
	return false
}

var (
	_ rest.GracefulDeleter   = &NamespaceREST{}
	_ rest.CollectionDeleter = &NamespaceREST{}
)

// Delete marks a namespace Terminating while spec.finalizers remain, and
// deletes it once they are gone.
func (r *NamespaceREST) Delete(ctx context.Context, name string, deleteValidation rest.ValidateObjectFunc, options *metav1.DeleteOptions) (runtime.Object, bool, error) {
	obj, err := r.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, false, err
	}
	ns := obj.(*corev1.Namespace)
	if options == nil {
		options = metav1.NewDeleteOptions(0)
	}
	if options.Preconditions != nil {
		if options.Preconditions.UID != nil && *options.Preconditions.UID != ns.UID {
			return nil, false, apierrors.NewConflict(arcv1.Resource("namespaces"), name,
				fmt.Errorf("precondition failed: UID in precondition: %v, UID in object meta: %v", *options.Preconditions.UID, ns.UID))
		}
		if options.Preconditions.ResourceVersion != nil && *options.Preconditions.ResourceVersion != ns.ResourceVersion {
			return nil, false, apierrors.NewConflict(arcv1.Resource("namespaces"), name,
				fmt.Errorf("precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *options.Preconditions.ResourceVersion, ns.ResourceVersion))
		}
	}
	if len(ns.Spec.Finalizers) == 0 {
		return r.REST.Delete(ctx, name, deleteValidation, options)
	}
	if ns.DeletionTimestamp != nil {
		return ns, false, nil
	}
	if deleteValidation != nil {
		if err := deleteValidation(ctx, ns); err != nil {
			return nil, false, err
		}
	}
	key, err := r.KeyFunc(ctx, name)
	if err != nil {
		return nil, false, err
	}
	out := &corev1.Namespace{}
	err = r.Storage.GuaranteedUpdate(ctx, key, out, false, &storage.Preconditions{UID: &ns.UID},
		storage.SimpleUpdate(func(obj runtime.Object) (runtime.Object, error) {
			current := obj.(*corev1.Namespace)
			if current.DeletionTimestamp == nil {
				now := metav1.Now()
				current.DeletionTimestamp = &now
			}
			current.Status.Phase = corev1.NamespaceTerminating
			if options.PropagationPolicy != nil && *options.PropagationPolicy == metav1.DeletePropagationOrphan {
				current.Finalizers = appendOnce(current.Finalizers, metav1.FinalizerOrphanDependents)
			}
			return current, nil
		}), dryrun.IsDryRun(options.DryRun), nil)
	if err != nil {
		return nil, false, err
	}
	return out, false, nil
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// DeleteCollection deletes each listed namespace through Delete. The store's
// own DeleteCollection would remove namespaces from storage directly,
// skipping Terminating and leaving their contents behind.
func (r *NamespaceREST) DeleteCollection(ctx context.Context, deleteValidation rest.ValidateObjectFunc, options *metav1.DeleteOptions, listOptions *metainternalversion.ListOptions) (runtime.Object, error) {
	obj, err := r.List(ctx, listOptions)
	if err != nil {
		return nil, err
	}
	list := obj.(*corev1.NamespaceList)
	for i := range list.Items {
		// Delete may change the options it is given.
		var opts *metav1.DeleteOptions
		if options != nil {
			opts = options.DeepCopy()
		}
		if _, _, err := r.Delete(ctx, list.Items[i].Name, deleteValidation, opts); err != nil && !apierrors.IsNotFound(err) {
			return nil, err
		}
	}
	return list, nil
}
