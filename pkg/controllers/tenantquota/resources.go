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

package tenantquota

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// resourceMap finds the served version of the resources that count/<...>
// quota names name, through discovery. It asks again for a resource it does
// not know, but no more often than minRefresh, as a quota may name a
// resource the server does not serve.
type resourceMap struct {
	disc       preferredResources
	minRefresh time.Duration

	mu        sync.Mutex
	known     map[schema.GroupResource]schema.GroupVersionResource
	refreshed time.Time
}

// preferredResources is the part of a discovery client resourceMap uses.
type preferredResources interface {
	ServerPreferredResourcesWithContext(ctx context.Context) ([]*metav1.APIResourceList, error)
}

func newResourceMap(disc preferredResources, minRefresh time.Duration) *resourceMap {
	return &resourceMap{disc: disc, minRefresh: minRefresh}
}

// lookup returns the preferred version of gr; ok is false if tenants
// cannot list its objects.
func (m *resourceMap) lookup(ctx context.Context, gr schema.GroupResource) (gvr schema.GroupVersionResource, ok bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if gvr, ok := m.known[gr]; ok {
		return gvr, true, nil
	}
	if m.known != nil && time.Since(m.refreshed) < m.minRefresh {
		return schema.GroupVersionResource{}, false, nil
	}
	lists, err := m.disc.ServerPreferredResourcesWithContext(ctx)
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return schema.GroupVersionResource{}, false, fmt.Errorf("discovering resources: %w", err)
	}
	m.known, m.refreshed = listable(lists), time.Now()
	gvr, ok = m.known[gr]
	return gvr, ok, nil
}

// listable maps the resources of discovery lists that tenants can list
// and watch, leaving out subresources and system-scoped resources, which
// no tenant owns.
func listable(lists []*metav1.APIResourceList) map[schema.GroupResource]schema.GroupVersionResource {
	out := map[schema.GroupResource]schema.GroupVersionResource{}
	for _, list := range lists {
		if list == nil {
			continue
		}
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range list.APIResources {
			gvr := gv.WithResource(r.Name)
			if strings.Contains(r.Name, "/") || tenancy.SystemScopedResources[gvr.GroupResource()] ||
				!slices.Contains(r.Verbs, "list") || !slices.Contains(r.Verbs, "watch") {
				continue
			}
			out[gvr.GroupResource()] = gvr
		}
	}
	return out
}
