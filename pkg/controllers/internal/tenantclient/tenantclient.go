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

// Package tenantclient builds clients that address one tenant, or every
// tenant, of a region through its /tenants/<name> path prefix.
package tenantclient

import (
	"fmt"
	"net/http"
	"strings"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// Factory makes clients for any tenant. They share one HTTP client, so
// addressing many tenants does not open a connection pool per tenant.
type Factory struct {
	base *rest.Config
	http *http.Client
}

// New returns a factory for the server base addresses. base must be a
// system identity and address no tenant itself (no /tenants/ in its Host).
func New(base *rest.Config) (*Factory, error) {
	if strings.Contains(base.Host, tenancy.PathPrefix) {
		return nil, fmt.Errorf("base client config %q already addresses a tenant", base.Host)
	}
	hc, err := rest.HTTPClientFor(base)
	if err != nil {
		return nil, fmt.Errorf("building HTTP client: %w", err)
	}
	return &Factory{base: rest.CopyConfig(base), http: hc}, nil
}

// Config returns the base config with its server URL pointed at tenant t;
// tenancy.Wildcard addresses every tenant at once.
func (f *Factory) Config(t tenancy.Name) *rest.Config {
	c := rest.CopyConfig(f.base)
	c.Host = strings.TrimSuffix(c.Host, "/") + tenancy.PathPrefix + string(t)
	return c
}

// Kubernetes returns a typed client for tenant t.
func (f *Factory) Kubernetes(t tenancy.Name) (kubernetes.Interface, error) {
	c, err := kubernetes.NewForConfigAndClient(f.Config(t), f.http)
	if err != nil {
		return nil, fmt.Errorf("building client for tenant %q: %w", t, err)
	}
	return c, nil
}

// Dynamic returns a dynamic client for tenant t.
func (f *Factory) Dynamic(t tenancy.Name) (dynamic.Interface, error) {
	c, err := dynamic.NewForConfigAndClient(f.Config(t), f.http)
	if err != nil {
		return nil, fmt.Errorf("building dynamic client for tenant %q: %w", t, err)
	}
	return c, nil
}

// Discovery returns a discovery client for tenant t.
func (f *Factory) Discovery(t tenancy.Name) (*discovery.DiscoveryClient, error) {
	c, err := discovery.NewDiscoveryClientForConfigAndClient(f.Config(t), f.http)
	if err != nil {
		return nil, fmt.Errorf("building discovery client for tenant %q: %w", t, err)
	}
	return c, nil
}

// Metadata returns a client for tenant t that reads and writes objects as
// PartialObjectMetadata, for controllers that need only object metadata of
// resources they know nothing else about.
func (f *Factory) Metadata(t tenancy.Name) (metadata.Interface, error) {
	c, err := metadata.NewForConfigAndClient(f.Config(t), f.http)
	if err != nil {
		return nil, fmt.Errorf("building metadata client for tenant %q: %w", t, err)
	}
	return c, nil
}
