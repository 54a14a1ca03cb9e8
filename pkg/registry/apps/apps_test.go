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
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	apps "github.com/arcturus-cloud/arcturus/pkg/apis/apps/v1"
	arcv1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/registry/internal/registrytest"
	"github.com/arcturus-cloud/arcturus/pkg/registry/tenantstore"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

func newTestStorage(t *testing.T) map[string]rest.Storage {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := apps.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	// Stored as apps/v1, converted to the internal version, as the server does.
	storage, err := NewStorage(scheme, registrytest.RESTOptions(t, scheme, apps.SchemeGroupVersion, apps.InternalGroupVersion))
	if err != nil {
		t.Fatal(err)
	}
	for _, resource := range []string{"deployments", "replicasets"} {
		t.Cleanup(storage[resource].(*tenantstore.REST).DestroyFunc)
	}
	return storage
}

// requestContext is what the handler chain hands a request into a
// namespace of a tenant.
func requestContext(ctx context.Context, tenant tenancy.Name) context.Context {
	return genericapirequest.WithNamespace(tenancy.WithTenant(ctx, tenant), metav1.NamespaceDefault)
}

// newDeployment is a deployment as the server decodes it: defaulted.
func newDeployment(name string) *apps.Deployment {
	d := &apps.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: metav1.NamespaceDefault, Labels: map[string]string{"team": "a"}},
		Spec: apps.DeploymentSpec{
			Replicas: ptr(int32(3)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: apps.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       arcv1.PodSpec{VirtualMachine: &arcv1.VirtualMachineSpec{Image: "local/disk:1"}},
			},
		},
		// A client cannot set the status on create.
		Status: appsv1.DeploymentStatus{Replicas: 7},
	}
	apps.SetDefaultsDeployment(d)
	return d
}

type updater interface {
	Update(context.Context, string, rest.UpdatedObjectInfo, rest.ValidateObjectFunc, rest.ValidateObjectUpdateFunc, bool, *metav1.UpdateOptions) (runtime.Object, bool, error)
}

func update[T runtime.Object](t *testing.T, ctx context.Context, s rest.Storage, name string, change func(T)) (T, error) {
	t.Helper()
	// Like a patch: change a copy of the current object.
	obj, _, err := s.(updater).Update(ctx, name, rest.DefaultUpdatedObjectInfo(nil, func(_ context.Context, _, old runtime.Object) (runtime.Object, error) {
		newObj := old.DeepCopyObject()
		change(newObj.(T))
		return newObj, nil
	}), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{})
	if err != nil {
		var zero T
		return zero, err
	}
	return obj.(T), nil
}

func get[T runtime.Object](t *testing.T, ctx context.Context, s rest.Storage, name string) T {
	t.Helper()
	obj, err := s.(rest.Getter).Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	return obj.(T)
}

