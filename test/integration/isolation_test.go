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

package integration

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
	"github.com/arcturus-cloud/arcturus/test/framework"
)

// shared names the namespace both tenants create and every object in the
// matrix: the same names in both tenants.
const shared = "shared"

// ownerLabel labels each matrix object with its tenant, so that a label
// selector can aim at the other tenant's objects.
const ownerLabel = "owner"

// watchTimeout bounds how long a watch may take to deliver an event.
const watchTimeout = 30 * time.Second

// tenantResource is a tenant-scoped resource of the matrix.
type tenantResource struct {
	gvr        schema.GroupVersionResource
	kind       string
	namespaced bool
	// content is what the object of tenant holds besides its type and metadata.
	content func(tenant string) map[string]any
}

var (
	rbacGroup = rbacv1.GroupName
	rules     = []any{map[string]any{"apiGroups": []any{""}, "resources": []any{"configmaps"}, "verbs": []any{"get"}}}
	nobody    = []any{map[string]any{"kind": "User", "apiGroup": rbacGroup, "name": "nobody"}}
)

// tenantResources are every tenant-scoped resource the server serves.
var tenantResources = []tenantResource{
	{gvr: corev1.SchemeGroupVersion.WithResource("namespaces"), kind: "Namespace"},
	{gvr: corev1.SchemeGroupVersion.WithResource("configmaps"), kind: "ConfigMap", namespaced: true,
		content: func(tenant string) map[string]any { return map[string]any{"data": map[string]any{ownerLabel: tenant}} }},
	{gvr: corev1.SchemeGroupVersion.WithResource("secrets"), kind: "Secret", namespaced: true,
		content: func(tenant string) map[string]any {
			return map[string]any{"type": "Opaque", "data": map[string]any{ownerLabel: base64.StdEncoding.EncodeToString([]byte(tenant))}}
		}},
	{gvr: corev1.SchemeGroupVersion.WithResource("serviceaccounts"), kind: "ServiceAccount", namespaced: true},
	{gvr: corev1.SchemeGroupVersion.WithResource("events"), kind: "Event", namespaced: true,
		content: func(tenant string) map[string]any {
			return map[string]any{
				"involvedObject": map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "namespace": shared, "name": shared},
				"reason":         "Isolation", "message": "an event of " + tenant, "type": "Normal",
				"source": map[string]any{"component": "integration-test"},
			}
		}},
	{gvr: corev1.SchemeGroupVersion.WithResource("pods"), kind: "Pod", namespaced: true,
		content: func(string) map[string]any {
			return map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "main", "image": "busybox"}}}}
		}},
	{gvr: rbacv1.SchemeGroupVersion.WithResource("roles"), kind: "Role", namespaced: true,
		content: func(string) map[string]any { return map[string]any{"rules": rules} }},
	{gvr: rbacv1.SchemeGroupVersion.WithResource("rolebindings"), kind: "RoleBinding", namespaced: true,
		content: func(string) map[string]any {
			return map[string]any{"roleRef": map[string]any{"apiGroup": rbacGroup, "kind": "Role", "name": shared}, "subjects": nobody}
		}},
	{gvr: rbacv1.SchemeGroupVersion.WithResource("clusterroles"), kind: "ClusterRole",
		content: func(string) map[string]any { return map[string]any{"rules": rules} }},
	{gvr: rbacv1.SchemeGroupVersion.WithResource("clusterrolebindings"), kind: "ClusterRoleBinding",
		content: func(string) map[string]any {
			return map[string]any{"roleRef": map[string]any{"apiGroup": rbacGroup, "kind": "ClusterRole", "name": shared}, "subjects": nobody}
		}},
	{gvr: coordinationv1.SchemeGroupVersion.WithResource("leases"), kind: "Lease", namespaced: true,
		content: func(tenant string) map[string]any {
			return map[string]any{"spec": map[string]any{"holderIdentity": tenant}}
		}},
}

// object is the matrix object of tenant.
func (r tenantResource) object(tenant string) *unstructured.Unstructured {
	metadata := map[string]any{"name": shared, "labels": map[string]any{ownerLabel: tenant}}
	if r.namespaced {
		metadata["namespace"] = shared
	}
	obj := map[string]any{"apiVersion": r.gvr.GroupVersion().String(), "kind": r.kind, "metadata": metadata}
	if r.content != nil {
		for k, v := range r.content(tenant) {
			obj[k] = v
		}
	}
	return &unstructured.Unstructured{Object: obj}
}

