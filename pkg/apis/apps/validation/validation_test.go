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

package validation

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	apps "github.com/arcturus-cloud/arcturus/pkg/apis/apps/v1"
	arcv1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

// want is an expected error: its type and field, and part of its detail.
type want struct {
	typ    field.ErrorType
	field  string
	detail string
}

// expect requires errs to be exactly the wanted errors, in any order.
func expect(t *testing.T, errs field.ErrorList, wants ...want) {
	t.Helper()
	if len(errs) != len(wants) {
		t.Fatalf("got %d errors, want %d: %v", len(errs), len(wants), errs.ToAggregate())
	}
	for _, w := range wants {
		found := slices.ContainsFunc(errs, func(e *field.Error) bool {
			return e.Type == w.typ && e.Field == w.field && strings.Contains(e.Detail, w.detail)
		})
		if !found {
			t.Errorf("no %q error on %s with detail %q in: %v", w.typ, w.field, w.detail, errs.ToAggregate())
		}
	}
}

var webLabels = map[string]string{"app": "web"}

// deployment is a valid container deployment, defaulted as the server does
// before validating, with the resourceVersion of a stored object.
func deployment() *apps.Deployment {
	d := &apps.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", ResourceVersion: "1"},
		Spec: apps.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: webLabels},
			Template: apps.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "front"}},
				Spec: arcv1.PodSpec{PodSpec: corev1.PodSpec{
					Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27"}},
				}},
			},
		},
	}
	apps.SetDefaultsDeployment(d)
	return d
}

// vmDeployment is a valid deployment of virtual machines.
func vmDeployment() *apps.Deployment {
	d := deployment()
	d.Spec.Template.Spec.Containers = nil
	d.Spec.Template.Spec.VirtualMachine = &arcv1.VirtualMachineSpec{Image: "local/disk:1"}
	apps.SetDefaultsDeployment(d)
	return d
}

func replicaSet() *apps.ReplicaSet {
	d := deployment()
	rs := &apps.ReplicaSet{
		ObjectMeta: d.ObjectMeta,
		Spec:       apps.ReplicaSetSpec{Selector: d.Spec.Selector, Template: d.Spec.Template},
	}
	apps.SetDefaultsReplicaSet(rs)
	return rs
}

