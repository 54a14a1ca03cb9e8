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

// Package apps builds the storage of the apps/v1 resources Arcturus serves:
// deployments and replica sets, each with its status and scale
// subresources. It serves the API only; controllers act on it elsewhere.
package apps

import (
	"context"
	"fmt"
	"maps"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	apps "github.com/arcturus-cloud/arcturus/pkg/apis/apps/v1"
	"github.com/arcturus-cloud/arcturus/pkg/apis/apps/validation"
	"github.com/arcturus-cloud/arcturus/pkg/printers"
	"github.com/arcturus-cloud/arcturus/pkg/registry/strategy"
	"github.com/arcturus-cloud/arcturus/pkg/registry/tenantstore"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// apiVersion is the served version, for server-side apply's reset fields.
var apiVersion = apps.SchemeGroupVersion.String()

// NewStorage returns the storage of deployments and replica sets and their
// subresources, keyed by the resource path the API installs them under.
func NewStorage(typer runtime.ObjectTyper, optsGetter generic.RESTOptionsGetter) (map[string]rest.Storage, error) {
	ds := newDeploymentStrategy(typer)
	deployments, err := tenantstore.NewREST(tenantstore.Kind{
		Resource: apps.Resource("deployments"), Singular: "deployment",
		New:        func() runtime.Object { return &apps.Deployment{} },
		NewList:    func() runtime.Object { return &apps.DeploymentList{} },
		Strategy:   ds,
		Table:      printers.NewDeploymentTableConvertor(),
		ShortNames: []string{"deploy"},
		Categories: []string{"all"},
	}, optsGetter)
	if err != nil {
		return nil, err
	}
	rss := newReplicaSetStrategy(typer)
	replicaSets, err := tenantstore.NewREST(tenantstore.Kind{
		Resource: apps.Resource("replicasets"), Singular: "replicaset",
		New:        func() runtime.Object { return &apps.ReplicaSet{} },
		NewList:    func() runtime.Object { return &apps.ReplicaSetList{} },
		Strategy:   rss,
		Attrs:      replicaSetAttrs,
		Table:      printers.NewReplicaSetTableConvertor(),
		ShortNames: []string{"rs"},
		Categories: []string{"all"},
	}, optsGetter)
	if err != nil {
		return nil, err
	}
	return map[string]rest.Storage{
		"deployments":        deployments,
		"deployments/status": deployments.Status(newDeploymentStatusStrategy(ds)),
		"deployments/scale":  newScaleREST(deployments.Store, apps.Resource("deployments")),
		"replicasets":        replicaSets,
		"replicasets/status": replicaSets.Status(newReplicaSetStatusStrategy(rss)),
		"replicasets/scale":  newScaleREST(replicaSets.Store, apps.Resource("replicasets")),
	}, nil
}

// newDeploymentStrategy is the strategy of deployments: the status is the
// controller's (cleared on create, kept on update), and metadata.generation
// counts the changes a controller must act on.
func newDeploymentStrategy(typer runtime.ObjectTyper) *strategy.Strategy {
	return strategy.New(typer, true, strategy.Funcs{
		Validate:       strategy.Validator(validation.ValidateDeployment),
		ValidateUpdate: strategy.UpdateValidator(validation.ValidateDeploymentUpdate),
		PrepareForCreate: func(_ context.Context, obj runtime.Object) {
			d := obj.(*apps.Deployment)
			d.Status = appsv1.DeploymentStatus{}
			d.Generation = 1
		},
		PrepareForUpdate: func(_ context.Context, obj, old runtime.Object) {
			d, oldD := obj.(*apps.Deployment), old.(*apps.Deployment)
			// Spec changes bump the generation, so that scaling and
			// template changes can be told from status writes; so do
			// annotation changes, because the controller copies annotations
			// to the deployment's replica sets.
			if !equality.Semantic.DeepEqual(d.Spec, oldD.Spec) || !sameUserAnnotations(d.Annotations, oldD.Annotations) {
				d.Generation = oldD.Generation + 1
			}
		},
	}).WithStatus(apiVersion)
}

// newReplicaSetStrategy is the strategy of replica sets: as deployments',
// except that only spec changes bump the generation.
func newReplicaSetStrategy(typer runtime.ObjectTyper) *strategy.Strategy {
	return strategy.New(typer, true, strategy.Funcs{
		Validate:       strategy.Validator(validation.ValidateReplicaSet),
		ValidateUpdate: strategy.UpdateValidator(validation.ValidateReplicaSetUpdate),
		PrepareForCreate: func(_ context.Context, obj runtime.Object) {
			rs := obj.(*apps.ReplicaSet)
			rs.Status = appsv1.ReplicaSetStatus{}
			rs.Generation = 1
		},
		PrepareForUpdate: func(_ context.Context, obj, old runtime.Object) {
			rs, oldRS := obj.(*apps.ReplicaSet), old.(*apps.ReplicaSet)
			if !equality.Semantic.DeepEqual(rs.Spec, oldRS.Spec) {
				rs.Generation = oldRS.Generation + 1
			}
		},
	}).WithStatus(apiVersion)
}

// sameUserAnnotations compares annotations without the tenant annotation:
// the store sets that one after the strategy has run, so an update that
// omits it (a replace from a manifest) is no change.
func sameUserAnnotations(a, b map[string]string) bool {
	a, b = maps.Clone(a), maps.Clone(b)
	delete(a, tenancy.Annotation)
	delete(b, tenancy.Annotation)
	return maps.Equal(a, b)
}

// deploymentStatusStrategy also keeps the deployment's labels on status
// writes, as Kubernetes does.
type deploymentStatusStrategy struct {
	*strategy.Strategy
}

// newDeploymentStatusStrategy is the strategy of deployments/status.
func newDeploymentStatusStrategy(s *strategy.Strategy) deploymentStatusStrategy {
	return deploymentStatusStrategy{s.StatusStrategy(apiVersion, strategy.UpdateValidator(validation.ValidateDeploymentStatusUpdate))}
}

func (s deploymentStatusStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	s.Strategy.PrepareForUpdate(ctx, obj, old)
	obj.(*apps.Deployment).Labels = old.(*apps.Deployment).Labels
}

func (deploymentStatusStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		fieldpath.APIVersion(apiVersion): fieldpath.NewSet(
			fieldpath.MakePathOrDie("spec"),
			fieldpath.MakePathOrDie("metadata", "labels"),
		),
	}
}

// newReplicaSetStatusStrategy is the strategy of replicasets/status.
func newReplicaSetStatusStrategy(s *strategy.Strategy) *strategy.Strategy {
	return s.StatusStrategy(apiVersion, strategy.UpdateValidator(validation.ValidateReplicaSetStatusUpdate))
}

// replicaSetAttrs are a replica set's labels and selectable fields, as
// kube-apiserver stores them.
func replicaSetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	rs, ok := obj.(*apps.ReplicaSet)
	if !ok {
		return nil, nil, fmt.Errorf("not a replica set: %T", obj)
	}
	set := generic.ObjectMetaFieldsSet(&rs.ObjectMeta, true)
	set["status.replicas"] = strconv.Itoa(int(rs.Status.Replicas))
	return rs.Labels, set, nil
}
