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

package apps

import (
	"context"
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	apps "github.com/arcturus-cloud/arcturus/pkg/apis/apps/v1"
	"github.com/arcturus-cloud/arcturus/pkg/apis/apps/validation"
)

// ScaleREST serves the scale subresource of deployments or replica sets:
// an autoscaling/v1 Scale read from and written to the parent, as
// kube-apiserver serves it, so that kubectl scale and autoscalers work.
// Writes go through the parent's update strategy and validation, so
// scaling bumps the parent's generation like any spec change.
type ScaleREST struct {
	store    *genericregistry.Store
	resource schema.GroupResource // the scale subresource, for errors
	table    rest.TableConvertor
}

var (
	_ rest.Patcher                  = &ScaleREST{}
	_ rest.GroupVersionKindProvider = &ScaleREST{}
	_ rest.TableConvertor           = &ScaleREST{}
)

// scaleGVK is what the subresource serves and discovery announces.
var scaleGVK = autoscalingv1.SchemeGroupVersion.WithKind("Scale")

// replicasPaths locate the replicas of the parent, per served version, so
// that server-side apply's managed fields move between the Scale and its
// parent: a manager that scaled through the subresource owns the parent's
// spec.replicas.
var replicasPaths = managedfields.ResourcePathMappings{
	apps.SchemeGroupVersion.String(): fieldpath.MakePathOrDie("spec", "replicas"),
}

func newScaleREST(store *genericregistry.Store, parent schema.GroupResource) *ScaleREST {
	resource := schema.GroupResource{Group: parent.Group, Resource: parent.Resource + "/scale"}
	return &ScaleREST{store: store, resource: resource, table: rest.NewDefaultTableConvertor(resource)}
}

func (r *ScaleREST) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind { return scaleGVK }

func (r *ScaleREST) New() runtime.Object { return &autoscalingv1.Scale{} }

// Destroy does nothing: the parent resource owns the storage.
func (r *ScaleREST) Destroy() {}

func (r *ScaleREST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	obj, err := r.store.Get(ctx, name, options)
	if err != nil {
		return nil, err
	}
	return scaleOf(obj)
}

// Update writes the replicas of a Scale to its parent. It never creates.
func (r *ScaleREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc,
	updateValidation rest.ValidateObjectUpdateFunc, _ bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	obj, _, err := r.store.Update(ctx, name, &scaleUpdatedObjectInfo{name: name, resource: r.resource, reqObjInfo: objInfo},
		toScaleCreateValidation(createValidation), toScaleUpdateValidation(updateValidation), false, options)
	if err != nil {
		return nil, false, err
	}
	scale, err := scaleOf(obj)
	return scale, false, err
}

func (r *ScaleREST) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return r.table.ConvertToTable(ctx, object, tableOptions)
}

// Admission sees the Scale that was written, not the parent, as in Kubernetes.
func toScaleCreateValidation(f rest.ValidateObjectFunc) rest.ValidateObjectFunc {
	if f == nil {
		return nil
	}
	return func(ctx context.Context, obj runtime.Object) error {
		scale, err := scaleOf(obj)
		if err != nil {
			return err
		}
		return f(ctx, scale)
	}
}

func toScaleUpdateValidation(f rest.ValidateObjectUpdateFunc) rest.ValidateObjectUpdateFunc {
	if f == nil {
		return nil
	}
	return func(ctx context.Context, obj, old runtime.Object) error {
		scale, err := scaleOf(obj)
		if err != nil {
			return err
		}
		oldScale, err := scaleOf(old)
		if err != nil {
			return err
		}
		return f(ctx, scale, oldScale)
	}
}