func TestDeploymentStorage(t *testing.T) {
	storage := newTestStorage(t)
	ctx := requestContext(t.Context(), "acme")
	deployments, status, scale := storage["deployments"], storage["deployments/status"], storage["deployments/scale"]

	obj, err := deployments.(rest.Creater).Create(ctx, newDeployment("web"), rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := obj.(*apps.Deployment)
	if d.Generation != 1 || d.Status.Replicas != 0 || d.Annotations[tenancy.Annotation] != "acme" {
		t.Fatalf("created generation %d, status %+v, annotations %v", d.Generation, d.Status, d.Annotations)
	}
	if d.Spec.Template.Spec.VirtualMachine == nil || d.Spec.Template.Spec.VirtualMachine.Name != arcv1.DefaultVirtualMachineName {
		t.Errorf("template VM = %+v", d.Spec.Template.Spec.VirtualMachine)
	}

	t.Run("status writes keep spec and labels", func(t *testing.T) {
		d, err := update(t, ctx, status, "web", func(d *apps.Deployment) {
			d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 3, ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 2}
			d.Spec.Replicas = ptr(int32(9))
			d.Labels = map[string]string{"team": "b"}
		})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status.ReadyReplicas != 2 || *d.Spec.Replicas != 3 || d.Labels["team"] != "a" || d.Generation != 1 {
			t.Errorf("after a status write: status %+v, replicas %d, labels %v, generation %d",
				d.Status, *d.Spec.Replicas, d.Labels, d.Generation)
		}
		// Status validation applies.
		if _, err := update(t, ctx, status, "web", func(d *apps.Deployment) { d.Status.ReadyReplicas = 5 }); !apierrors.IsInvalid(err) {
			t.Errorf("status with more ready replicas than replicas: %v, want Invalid", err)
		}
	})

	t.Run("spec writes keep status and bump the generation", func(t *testing.T) {
		d, err := update(t, ctx, deployments, "web", func(d *apps.Deployment) {
			d.Status = appsv1.DeploymentStatus{}
			d.Spec.Template.Spec.VirtualMachine.Image = "local/disk:2"
		})
		if err != nil {
			t.Fatal(err)
		}
		if d.Generation != 2 || d.Status.ReadyReplicas != 2 {
			t.Errorf("after a template change: generation %d, status %+v", d.Generation, d.Status)
		}
		// A write without changes, or one that only omits the tenant
		// annotation, is no new generation.
		if d, err = update(t, ctx, deployments, "web", func(d *apps.Deployment) { delete(d.Annotations, tenancy.Annotation) }); err != nil {
			t.Fatal(err)
		}
		if d.Generation != 2 || d.Annotations[tenancy.Annotation] != "acme" {
			t.Errorf("after a no-op write: generation %d, annotations %v", d.Generation, d.Annotations)
		}
		// Annotations are copied to replica sets, so they count.
		if d, err = update(t, ctx, deployments, "web", func(d *apps.Deployment) { d.Annotations["note"] = "x" }); err != nil {
			t.Fatal(err)
		}
		if d.Generation != 3 {
			t.Errorf("after an annotation change: generation %d, want 3", d.Generation)
		}
	})

	t.Run("selector is immutable", func(t *testing.T) {
		_, err := update(t, ctx, deployments, "web", func(d *apps.Deployment) {
			d.Spec.Selector.MatchLabels["extra"] = "x"
			d.Spec.Template.Labels["extra"] = "x"
		})
		if !apierrors.IsInvalid(err) {
			t.Errorf("changing the selector: %v, want Invalid", err)
		}
	})

	t.Run("scale", func(t *testing.T) {
		s := get[*autoscalingv1.Scale](t, ctx, scale, "web")
		before := get[*apps.Deployment](t, ctx, deployments, "web")
		if s.Name != "web" || s.Namespace != "default" || s.UID != before.UID || s.ResourceVersion != before.ResourceVersion ||
			s.Spec.Replicas != 3 || s.Status.Replicas != 3 || s.Status.Selector != "app=web" {
			t.Fatalf("scale = %+v", s)
		}
		s, err := update(t, ctx, scale, "web", func(s *autoscalingv1.Scale) { s.Spec.Replicas = 10 })
		if err != nil {
			t.Fatal(err)
		}
		after := get[*apps.Deployment](t, ctx, deployments, "web")
		if s.Spec.Replicas != 10 || *after.Spec.Replicas != 10 || after.Generation != before.Generation+1 ||
			after.Status.ReadyReplicas != 2 || after.Spec.Template.Spec.VirtualMachine.Image != "local/disk:2" {
			t.Errorf("after scaling: scale %+v, deployment replicas %d, generation %d (was %d), status %+v",
				s.Spec, *after.Spec.Replicas, after.Generation, before.Generation, after.Status)
		}
		if _, err := update(t, ctx, scale, "web", func(s *autoscalingv1.Scale) { s.Spec.Replicas = -1 }); !apierrors.IsInvalid(err) {
			t.Errorf("negative scale: %v, want Invalid", err)
		}
		if _, err := update(t, ctx, scale, "web", func(s *autoscalingv1.Scale) { s.ResourceVersion = before.ResourceVersion }); !apierrors.IsConflict(err) {
			t.Errorf("scale with a stale resourceVersion: %v, want Conflict", err)
		}
		if _, err := update(t, ctx, scale, "web", func(s *autoscalingv1.Scale) { s.UID = "other" }); !apierrors.IsConflict(err) {
			t.Errorf("scale with another UID: %v, want Conflict", err)
		}
		if _, err := update(t, ctx, scale, "missing", func(s *autoscalingv1.Scale) { s.Spec.Replicas = 1 }); !apierrors.IsNotFound(err) {
			t.Errorf("scaling a missing deployment: %v, want NotFound", err)
		}
	})

	t.Run("tenants do not see each other", func(t *testing.T) {
		other := requestContext(t.Context(), "beta")
		if _, err := deployments.(rest.Getter).Get(other, "web", &metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("another tenant reads the deployment: %v, want NotFound", err)
		}
		if _, err := scale.(rest.Getter).Get(other, "web", &metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("another tenant reads the scale: %v, want NotFound", err)
		}
		list, err := deployments.(rest.Lister).List(other, nil)
		if err != nil || len(list.(*apps.DeploymentList).Items) != 0 {
			t.Errorf("another tenant lists %v, %v", list, err)
		}
	})
}