func TestValidateDeployment(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*apps.Deployment)
		wants  []want
	}{
		{"valid", func(*apps.Deployment) {}, nil},
		{"valid VM template", func(d *apps.Deployment) { *d = *vmDeployment() }, nil},
		{"zero replicas", func(d *apps.Deployment) { *d.Spec.Replicas = 0 }, nil},
		{"negative replicas", func(d *apps.Deployment) { *d.Spec.Replicas = -1 },
			[]want{{field.ErrorTypeInvalid, "spec.replicas", "greater than or equal to 0"}}},
		{"no selector", func(d *apps.Deployment) { d.Spec.Selector = nil },
			[]want{{field.ErrorTypeRequired, "spec.selector", ""}}},
		{"empty selector", func(d *apps.Deployment) { d.Spec.Selector = &metav1.LabelSelector{} },
			[]want{{field.ErrorTypeInvalid, "spec.selector", "empty selector"}}},
		{"invalid selector", func(d *apps.Deployment) {
			d.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Near"}}}
		}, []want{
			{field.ErrorTypeInvalid, "spec.selector.matchExpressions[0].operator", "not a valid selector operator"},
			{field.ErrorTypeInvalid, "spec.selector", "invalid label selector"},
		}},
		{"selector does not match labels", func(d *apps.Deployment) { d.Spec.Template.Labels = map[string]string{"app": "db"} },
			[]want{{field.ErrorTypeInvalid, "spec.template.metadata.labels", "`selector` does not match template `labels`"}}},
		{"neither containers nor VM", func(d *apps.Deployment) { d.Spec.Template.Spec.Containers = nil },
			[]want{{field.ErrorTypeRequired, "spec.template.spec.containers", "containers or a virtualMachine"}}},
		{"containers and VM", func(d *apps.Deployment) {
			d.Spec.Template.Spec.VirtualMachine = vmDeployment().Spec.Template.Spec.VirtualMachine
		}, []want{{field.ErrorTypeForbidden, "spec.template.spec.virtualMachine", "not both"}}},
		{"VM without image or kernel", func(d *apps.Deployment) {
			*d = *vmDeployment()
			d.Spec.Template.Spec.VirtualMachine.Image = ""
			d.Spec.Template.Spec.VirtualMachine.ImagePullPolicy = ""
		}, []want{{field.ErrorTypeRequired, "spec.template.spec.virtualMachine.image", "`image` or `kernel`"}}},
		{"container without image", func(d *apps.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "" },
			[]want{{field.ErrorTypeRequired, "spec.template.spec.containers[0].image", ""}}},
		{"restart policy Never", func(d *apps.Deployment) { d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever },
			[]want{{field.ErrorTypeNotSupported, "spec.template.spec.restartPolicy", "Always"}}},
		{"active deadline", func(d *apps.Deployment) { d.Spec.Template.Spec.ActiveDeadlineSeconds = ptr(int64(10)) },
			[]want{{field.ErrorTypeForbidden, "spec.template.spec.activeDeadlineSeconds", "not Supported"}}},
		{"ephemeral containers", func(d *apps.Deployment) {
			d.Spec.Template.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox"}}}
		}, []want{{field.ErrorTypeForbidden, "spec.template.spec.ephemeralContainers", "not allowed in pod template"}}},
		{"invalid template label", func(d *apps.Deployment) { d.Spec.Template.Labels["bad key!"] = "x" },
			[]want{{field.ErrorTypeInvalid, "spec.template.labels", "name part must consist"}}},
		{"unknown strategy", func(d *apps.Deployment) { d.Spec.Strategy = appsv1.DeploymentStrategy{Type: "BlueGreen"} },
			[]want{{field.ErrorTypeNotSupported, "spec.strategy.type", "Recreate"}}},
		{"recreate with rolling update", func(d *apps.Deployment) { d.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType },
			[]want{{field.ErrorTypeForbidden, "spec.strategy.rollingUpdate", "may not be specified"}}},
		{"recreate", func(d *apps.Deployment) {
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
		}, nil},
		{"rolling update missing", func(d *apps.Deployment) { d.Spec.Strategy.RollingUpdate = nil },
			[]want{{field.ErrorTypeRequired, "spec.strategy.rollingUpdate", ""}}},
		{"surge and unavailable both zero", func(d *apps.Deployment) {
			d.Spec.Strategy.RollingUpdate.MaxSurge = ptr(intstr.FromInt32(0))
			d.Spec.Strategy.RollingUpdate.MaxUnavailable = ptr(intstr.FromString("0%"))
		}, []want{{field.ErrorTypeInvalid, "spec.strategy.rollingUpdate.maxUnavailable", "may not be 0 when `maxSurge` is 0"}}},
		{"surge zero only", func(d *apps.Deployment) { d.Spec.Strategy.RollingUpdate.MaxSurge = ptr(intstr.FromInt32(0)) }, nil},
		{"negative surge", func(d *apps.Deployment) { d.Spec.Strategy.RollingUpdate.MaxSurge = ptr(intstr.FromInt32(-1)) },
			[]want{{field.ErrorTypeInvalid, "spec.strategy.rollingUpdate.maxSurge", "greater than or equal to 0"}}},
		{"bad percentage", func(d *apps.Deployment) { d.Spec.Strategy.RollingUpdate.MaxSurge = ptr(intstr.FromString("lots")) },
			[]want{{field.ErrorTypeInvalid, "spec.strategy.rollingUpdate.maxSurge", "percent"}}},
		{"unavailable over 100%", func(d *apps.Deployment) {
			d.Spec.Strategy.RollingUpdate.MaxUnavailable = ptr(intstr.FromString("120%"))
		}, []want{{field.ErrorTypeInvalid, "spec.strategy.rollingUpdate.maxUnavailable", "not be greater than 100%"}}},
		{"negative revision history", func(d *apps.Deployment) { *d.Spec.RevisionHistoryLimit = -1 },
			[]want{{field.ErrorTypeInvalid, "spec.revisionHistoryLimit", "greater than or equal to 0"}}},
		{"zero revision history", func(d *apps.Deployment) { *d.Spec.RevisionHistoryLimit = 0 }, nil},
		{"negative minReadySeconds", func(d *apps.Deployment) { d.Spec.MinReadySeconds = -1 },
			[]want{{field.ErrorTypeInvalid, "spec.minReadySeconds", "greater than or equal to 0"}}},
		{"deadline not above minReadySeconds", func(d *apps.Deployment) {
			d.Spec.MinReadySeconds = 30
			*d.Spec.ProgressDeadlineSeconds = 30
		}, []want{{field.ErrorTypeInvalid, "spec.progressDeadlineSeconds", "must be greater than minReadySeconds"}}},
		{"no name", func(d *apps.Deployment) { d.Name = "" },
			[]want{{field.ErrorTypeRequired, "metadata.name", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := deployment()
			tt.mutate(d)
			expect(t, ValidateDeployment(d), tt.wants...)
		})
	}
}

func TestValidateDeploymentUpdate(t *testing.T) {
	old := deployment()

	scaled := deployment()
	*scaled.Spec.Replicas = 5
	scaled.Spec.Template.Spec.Containers[0].Image = "nginx:1.28"
	expect(t, ValidateDeploymentUpdate(scaled, old))

	reselected := deployment()
	reselected.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "front"}}
	expect(t, ValidateDeploymentUpdate(reselected, old), want{field.ErrorTypeInvalid, "spec.selector", "immutable"})

	invalid := deployment()
	invalid.Spec.Template.Spec.Containers = nil
	expect(t, ValidateDeploymentUpdate(invalid, old), want{field.ErrorTypeRequired, "spec.template.spec.containers", ""})
}