// in is the client of the resource in namespace; "" spans all namespaces.
func (r tenantResource) in(client dynamic.Interface, namespace string) dynamic.ResourceInterface {
	if !r.namespaced {
		return client.Resource(r.gvr)
	}
	return client.Resource(r.gvr).Namespace(namespace)
}

// one is the client that reaches the matrix object of the resource.
func (r tenantResource) one(client dynamic.Interface) dynamic.ResourceInterface {
	return r.in(client, shared)
}

// scopes are the namespaces lists and watches span: the shared namespace
// and all namespaces, or just the tenant for tenant-wide resources.
func (r tenantResource) scopes() []string {
	if r.namespaced {
		return []string{shared, metav1.NamespaceAll}
	}
	return []string{metav1.NamespaceAll}
}

// member is a tenant of the matrix: its admin and the objects it created.
type member struct {
	name    string
	config  *rest.Config
	client  dynamic.Interface
	objects map[string]*unstructured.Unstructured // by resource
}

// view is a way for an actor to address the API.
type view struct {
	name string
	// foreign views address the victim's tenant; the others the actor's own.
	foreign bool
	client  dynamic.Interface
}

// acmeCorp is a tenant whose name starts with another's: its keys start
// with acme's key prefix, /registry/<group>/<resource>/acme.
const acmeCorp = acme + "-corp"

// TestTenantIsolation is the isolation matrix: tenants create the same
// namespace and the same object names in every tenant-scoped resource, then
// each tries every verb on another's objects, through plain paths and
// through explicit /tenants/<name>/ prefixes. It runs with and without the
// watch cache, whose keying of objects by tenant differs from etcd's.
func TestTenantIsolation(t *testing.T) {
	for _, watchCache := range []bool{true, false} {
		t.Run(fmt.Sprintf("watchCache=%v", watchCache), func(t *testing.T) {
			s := framework.StartServer(t, framework.WithWatchCache(watchCache))
			members := map[string]*member{}
			for _, tenant := range []string{acme, beta, acmeCorp} {
				members[tenant] = newMember(t, s, tenant)
			}
			for name, m := range members {
				t.Run("system scope/"+name, func(t *testing.T) { expectSystemScopeForbidden(t, m) })
			}
			for _, d := range []struct{ actor, victim string }{{beta, acme}, {acme, beta}, {acme, acmeCorp}, {acmeCorp, acme}} {
				actor, victim := members[d.actor], members[d.victim]
				t.Run(d.actor+" against "+d.victim, func(t *testing.T) { attack(t, actor, victim) })
			}
		})
	}
}

// newMember creates tenant and, as its admin through plain paths, the
// matrix objects.
func newMember(t *testing.T, s *framework.Server, tenant string) *member {
	t.Helper()
	s.CreateTenant(t, tenant)
	cfg := s.TenantAdmin(t, tenant, user)
	m := &member{name: tenant, config: cfg, client: framework.Dynamic(t, cfg), objects: map[string]*unstructured.Unstructured{}}
	for _, r := range tenantResources {
		created, err := r.one(m.client).Create(context.Background(), r.object(tenant), metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("tenant %s creating %s %s: %v", tenant, r.gvr.Resource, shared, err)
		}
		if got := tenantOf(created); got != tenant {
			t.Fatalf("tenant %s created %s %s annotated with tenant %q", tenant, r.gvr.Resource, shared, got)
		}
		m.objects[r.gvr.Resource] = created
	}
	return m
}

// refresh rereads the matrix objects of m, which its own actions change.
func (m *member) refresh(t *testing.T) {
	t.Helper()
	for _, r := range tenantResources {
		obj, err := r.one(m.client).Get(context.Background(), shared, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("tenant %s reading its %s: %v", m.name, r.gvr.Resource, err)
		}
		m.objects[r.gvr.Resource] = obj
	}
}