func TestReplicaSetStorage(t *testing.T) {
	storage := newTestStorage(t)
	ctx := requestContext(t.Context(), "acme")
	replicaSets, status, scale := storage["replicasets"], storage["replicasets/status"], storage["replicasets/scale"]

	d := newDeployment("web")
	rs := &apps.ReplicaSet{ObjectMeta: d.ObjectMeta, Spec: apps.ReplicaSetSpec{Replicas: ptr(int32(2)), Selector: d.Spec.Selector, Template: d.Spec.Template}}
	rs.Spec.Template.Spec.VirtualMachine = nil
	rs.Spec.Template.Spec.Containers = []corev1.Container{{Name: "app", Image: "busybox:1"}}
	apps.SetDefaultsReplicaSet(rs)
	obj, err := replicaSets.(rest.Creater).Create(ctx, rs, rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rs = obj.(*apps.ReplicaSet); rs.Generation != 1 {
		t.Errorf("created generation %d", rs.Generation)
	}

	if rs, err = update(t, ctx, status, "web", func(rs *apps.ReplicaSet) {
		rs.Status = appsv1.ReplicaSetStatus{Replicas: 2, ReadyReplicas: 1, ObservedGeneration: 1}
		rs.Spec.Replicas = ptr(int32(5))
	}); err != nil {
		t.Fatal(err)
	}
	if *rs.Spec.Replicas != 2 || rs.Status.ReadyReplicas != 1 || rs.Generation != 1 {
		t.Errorf("after a status write: replicas %d, status %+v, generation %d", *rs.Spec.Replicas, rs.Status, rs.Generation)
	}
	// Only spec changes count for replica sets.
	if rs, err = update(t, ctx, replicaSets, "web", func(rs *apps.ReplicaSet) { rs.Annotations["note"] = "x" }); err != nil {
		t.Fatal(err)
	}
	if rs.Generation != 1 {
		t.Errorf("after an annotation change: generation %d, want 1", rs.Generation)
	}

	s, err := update(t, ctx, scale, "web", func(s *autoscalingv1.Scale) { s.Spec.Replicas = 0 })
	if err != nil {
		t.Fatal(err)
	}
	rs = get[*apps.ReplicaSet](t, ctx, replicaSets, "web")
	if s.Spec.Replicas != 0 || s.Status.Replicas != 2 || s.Status.Selector != "app=web" || *rs.Spec.Replicas != 0 || rs.Generation != 2 {
		t.Errorf("after scaling to 0: scale %+v, replicas %d, generation %d", s, *rs.Spec.Replicas, rs.Generation)
	}

	_, fields, err := replicaSetAttrs(rs)
	if err != nil || fields["status.replicas"] != "2" || fields["metadata.name"] != "web" {
		t.Errorf("selectable fields %v, %v", fields, err)
	}
}

func TestScaleManagedFields(t *testing.T) {
	d := newDeployment("web")
	d.ResourceVersion = "5"
	d.ManagedFields = []metav1.ManagedFieldsEntry{{
		Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply, APIVersion: "apps/v1",
		FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:replicas":{},"f:paused":{}}}`)},
	}}
	info := &scaleUpdatedObjectInfo{name: "web", resource: apps.Resource("deployments/scale"),
		reqObjInfo: rest.DefaultUpdatedObjectInfo(nil, func(_ context.Context, _, old runtime.Object) (runtime.Object, error) {
			s := old.DeepCopyObject().(*autoscalingv1.Scale)
			// The Scale shows who owns the replicas, in its own terms.
			if len(s.ManagedFields) != 1 || s.ManagedFields[0].Manager != "kubectl" || s.ManagedFields[0].APIVersion != "autoscaling/v1" {
				t.Errorf("scale managed fields = %+v", s.ManagedFields)
			}
			s.Spec.Replicas = 4
			s.ManagedFields = []metav1.ManagedFieldsEntry{{
				Manager: "autoscaler", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "autoscaling/v1",
				FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:replicas":{}}}`)},
			}}
			return s, nil
		})}
	obj, err := info.UpdatedObject(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	got := obj.(*apps.Deployment)
	if *got.Spec.Replicas != 4 || *d.Spec.Replicas != 3 {
		t.Errorf("replicas = %d (stored object %d), want 4 (3)", *got.Spec.Replicas, *d.Spec.Replicas)
	}
	// The autoscaler now owns spec.replicas of the deployment; kubectl keeps
	// the rest of what it applied.
	managers := map[string]string{}
	for _, e := range got.ManagedFields {
		managers[e.Manager] = string(e.FieldsV1.Raw)
	}
	if managers["autoscaler"] != `{"f:spec":{"f:replicas":{}}}` || managers["kubectl"] != `{"f:spec":{"f:paused":{}}}` {
		t.Errorf("deployment managed fields = %v", managers)
	}
}

func ptr[T any](v T) *T { return &v }
