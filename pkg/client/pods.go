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

// Package client is a typed client for the Arcturus superset Pod, which
// client-go's corev1.Pod cannot carry (spec.virtualMachine and
// status.virtualMachineStatus would be dropped). It addresses any tenant,
// or all of them, through the /tenants/<name> path prefix of one endpoint.
package client

import (
	"context"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// Scheme knows the core/v1 kinds as Arcturus serves them.
var Scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := v1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}()

var parameterCodec = runtime.NewParameterCodec(Scheme)

// Core reads and writes core/v1 objects of any tenant of one API endpoint.
type Core struct {
	rest *rest.RESTClient
}

// NewCore returns a client for the endpoint of config, which must not
// carry a tenant prefix itself.
func NewCore(config *rest.Config, httpClient *http.Client) (*Core, error) {
	rc, err := restClient(config, httpClient, "/api", v1.SchemeGroupVersion, Scheme)
	if err != nil {
		return nil, err
	}
	return &Core{rest: rc}, nil
}

// RESTClient is the underlying client, for requests this type lacks.
func (c *Core) RESTClient() *rest.RESTClient { return c.rest }

// Request starts a request against tenant t's core/v1 API (t may be
// tenancy.Wildcard for lists and watches across tenants).
func (c *Core) Request(verb string, t tenancy.Name) *rest.Request {
	return c.rest.Verb(verb).AbsPath(tenancy.PathPrefix, string(t), "api", "v1")
}

// ListPods lists pods of tenant t in namespace ns ("" for all).
func (c *Core) ListPods(ctx context.Context, t tenancy.Name, ns string, opts metav1.ListOptions) (*v1.PodList, error) {
	list := &v1.PodList{}
	err := c.Request(http.MethodGet, t).Namespace(ns).Resource("pods").
		VersionedParams(&opts, parameterCodec).Do(ctx).Into(list)
	return list, err
}

// WatchPods watches pods of tenant t in namespace ns ("" for all).
func (c *Core) WatchPods(ctx context.Context, t tenancy.Name, ns string, opts metav1.ListOptions) (watch.Interface, error) {
	opts.Watch = true
	return c.Request(http.MethodGet, t).Namespace(ns).Resource("pods").
		VersionedParams(&opts, parameterCodec).Watch(ctx)
}

// GetPod reads one pod.
func (c *Core) GetPod(ctx context.Context, t tenancy.Name, ns, name string) (*v1.Pod, error) {
	pod := &v1.Pod{}
	err := c.Request(http.MethodGet, t).Namespace(ns).Resource("pods").Name(name).Do(ctx).Into(pod)
	return pod, err
}

// UpdatePodStatus writes pod's status through pods/status.
func (c *Core) UpdatePodStatus(ctx context.Context, t tenancy.Name, pod *v1.Pod) (*v1.Pod, error) {
	out := &v1.Pod{}
	err := c.Request(http.MethodPut, t).Namespace(pod.Namespace).Resource("pods").Name(pod.Name).
		SubResource("status").Body(pod).Do(ctx).Into(out)
	return out, err
}

// DeletePod deletes a pod.
func (c *Core) DeletePod(ctx context.Context, t tenancy.Name, ns, name string, opts metav1.DeleteOptions) error {
	return c.Request(http.MethodDelete, t).Namespace(ns).Resource("pods").Name(name).Body(&opts).Do(ctx).Error()
}

// CreateEvent records an event in tenant t.
func (c *Core) CreateEvent(ctx context.Context, t tenancy.Name, ev *corev1.Event) error {
	return c.Request(http.MethodPost, t).Namespace(ev.Namespace).Resource("events").Body(ev).Do(ctx).Error()
}

// UpdateEvent replaces an event in tenant t, to count a repeat.
func (c *Core) UpdateEvent(ctx context.Context, t tenancy.Name, ev *corev1.Event) error {
	return c.Request(http.MethodPut, t).Namespace(ev.Namespace).Resource("events").Name(ev.Name).Body(ev).Do(ctx).Error()
}

// Bind assigns a pod to a node through pods/binding.
func (c *Core) Bind(ctx context.Context, t tenancy.Name, binding *corev1.Binding) error {
	return c.Request(http.MethodPost, t).Namespace(binding.Namespace).Resource("pods").Name(binding.Name).
		SubResource("binding").Body(binding).Do(ctx).Error()
}