// scaleOf is the Scale of a deployment or replica set. Its selector is the
// parent's, as a label selector string, which is what autoscalers and
// kubectl read.
func scaleOf(obj runtime.Object) (*autoscalingv1.Scale, error) {
	var (
		m              *metav1.ObjectMeta
		desired        *int32
		statusReplicas int32
		ls             *metav1.LabelSelector
	)
	switch o := obj.(type) {
	case *apps.Deployment:
		m, desired, statusReplicas, ls = &o.ObjectMeta, o.Spec.Replicas, o.Status.Replicas, o.Spec.Selector
	case *apps.ReplicaSet:
		m, desired, statusReplicas, ls = &o.ObjectMeta, o.Spec.Replicas, o.Status.Replicas, o.Spec.Selector
	default:
		return nil, apierrors.NewInternalError(fmt.Errorf("no scale subresource for %T", obj))
	}
	selector, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid selector: %v", err))
	}
	replicas := apps.DefaultReplicas
	if desired != nil {
		replicas = *desired
	}
	return &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{
			Name: m.Name, Namespace: m.Namespace, UID: m.UID,
			ResourceVersion: m.ResourceVersion, CreationTimestamp: m.CreationTimestamp,
		},
		Spec:   autoscalingv1.ScaleSpec{Replicas: replicas},
		Status: autoscalingv1.ScaleStatus{Replicas: statusReplicas, Selector: selector.String()},
	}, nil
}

func setReplicas(obj runtime.Object, replicas int32) {
	switch o := obj.(type) {
	case *apps.Deployment:
		o.Spec.Replicas = &replicas
	case *apps.ReplicaSet:
		o.Spec.Replicas = &replicas
	}
}

// scaleUpdatedObjectInfo turns the stored parent into the old Scale, lets
// the request (update or patch, server-side apply included) make the new
// Scale from it, and writes its replicas back into the parent.
type scaleUpdatedObjectInfo struct {
	name       string
	resource   schema.GroupResource
	reqObjInfo rest.UpdatedObjectInfo
}

func (i *scaleUpdatedObjectInfo) Preconditions() *metav1.Preconditions {
	return i.reqObjInfo.Preconditions()
}

func (i *scaleUpdatedObjectInfo) UpdatedObject(ctx context.Context, oldObj runtime.Object) (runtime.Object, error) {
	parent := oldObj.DeepCopyObject()
	m, err := meta.Accessor(parent)
	if err != nil {
		return nil, err
	}
	// The store passes an empty object when there is none.
	if m.GetResourceVersion() == "" {
		return nil, apierrors.NewNotFound(i.resource, i.name)
	}
	managed := managedfields.NewScaleHandler(m.GetManagedFields(), apps.SchemeGroupVersion, replicasPaths)
	oldScale, err := scaleOf(parent)
	if err != nil {
		return nil, err
	}
	if oldScale.ManagedFields, err = managed.ToSubresource(); err != nil {
		return nil, err
	}

	newObj, err := i.reqObjInfo.UpdatedObject(ctx, oldScale)
	if err != nil {
		return nil, err
	}
	if newObj == nil {
		return nil, apierrors.NewBadRequest("nil update passed to Scale")
	}
	scale, ok := newObj.(*autoscalingv1.Scale)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("expected input object type to be Scale, but %T", newObj))
	}
	if errs := validation.ValidateScale(scale); len(errs) > 0 {
		return nil, apierrors.NewInvalid(scaleGVK.GroupKind(), i.name, errs)
	}
	if scale.UID != "" && scale.UID != m.GetUID() {
		return nil, apierrors.NewConflict(i.resource, i.name,
			fmt.Errorf("precondition failed: UID in precondition: %v, UID in object meta: %v", scale.UID, m.GetUID()))
	}

	setReplicas(parent, scale.Spec.Replicas)
	// The Scale's resourceVersion is the parent's, so a stale one conflicts.
	m.SetResourceVersion(scale.ResourceVersion)
	entries, err := managed.ToParent(scale.ManagedFields)
	if err != nil {
		return nil, err
	}
	m.SetManagedFields(entries)
	return parent, nil
}
