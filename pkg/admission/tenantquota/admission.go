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

// Package tenantquota is the admission plugin that enforces a Tenant's
// spec.quota on the tenant as a whole, as Kubernetes' ResourceQuota
// admission enforces a namespace's quota: a new object is let in only if
// the tenant's usage plus what the object takes stays within the quota, and
// that usage is charged to status.used before the object is stored. The
// quota controller (pkg/controllers/tenantquota) recounts the usage from
// the objects, which gives back what deleted objects and finished pods held.
package tenantquota

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/admission"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	quota "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/apiserver/pkg/registry/rest"

	arcv1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// PluginName names the plugin in admission metrics.
const PluginName = "TenantResourceQuota"

const (
	// chargeAttempts bounds the optimistic updates of one charge; each
	// conflict means another server or the controller wrote the tenant
	// between our read and our write.
	chargeAttempts = 5
	// lockStripes serialise charges to the same tenant in this server, so
	// that concurrent creates queue instead of conflicting; tenants share a
	// stripe by hash, which only ever makes them wait a write's time.
	lockStripes = 64
)

// Quota is the admission plugin.
type Quota struct {
	*admission.Handler
	tenants rest.Getter
	quotas  QuotaLookup
	status  rest.Updater
	locks   [lockStripes]sync.Mutex
	now     func() time.Time
}

var _ admission.ValidationInterface = &Quota{}

// QuotaLookup is the quota of a tenant, nil for none or for a tenant that
// does not exist. It may lag the stored Tenant: it only spares the plugin
// reading the tenants that have no quota.
type QuotaLookup func(ctx context.Context, t tenancy.Name) (corev1.ResourceList, error)

// New returns the plugin. tenants reads Tenant objects; status is the
// storage of tenants/status, through which usage is charged.
func New(tenants rest.Getter, status rest.Storage, quotas QuotaLookup) (*Quota, error) {
	updater, ok := status.(rest.Updater)
	if !ok {
		return nil, fmt.Errorf("tenant quota admission: the tenants/status storage %T cannot update", status)
	}
	return &Quota{
		Handler: admission.NewHandler(admission.Create),
		tenants: tenants,
		quotas:  quotas,
		status:  updater,
		now:     time.Now,
	}, nil
}

// Validate checks a create against the quota of its tenant and charges it.
// It is a validating plugin, and belongs last in the chain, so that what it
// charges is for an object every other plugin let through.
func (q *Quota) Validate(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	// Subresources (a binding, a token request) store no new object.
	if a.GetSubresource() != "" {
		return nil
	}
	t, ok := tenancy.From(ctx)
	if !ok || t == "" || t == tenancy.System || t.IsWildcard() {
		return nil
	}
	ctx = tenantsContext(ctx)
	hard, err := q.quotas(ctx, t)
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("looking up the quota of tenant %s: %w", t, err))
	}
	gr := a.GetResource().GroupResource()
	limited := MatchingResources(gr, hard)
	if len(limited) == 0 {
		return nil
	}
	name := quotaName(t)
	if pod, ok := a.GetObject().(*arcv1.Pod); ok && gr == PodsResource {
		if err := PodConstraints(pod, limited); err != nil {
			return admission.NewForbidden(a, fmt.Errorf("failed quota: %s: %w", name, err))
		}
	}
	takes := Usage(gr, a.GetObject(), q.now())
	if len(quota.RemoveZeros(quota.Mask(takes, limited))) == 0 {
		return nil
	}

	lock := &q.locks[stripe(t)]
	lock.Lock()
	defer lock.Unlock()
	for range chargeAttempts {
		tenant, err := q.get(ctx, t)
		if err != nil || tenant == nil {
			return err
		}
		// The quota is what the spec says now, not what the controller last
		// saw, so that lowering it takes effect at once; the usage must be
		// known for every limit that applies.
		limited = MatchingResources(gr, tenant.Spec.Quota)
		delta := quota.RemoveZeros(quota.Mask(takes, limited))
		if len(delta) == 0 {
			return nil
		}
		if missing := unknown(tenant.Status.Used, limited); len(missing) > 0 {
			return admission.NewForbidden(a, fmt.Errorf("status unknown for quota: %s, resources: %s", name, strings.Join(missing, ",")))
		}
		used, err := Charge(name, tenant.Spec.Quota, tenant.Status.Used, delta)
		if err != nil {
			return admission.NewForbidden(a, err)
		}
		if a.IsDryRun() {
			return nil
		}
		charged := tenant.DeepCopy()
		charged.Status.Used = used
		_, _, err = q.status.Update(ctx, t.String(), rest.DefaultUpdatedObjectInfo(charged),
			rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{})
		if err == nil {
			return nil
		}
		if !apierrors.IsConflict(err) {
			return apierrors.NewInternalError(fmt.Errorf("charging quota of tenant %s: %w", t, err))
		}
	}
	return apierrors.NewInternalError(fmt.Errorf("charging quota of tenant %s: it changed %d times in a row", t, chargeAttempts))
}

// get reads the stored Tenant object of t; a missing tenant is nil, left
// to the handler that answers 404 for it.
func (q *Quota) get(ctx context.Context, t tenancy.Name) (*tenancyv1.Tenant, error) {
	obj, err := q.tenants.Get(ctx, t.String(), &metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("looking up tenant %s: %w", t, err))
	}
	tenant, ok := obj.(*tenancyv1.Tenant)
	if !ok {
		return nil, apierrors.NewInternalError(fmt.Errorf("looking up tenant %s: got %T", t, obj))
	}
	return tenant, nil
}

// tenantsContext addresses the system tenant, where Tenant objects live,
// outside of any namespace.
func tenantsContext(ctx context.Context) context.Context {
	return genericapirequest.WithNamespace(tenancy.WithTenant(ctx, tenancy.System), metav1.NamespaceNone)
}

// quotaName names a tenant's quota in messages, where Kubernetes names the
// ResourceQuota object.
func quotaName(t tenancy.Name) string { return "tenant " + t.String() }

// unknown returns the names of limited that used has no value for: the
// quota controller has not counted them yet, and admitting blindly could
// exceed the quota.
func unknown(used corev1.ResourceList, limited []corev1.ResourceName) []string {
	var out []string
	for _, name := range limited {
		if _, ok := used[name]; !ok {
			out = append(out, string(name))
		}
	}
	return out
}

func stripe(t tenancy.Name) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(t))
	return int(h.Sum32() % lockStripes)
}