// expectSystemScopeForbidden checks that a tenant admin reaches neither the
// system tenant's kinds nor other tenants through /tenants/system or
// /tenants/*.
func expectSystemScopeForbidden(t *testing.T, m *member) {
	ctx := context.Background()
	for _, k := range []struct {
		gvr  schema.GroupVersionResource
		kind string
	}{
		{corev1.SchemeGroupVersion.WithResource("nodes"), "Node"},
		{tenancyv1.SchemeGroupVersion.WithResource("tenants"), "Tenant"},
	} {
		client := m.client.Resource(k.gvr)
		_, err := client.List(ctx, metav1.ListOptions{})
		expectCode(t, err, 403)
		_, err = client.Get(ctx, m.name, metav1.GetOptions{})
		expectCode(t, err, 403)
		obj := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": k.gvr.GroupVersion().String(), "kind": k.kind, "metadata": map[string]any{"name": "intruder-" + m.name},
		}}
		_, err = client.Create(ctx, obj, metav1.CreateOptions{})
		expectCode(t, err, 403)
	}
	configMaps := corev1.SchemeGroupVersion.WithResource("configmaps")
	for _, tenant := range []tenancy.Name{tenancy.Wildcard, tenancy.System} {
		client := framework.Dynamic(t, framework.ConfigFor(m.config, string(tenant))).Resource(configMaps)
		_, err := client.List(ctx, metav1.ListOptions{})
		expectCode(t, err, 403)
		_, err = client.Watch(ctx, metav1.ListOptions{})
		expectCode(t, err, 403)
	}
}

// attack has actor try every verb on every object of victim, then checks
// that the victim's objects are untouched and that watches never carried
// them to the actor.
func attack(t *testing.T, actor, victim *member) {
	victim.refresh(t)
	views := []view{
		{name: "plain paths", client: actor.client},
		{name: "own prefix", client: framework.Dynamic(t, framework.ConfigFor(actor.config, actor.name))},
		{name: "foreign prefix", foreign: true, client: framework.Dynamic(t, framework.ConfigFor(actor.config, victim.name))},
	}
	for _, r := range tenantResources {
		t.Run(r.gvr.Resource, func(t *testing.T) {
			for _, v := range views {
				t.Run(v.name, func(t *testing.T) {
					if v.foreign {
						tryForeign(t, r, v, actor)
					} else {
						tryOwn(t, r, v, actor, victim)
					}
				})
			}
			expectUnchanged(t, r, victim)
		})
	}
	t.Run("watch", func(t *testing.T) {
		for _, r := range tenantResources {
			t.Run(r.gvr.Resource, func(t *testing.T) { watchOwn(t, r, views, actor, victim) })
		}
	})
}

