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

package client

import (
	"context"
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"

	appsv1 "github.com/arcturus-cloud/arcturus/pkg/apis/apps/v1"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// AppsScheme knows the apps/v1 kinds as Arcturus serves them: pod templates
// are superset templates, which client-go's apps types would cut down to
// containers.
var AppsScheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := appsv1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}()

var appsParameterCodec = runtime.NewParameterCodec(AppsScheme)

// Apps reads and writes apps/v1 Deployments and ReplicaSets of any tenant
// of one API endpoint.
type Apps struct {
	rest *rest.RESTClient
}

// NewApps returns a client for the endpoint of config, which must not carry
// a tenant prefix itself. httpClient may be nil.
func NewApps(config *rest.Config, httpClient *http.Client) (*Apps, error) {
	rc, err := restClient(config, httpClient, "/apis", appsv1.SchemeGroupVersion, AppsScheme)
	if err != nil {
		return nil, err
	}
	return &Apps{rest: rc}, nil
}

// RESTClient is the underlying client, for requests this type lacks.
func (c *Apps) RESTClient() *rest.RESTClient { return c.rest }

// Request starts a request against tenant t's apps/v1 API (t may be
// tenancy.Wildcard for lists and watches across tenants).
func (c *Apps) Request(verb string, t tenancy.Name) *rest.Request {
	return c.rest.Verb(verb).AbsPath(tenancy.PathPrefix, string(t), "apis", appsv1.GroupName, appsv1.SchemeGroupVersion.Version)
}

// ListReplicaSets lists replica sets of tenant t in namespace ns ("" for all).
func (c *Apps) ListReplicaSets(ctx context.Context, t tenancy.Name, ns string, opts metav1.ListOptions) (*appsv1.ReplicaSetList, error) {
	return into(c.list(ctx, t, ns, "replicasets", opts), &appsv1.ReplicaSetList{})
}

// WatchReplicaSets watches replica sets of tenant t in namespace ns ("" for all).
func (c *Apps) WatchReplicaSets(ctx context.Context, t tenancy.Name, ns string, opts metav1.ListOptions) (watch.Interface, error) {
	return c.watch(ctx, t, ns, "replicasets", opts)
}

// GetReplicaSet reads one replica set.
func (c *Apps) GetReplicaSet(ctx context.Context, t tenancy.Name, ns, name string) (*appsv1.ReplicaSet, error) {
	return into(c.Request(http.MethodGet, t).Namespace(ns).Resource("replicasets").Name(name).Do(ctx), &appsv1.ReplicaSet{})
}

// CreateReplicaSet creates a replica set in tenant t.
func (c *Apps) CreateReplicaSet(ctx context.Context, t tenancy.Name, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	return into(c.Request(http.MethodPost, t).Namespace(rs.Namespace).Resource("replicasets").Body(rs).Do(ctx), &appsv1.ReplicaSet{})
}

// UpdateReplicaSet replaces a replica set (its status excepted).
func (c *Apps) UpdateReplicaSet(ctx context.Context, t tenancy.Name, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	return into(c.Request(http.MethodPut, t).Namespace(rs.Namespace).Resource("replicasets").Name(rs.Name).
		Body(rs).Do(ctx), &appsv1.ReplicaSet{})
}

// UpdateReplicaSetStatus writes a replica set's status through replicasets/status.
func (c *Apps) UpdateReplicaSetStatus(ctx context.Context, t tenancy.Name, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	return into(c.Request(http.MethodPut, t).Namespace(rs.Namespace).Resource("replicasets").Name(rs.Name).
		SubResource("status").Body(rs).Do(ctx), &appsv1.ReplicaSet{})
}

// PatchReplicaSet patches a replica set.
func (c *Apps) PatchReplicaSet(ctx context.Context, t tenancy.Name, ns, name string, pt types.PatchType, data []byte) (*appsv1.ReplicaSet, error) {
	return into(c.Request(http.MethodPatch, t).Namespace(ns).Resource("replicasets").Name(name).
		SetHeader("Content-Type", string(pt)).Body(data).Do(ctx), &appsv1.ReplicaSet{})
}

