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
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	quota "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/client-go/tools/cache"

	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// tenantStore is the store of the tenants reflector. It keeps only the
// quotas of tenants that have one, queues the tenants whose usage must be
// counted, and starts and stops the watches their quotas need.
type tenantStore struct {
	c *Controller
}

var _ cache.ReflectorStore = &tenantStore{}

func (s *tenantStore) Add(obj any) error    { return s.put(obj) }
func (s *tenantStore) Update(obj any) error { return s.put(obj) }

func (s *tenantStore) put(obj any) error {
	t, err := typedTenant(obj)
	if err != nil {
		return err
	}
	s.c.setQuota(t.Name, quotaOf(t))
	if needsCount(t) {
		s.c.queue.Add(t.Name)
	}
	return nil
}

func (s *tenantStore) Delete(obj any) error {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return fmt.Errorf("unexpected tenant type %T", obj)
	}
	s.c.setQuota(u.GetName(), nil)
	return nil
}

// Replace takes the full list, at start and after a watch is lost: every
// tenant with a quota is counted, as what happened meanwhile is unknown.
func (s *tenantStore) Replace(list []any, _ string) error {
	seen := map[string]bool{}
	for _, obj := range list {
		t, err := typedTenant(obj)
		if err != nil {
			return err
		}
		seen[t.Name] = true
		q := quotaOf(t)
		s.c.setQuota(t.Name, q)
		if len(q) > 0 || needsCount(t) {
			s.c.queue.Add(t.Name)
		}
	}
	for _, name := range s.c.quotaTenants() {
		if !seen[name] {
			s.c.setQuota(name, nil)
		}
	}
	return nil
}

// Resync is the periodic recount.
func (s *tenantStore) Resync() error {
	for _, name := range s.c.quotaTenants() {
		s.c.queue.Add(name)
	}
	return nil
}

func typedTenant(obj any) (*tenancyv1.Tenant, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("unexpected tenant type %T", obj)
	}
	return fromUnstructured(u)
}

// quotaOf is the quota the controller enforces on t: none for the system
// tenant, which is never limited.
func quotaOf(t *tenancyv1.Tenant) corev1.ResourceList {
	if t.Name == string(tenancy.System) {
		return nil
	}
	return t.Spec.Quota
}

// needsCount tells whether a tenant's status does not match its quota: the
// quota changed (status.hard differs, or a limit has no usage yet), or went
// away and left a status behind. Charges by admission change only
// status.used and do not call for a count.
func needsCount(t *tenancyv1.Tenant) bool {
	q := quotaOf(t)
	if len(q) == 0 {
		return len(t.Status.Used) > 0 || len(t.Status.Hard) > 0
	}
	if !quota.Equals(q, t.Status.Hard) {
		return true
	}
	for name := range q {
		if _, ok := t.Status.Used[name]; !ok {
			return true
		}
	}
	return false
}

// setQuota records the quota of a tenant (nil when it has none or is gone)
// and keeps a watch on each resource some quota counts.
func (c *Controller) setQuota(tenantName string, q corev1.ResourceList) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := quotaResources(c.quotas[tenantName])
	if len(q) == 0 {
		delete(c.quotas, tenantName)
	} else {
		c.quotas[tenantName] = q.DeepCopy()
	}
	now := quotaResources(q)
	for gr := range now {
		if !old[gr] {
			c.watchLocked(gr, +1)
		}
	}
	for gr := range old {
		if !now[gr] {
			c.watchLocked(gr, -1)
		}
	}
}

// quotaTenants are the names of the tenants with a quota.
func (c *Controller) quotaTenants() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.quotas))
	for name := range c.quotas {
		out = append(out, name)
	}
	return out
}

// countsResource tells whether tenant's quota counts the objects of gr.
func (c *Controller) countsResource(tenantName string, gr schema.GroupResource) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	q, ok := c.quotas[tenantName]
	return ok && quotaResources(q)[gr]
}
