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

package rbac

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

const (
	// byTenantNamespace indexes namespaced objects by "<tenant>/<namespace>".
	byTenantNamespace = "tenant-namespace"
	// byTenant indexes tenant-scoped objects by "<tenant>".
	byTenant = "tenant"
)

// ListerWatchers lists and watches each RBAC kind across all tenants.
type ListerWatchers struct {
	Roles               cache.ListerWatcher
	RoleBindings        cache.ListerWatcher
	ClusterRoles        cache.ListerWatcher
	ClusterRoleBindings cache.ListerWatcher
}

// ListerWatchersFor builds ListerWatchers from a clientset. The clientset's
// rest config must address every tenant (a server URL ending in
// "/tenants/*"); otherwise the cache only ever sees one tenant's objects.
func ListerWatchersFor(client kubernetes.Interface) ListerWatchers {
	rest := client.RbacV1().RESTClient()
	lw := func(resource string) cache.ListerWatcher {
		return cache.NewListWatchFromClient(rest, resource, metav1.NamespaceAll, fields.Everything())
	}
	return ListerWatchers{
		Roles:               lw("roles"),
		RoleBindings:        lw("rolebindings"),
		ClusterRoles:        lw("clusterroles"),
		ClusterRoleBindings: lw("clusterrolebindings"),
	}
}

// CachedSource is a RuleSource served from in-memory caches that reflectors
// keep current. Its stores key objects by "<tenant>/<namespace>/<name>":
// shared informers key by namespace/name alone, under which same-named
// objects of two tenants would overwrite each other.
type CachedSource struct {
	roles               *syncedIndexer
	roleBindings        *syncedIndexer
	clusterRoles        *syncedIndexer
	clusterRoleBindings *syncedIndexer
	reflectors          []*cache.Reflector
}

var _ RuleSource = (*CachedSource)(nil)

// NewCachedSource returns a source fed by lws. Call Run to start it and wait
// for HasSynced before trusting its answers.
func NewCachedSource(lws ListerWatchers) *CachedSource {
	s := newStores()
	s.reflectors = []*cache.Reflector{
		newReflector("roles", lws.Roles, &rbacv1.Role{}, s.roles),
		newReflector("rolebindings", lws.RoleBindings, &rbacv1.RoleBinding{}, s.roleBindings),
		newReflector("clusterroles", lws.ClusterRoles, &rbacv1.ClusterRole{}, s.clusterRoles),
		newReflector("clusterrolebindings", lws.ClusterRoleBindings, &rbacv1.ClusterRoleBinding{}, s.clusterRoleBindings),
	}
	return s
}

func newStores() *CachedSource {
	return &CachedSource{
		roles:               newSyncedIndexer(cache.Indexers{}),
		roleBindings:        newSyncedIndexer(cache.Indexers{byTenantNamespace: tenantNamespaceIndex}),
		clusterRoles:        newSyncedIndexer(cache.Indexers{}),
		clusterRoleBindings: newSyncedIndexer(cache.Indexers{byTenant: tenantIndex}),
	}
}

func newReflector(name string, lw cache.ListerWatcher, expectedType any, store cache.ReflectorStore) *cache.Reflector {
	return cache.NewReflectorWithOptions(tenancy.ListWatchOnly(lw), expectedType, store,
		cache.ReflectorOptions{Name: "rbac-" + name})
}

// Run keeps the caches current until ctx is done. It blocks.
func (s *CachedSource) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, r := range s.reflectors {
		wg.Go(func() { r.RunWithContext(ctx) })
	}
	wg.Wait()
}

// HasSynced reports whether every kind has been listed at least once.
func (s *CachedSource) HasSynced() bool {
	return s.roles.hasSynced() && s.roleBindings.hasSynced() &&
		s.clusterRoles.hasSynced() && s.clusterRoleBindings.hasSynced()
}

// GetRole implements RuleSource.
func (s *CachedSource) GetRole(_ context.Context, tenant tenancy.Name, namespace, name string) (*rbacv1.Role, error) {
	return get[rbacv1.Role](s.roles, "roles", tenant, namespace, name)
}