// DeleteReplicaSet deletes a replica set.
func (c *Apps) DeleteReplicaSet(ctx context.Context, t tenancy.Name, ns, name string, opts metav1.DeleteOptions) error {
	return c.Request(http.MethodDelete, t).Namespace(ns).Resource("replicasets").Name(name).Body(&opts).Do(ctx).Error()
}

// ListDeployments lists deployments of tenant t in namespace ns ("" for all).
func (c *Apps) ListDeployments(ctx context.Context, t tenancy.Name, ns string, opts metav1.ListOptions) (*appsv1.DeploymentList, error) {
	return into(c.list(ctx, t, ns, "deployments", opts), &appsv1.DeploymentList{})
}

// WatchDeployments watches deployments of tenant t in namespace ns ("" for all).
func (c *Apps) WatchDeployments(ctx context.Context, t tenancy.Name, ns string, opts metav1.ListOptions) (watch.Interface, error) {
	return c.watch(ctx, t, ns, "deployments", opts)
}

// GetDeployment reads one deployment.
func (c *Apps) GetDeployment(ctx context.Context, t tenancy.Name, ns, name string) (*appsv1.Deployment, error) {
	return into(c.Request(http.MethodGet, t).Namespace(ns).Resource("deployments").Name(name).Do(ctx), &appsv1.Deployment{})
}

// CreateDeployment creates a deployment in tenant t.
func (c *Apps) CreateDeployment(ctx context.Context, t tenancy.Name, d *appsv1.Deployment) (*appsv1.Deployment, error) {
	return into(c.Request(http.MethodPost, t).Namespace(d.Namespace).Resource("deployments").Body(d).Do(ctx), &appsv1.Deployment{})
}

// UpdateDeployment replaces a deployment (its status excepted).
func (c *Apps) UpdateDeployment(ctx context.Context, t tenancy.Name, d *appsv1.Deployment) (*appsv1.Deployment, error) {
	return into(c.Request(http.MethodPut, t).Namespace(d.Namespace).Resource("deployments").Name(d.Name).
		Body(d).Do(ctx), &appsv1.Deployment{})
}

// UpdateDeploymentStatus writes a deployment's status (and annotations)
// through deployments/status.
func (c *Apps) UpdateDeploymentStatus(ctx context.Context, t tenancy.Name, d *appsv1.Deployment) (*appsv1.Deployment, error) {
	return into(c.Request(http.MethodPut, t).Namespace(d.Namespace).Resource("deployments").Name(d.Name).
		SubResource("status").Body(d).Do(ctx), &appsv1.Deployment{})
}

// DeleteDeployment deletes a deployment.
func (c *Apps) DeleteDeployment(ctx context.Context, t tenancy.Name, ns, name string, opts metav1.DeleteOptions) error {
	return c.Request(http.MethodDelete, t).Namespace(ns).Resource("deployments").Name(name).Body(&opts).Do(ctx).Error()
}

func (c *Apps) list(ctx context.Context, t tenancy.Name, ns, resource string, opts metav1.ListOptions) rest.Result {
	return c.Request(http.MethodGet, t).Namespace(ns).Resource(resource).VersionedParams(&opts, appsParameterCodec).Do(ctx)
}

func (c *Apps) watch(ctx context.Context, t tenancy.Name, ns, resource string, opts metav1.ListOptions) (watch.Interface, error) {
	opts.Watch = true
	return c.Request(http.MethodGet, t).Namespace(ns).Resource(resource).VersionedParams(&opts, appsParameterCodec).Watch(ctx)
}

// into decodes a result into out.
func into[T runtime.Object](r rest.Result, out T) (T, error) {
	err := r.Into(out)
	return out, err
}