// tryOwn checks that a view of the actor's own tenant reaches the actor's
// objects only, whatever it asks for.
func tryOwn(t *testing.T, r tenantResource, v view, actor, victim *member) {
	ctx := context.Background()
	own, foreign := actor.objects[r.gvr.Resource], victim.objects[r.gvr.Resource]
	client := r.one(v.client)
	expectOwn := func(t *testing.T, obj *unstructured.Unstructured, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("got %v, want the object of %s", err, actor.name)
		}
		if obj.GetUID() != own.GetUID() || tenantOf(obj) != actor.name {
			t.Errorf("got object %s of tenant %q, want %s of tenant %s (the other tenant's is %s)",
				obj.GetUID(), tenantOf(obj), own.GetUID(), actor.name, foreign.GetUID())
		}
	}

	t.Run("get", func(t *testing.T) {
		obj, err := client.Get(ctx, shared, metav1.GetOptions{})
		expectOwn(t, obj, err)
	})
	t.Run("list", func(t *testing.T) {
		for _, ns := range r.scopes() {
			list, err := r.in(v.client, ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatalf("list in %q: %v", ns, err)
			}
			expectOnlyTenant(t, list, actor.name, foreign.GetUID(), own.GetUID())
			list, err = r.in(v.client, ns).List(ctx, metav1.ListOptions{LabelSelector: ownerLabel + "=" + victim.name})
			if err != nil {
				t.Fatalf("list in %q of the other tenant's labels: %v", ns, err)
			}
			expectOnlyTenant(t, list, actor.name, foreign.GetUID())
		}
	})
	t.Run("update", func(t *testing.T) {
		obj, err := client.Get(ctx, shared, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		obj.SetLabels(map[string]string{ownerLabel: actor.name, "updated": "true"})
		updated, err := client.Update(ctx, obj, metav1.UpdateOptions{})
		expectOwn(t, updated, err)
		// The other tenant's UID is a precondition that only its object meets.
		updated.SetUID(foreign.GetUID())
		_, err = client.Update(ctx, updated, metav1.UpdateOptions{})
		expectCode(t, err, 409)
	})
	t.Run("patch", func(t *testing.T) {
		patched, err := client.Patch(ctx, shared, types.MergePatchType, []byte(`{"metadata":{"labels":{"patched":"true"}}}`), metav1.PatchOptions{})
		expectOwn(t, patched, err)
	})
	t.Run("delete", func(t *testing.T) {
		// Deleting on the other tenant's UID only deletes its object.
		foreignUID := foreign.GetUID()
		err := client.Delete(ctx, shared, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &foreignUID}})
		expectCode(t, err, 409)
		// A dry run on its own UID deletes the actor's own object, and keeps it.
		ownUID := own.GetUID()
		if err := client.Delete(ctx, shared, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &ownUID}, DryRun: []string{metav1.DryRunAll},
		}); err != nil {
			t.Errorf("dry-run delete of its own object: %v", err)
		}
		obj, err := client.Get(ctx, shared, metav1.GetOptions{})
		expectOwn(t, obj, err)
	})
	t.Run("deletecollection", func(t *testing.T) {
		// A resource may not serve deletecollection at all (405); if it
		// does, the other tenant's labels select nothing here.
		err := client.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: ownerLabel + "=" + victim.name})
		if err != nil && !apierrors.IsMethodNotSupported(err) {
			t.Fatalf("deletecollection of the other tenant's labels: %v", err)
		}
		obj, err := client.Get(ctx, shared, metav1.GetOptions{})
		expectOwn(t, obj, err)
	})
}

// expectOnlyTenant checks that every item of list belongs to tenant and
// none is foreign, and that the wanted UIDs are there.
func expectOnlyTenant(t *testing.T, list *unstructured.UnstructuredList, tenant string, foreign types.UID, want ...types.UID) {
	t.Helper()
	seen := map[types.UID]bool{}
	for _, item := range list.Items {
		seen[item.GetUID()] = true
		if item.GetUID() == foreign || tenantOf(&item) != tenant {
			t.Errorf("list of tenant %s holds %s/%s (%s) of tenant %q", tenant, item.GetNamespace(), item.GetName(), item.GetUID(), tenantOf(&item))
		}
	}
	for _, uid := range want {
		if !seen[uid] {
			t.Errorf("list of tenant %s misses its own object %s", tenant, uid)
		}
	}
}

// tryForeign checks that every verb through the victim's prefix is refused.
func tryForeign(t *testing.T, r tenantResource, v view, actor *member) {
	ctx := context.Background()
	client := r.one(v.client)
	body := actor.objects[r.gvr.Resource].DeepCopy()
	expectRefused := func(t *testing.T, obj any, err error) {
		t.Helper()
		expectCode(t, err, 403, 404)
		if u, ok := obj.(*unstructured.Unstructured); ok && u != nil {
			t.Errorf("got object %s of tenant %q", u.GetUID(), tenantOf(u))
		}
		if l, ok := obj.(*unstructured.UnstructuredList); ok && l != nil && len(l.Items) > 0 {
			t.Errorf("got %d objects", len(l.Items))
		}
	}
	t.Run("get", func(t *testing.T) {
		obj, err := client.Get(ctx, shared, metav1.GetOptions{})
		expectRefused(t, obj, err)
	})
	t.Run("list", func(t *testing.T) {
		for _, ns := range r.scopes() {
			list, err := r.in(v.client, ns).List(ctx, metav1.ListOptions{})
			expectRefused(t, list, err)
		}
	})
	t.Run("watch", func(t *testing.T) {
		for _, ns := range r.scopes() {
			w, err := r.in(v.client, ns).Watch(ctx, metav1.ListOptions{})
			if err == nil {
				w.Stop()
			}
			expectRefused(t, nil, err)
		}
	})
	t.Run("update", func(t *testing.T) {
		obj, err := client.Update(ctx, body, metav1.UpdateOptions{})
		expectRefused(t, obj, err)
	})
	t.Run("patch", func(t *testing.T) {
		obj, err := client.Patch(ctx, shared, types.MergePatchType, []byte(`{"metadata":{"labels":{"patched":"true"}}}`), metav1.PatchOptions{})
		expectRefused(t, obj, err)
	})
	t.Run("delete", func(t *testing.T) {
		expectRefused(t, nil, client.Delete(ctx, shared, metav1.DeleteOptions{}))
	})
	t.Run("deletecollection", func(t *testing.T) {
		expectRefused(t, nil, client.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}))
	})
}