// ListRoleBindings implements RuleSource.
func (s *CachedSource) ListRoleBindings(_ context.Context, tenant tenancy.Name, namespace string) ([]*rbacv1.RoleBinding, error) {
	return list[rbacv1.RoleBinding](s.roleBindings, byTenantNamespace, string(tenant)+"/"+namespace)
}

// GetClusterRole implements RuleSource.
func (s *CachedSource) GetClusterRole(_ context.Context, tenant tenancy.Name, name string) (*rbacv1.ClusterRole, error) {
	return get[rbacv1.ClusterRole](s.clusterRoles, "clusterroles", tenant, "", name)
}

// ListClusterRoleBindings implements RuleSource.
func (s *CachedSource) ListClusterRoleBindings(_ context.Context, tenant tenancy.Name) ([]*rbacv1.ClusterRoleBinding, error) {
	return list[rbacv1.ClusterRoleBinding](s.clusterRoleBindings, byTenant, string(tenant))
}

func get[T any](store cache.Indexer, resource string, tenant tenancy.Name, namespace, name string) (*T, error) {
	key := objectKey(tenant, namespace, name)
	obj, exists, err := store.GetByKey(key)
	if err != nil {
		return nil, fmt.Errorf("reading %s %q from cache: %w", resource, key, err)
	}
	if !exists {
		return nil, apierrors.NewNotFound(rbacv1.Resource(resource), name)
	}
	return obj.(*T), nil
}

func list[T any](store cache.Indexer, index, value string) ([]*T, error) {
	objs, err := store.ByIndex(index, value)
	if err != nil {
		return nil, fmt.Errorf("reading index %s=%q from cache: %w", index, value, err)
	}
	out := make([]*T, 0, len(objs))
	for _, obj := range objs {
		out = append(out, obj.(*T))
	}
	return out, nil
}

// objectKey is unambiguous because tenant and namespace names are DNS labels,
// which cannot contain "/". Tenant-scoped objects have an empty namespace.
func objectKey(tenant tenancy.Name, namespace, name string) string {
	return string(tenant) + "/" + namespace + "/" + name
}

// tenantKey keys an object by its tenant annotation. An object without one
// (the server always sets it) is keyed under the empty tenant, which no
// identity belongs to, so it grants nothing instead of breaking the sync.
func tenantKey(obj any) (string, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return "", fmt.Errorf("keying RBAC object: %w", err)
	}
	return objectKey(tenancy.OfObject(m.GetAnnotations()), m.GetNamespace(), m.GetName()), nil
}

func tenantNamespaceIndex(obj any) ([]string, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, fmt.Errorf("indexing RBAC object: %w", err)
	}
	return []string{string(tenancy.OfObject(m.GetAnnotations())) + "/" + m.GetNamespace()}, nil
}

func tenantIndex(obj any) ([]string, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, fmt.Errorf("indexing RBAC object: %w", err)
	}
	return []string{string(tenancy.OfObject(m.GetAnnotations()))}, nil
}

// syncedIndexer records whether the reflector has replaced its contents
// with a full list at least once; a bare store cannot tell.
type syncedIndexer struct {
	cache.Indexer
	synced atomic.Bool
}

func newSyncedIndexer(indexers cache.Indexers) *syncedIndexer {
	return &syncedIndexer{Indexer: cache.NewIndexer(tenantKey, indexers)}
}

// Add, Update and Replace keep only what authorization reads: a region
// holds the RBAC objects of every tenant.
func (s *syncedIndexer) Add(obj any) error {
	tenancy.TrimForCache(obj)
	return s.Indexer.Add(obj)
}

func (s *syncedIndexer) Update(obj any) error {
	tenancy.TrimForCache(obj)
	return s.Indexer.Update(obj)
}

func (s *syncedIndexer) Replace(items []any, resourceVersion string) error {
	for _, obj := range items {
		tenancy.TrimForCache(obj)
	}
	if err := s.Indexer.Replace(items, resourceVersion); err != nil {
		return fmt.Errorf("replacing cache contents: %w", err)
	}
	s.synced.Store(true)
	return nil
}

func (s *syncedIndexer) hasSynced() bool { return s.synced.Load() }