func TestValidateDeploymentStatusUpdate(t *testing.T) {
	old := deployment()
	old.Status = appsv1.DeploymentStatus{Replicas: 3, CollisionCount: ptr(int32(2))}
	tests := []struct {
		name   string
		status appsv1.DeploymentStatus
		wants  []want
	}{
		{"valid", appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 2,
			AvailableReplicas: 2, UnavailableReplicas: 1, CollisionCount: ptr(int32(3))}, nil},
		{"negative", appsv1.DeploymentStatus{Replicas: 3, UnavailableReplicas: -1, CollisionCount: ptr(int32(2))}, []want{
			{field.ErrorTypeInvalid, "status.unavailableReplicas", "greater than or equal to 0"}}},
		{"more ready than replicas", appsv1.DeploymentStatus{Replicas: 1, ReadyReplicas: 2, AvailableReplicas: 1, CollisionCount: ptr(int32(2))}, []want{
			{field.ErrorTypeInvalid, "status.readyReplicas", "cannot be greater than status.replicas"}}},
		{"more available than ready", appsv1.DeploymentStatus{Replicas: 3, ReadyReplicas: 1, AvailableReplicas: 2, CollisionCount: ptr(int32(2))}, []want{
			{field.ErrorTypeInvalid, "status.availableReplicas", "cannot be greater than readyReplicas"}}},
		{"collision count decremented", appsv1.DeploymentStatus{Replicas: 3, CollisionCount: ptr(int32(1))}, []want{
			{field.ErrorTypeInvalid, "status.collisionCount", "cannot be decremented"}}},
		{"collision count dropped", appsv1.DeploymentStatus{Replicas: 3}, []want{
			{field.ErrorTypeInvalid, "status.collisionCount", "cannot be decremented"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := deployment()
			d.Status = tt.status
			expect(t, ValidateDeploymentStatusUpdate(d, old), tt.wants...)
		})
	}
}

func TestValidateReplicaSet(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*apps.ReplicaSet)
		wants  []want
	}{
		{"valid", func(*apps.ReplicaSet) {}, nil},
		{"valid VM template", func(rs *apps.ReplicaSet) { rs.Spec.Template = vmDeployment().Spec.Template }, nil},
		{"negative replicas", func(rs *apps.ReplicaSet) { rs.Spec.Replicas = ptr(int32(-2)) },
			[]want{{field.ErrorTypeInvalid, "spec.replicas", "greater than or equal to 0"}}},
		{"negative minReadySeconds", func(rs *apps.ReplicaSet) { rs.Spec.MinReadySeconds = -1 },
			[]want{{field.ErrorTypeInvalid, "spec.minReadySeconds", "greater than or equal to 0"}}},
		{"no selector", func(rs *apps.ReplicaSet) { rs.Spec.Selector = nil },
			[]want{{field.ErrorTypeRequired, "spec.selector", ""}}},
		{"selector does not match labels", func(rs *apps.ReplicaSet) { rs.Spec.Template.Labels = nil },
			[]want{{field.ErrorTypeInvalid, "spec.template.metadata.labels", "does not match"}}},
		{"empty template", func(rs *apps.ReplicaSet) {
			rs.Spec.Template = apps.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: webLabels}}
			apps.SetDefaultsReplicaSet(rs)
		}, []want{{field.ErrorTypeRequired, "spec.template.spec.containers", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := replicaSet()
			tt.mutate(rs)
			expect(t, ValidateReplicaSet(rs), tt.wants...)
		})
	}

	old := replicaSet()
	reselected := replicaSet()
	reselected.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "front"}}
	expect(t, ValidateReplicaSetUpdate(reselected, old), want{field.ErrorTypeInvalid, "spec.selector", "immutable"})

	status := replicaSet()
	status.Status = appsv1.ReplicaSetStatus{Replicas: 2, FullyLabeledReplicas: 3, ReadyReplicas: 2, AvailableReplicas: 2, ObservedGeneration: -1}
	expect(t, ValidateReplicaSetStatusUpdate(status, old),
		want{field.ErrorTypeInvalid, "status.fullyLabeledReplicas", "cannot be greater than status.replicas"},
		want{field.ErrorTypeInvalid, "status.observedGeneration", "greater than or equal to 0"})
}

func TestValidateScale(t *testing.T) {
	scale := &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}, Spec: autoscalingv1.ScaleSpec{Replicas: 10}}
	expect(t, ValidateScale(scale))
	scale.Spec.Replicas = -1
	expect(t, ValidateScale(scale), want{field.ErrorTypeInvalid, "spec.replicas", "greater than or equal to 0"})
}

func ptr[T any](v T) *T { return &v }