// expectUnchanged checks, as the victim, that its object of r is the one it
// created, at the same resource version.
func expectUnchanged(t *testing.T, r tenantResource, victim *member) {
	t.Helper()
	want := victim.objects[r.gvr.Resource]
	got, err := r.one(victim.client).Get(context.Background(), shared, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("tenant %s reading its own %s: %v", victim.name, r.gvr.Resource, err)
	}
	expectSame(t, r.gvr.Resource+" of tenant "+victim.name, got, want, victim.name)
}

// expectSame fails unless got is want, unchanged, of tenant.
func expectSame(t *testing.T, what string, got, want *unstructured.Unstructured, tenant string) {
	t.Helper()
	if got.GetUID() != want.GetUID() || got.GetResourceVersion() != want.GetResourceVersion() || tenantOf(got) != tenant {
		t.Errorf("%s: UID %s, resourceVersion %s, tenant %q; want %s, %s, %s",
			what, got.GetUID(), got.GetResourceVersion(), tenantOf(got), want.GetUID(), want.GetResourceVersion(), tenant)
	}
}

// watchOwn opens watches through the actor's own views, has the victim and
// then the actor change their objects, and checks that the watches deliver
// the actor's change and nothing of the victim's before it: events of one
// resource arrive in resource version order.
func watchOwn(t *testing.T, r tenantResource, views []view, actor, victim *member) {
	ctx, cancel := context.WithTimeout(context.Background(), watchTimeout)
	defer cancel()
	type opened struct {
		name string
		w    watch.Interface
	}
	var watches []opened
	for _, v := range views {
		if v.foreign {
			continue
		}
		for _, ns := range r.scopes() {
			list, err := r.in(v.client, ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatalf("%s: list in %q: %v", v.name, ns, err)
			}
			w, err := r.in(v.client, ns).Watch(ctx, metav1.ListOptions{ResourceVersion: list.GetResourceVersion()})
			if err != nil {
				t.Fatalf("%s: watch in %q: %v", v.name, ns, err)
			}
			defer w.Stop()
			watches = append(watches, opened{name: fmt.Sprintf("%s in %q", v.name, ns), w: w})
		}
	}
	touch := func(m *member, label string) *unstructured.Unstructured {
		patch := fmt.Sprintf(`{"metadata":{"labels":{%q:"true"}}}`, label)
		obj, err := r.one(m.client).Patch(ctx, shared, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
		if err != nil {
			t.Fatalf("tenant %s changing its %s: %v", m.name, r.gvr.Resource, err)
		}
		return obj
	}
	touch(victim, "touched")
	sentinel := touch(actor, "sentinel")
	foreign := victim.objects[r.gvr.Resource].GetUID()
	for _, o := range watches {
		t.Run(o.name, func(t *testing.T) { expectEventsUntil(t, ctx, o.w, actor.name, foreign, sentinel.GetResourceVersion()) })
	}
}

// expectEventsUntil reads w until the object at resourceVersion arrives,
// failing on any object that is not tenant's.
func expectEventsUntil(t *testing.T, ctx context.Context, w watch.Interface, tenant string, foreign types.UID, resourceVersion string) {
	t.Helper()
	for {
		e := nextEvent(t, ctx, w)
		obj, err := meta.Accessor(e.Object)
		if err != nil {
			t.Fatalf("%s event of %T: %v", e.Type, e.Object, err)
		}
		if obj.GetUID() == foreign || tenantOf(obj) != tenant {
			t.Errorf("tenant %s was sent a %s event of %s (%s) of tenant %q", tenant, e.Type, obj.GetName(), obj.GetUID(), tenantOf(obj))
		}
		if obj.GetResourceVersion() == resourceVersion {
			return
		}
	}
}
