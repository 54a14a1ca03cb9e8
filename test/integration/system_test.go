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
	"net/http"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/arcturus-cloud/arcturus/test/framework"
)

// TestSystemAdmin covers what system identities may do across tenants:
// address one tenant through /tenants/<name>, and list and watch every
// tenant at once through /tenants/*, but write nothing through it.
func TestSystemAdmin(t *testing.T) {
	s := framework.StartServer(t)
	admin := s.AdminConfig()
	ctx := context.Background()
	// owners maps the UID of each tenant's config map to its tenant.
	owners := map[types.UID]string{}
	for _, tenant := range []string{acme, beta} {
		s.CreateTenant(t, tenant)
		cm, err := typed(t, framework.ConfigFor(admin, tenant)).CoreV1().ConfigMaps(metav1.NamespaceDefault).
			Create(ctx, configMap(metav1.NamespaceDefault, shared, map[string]string{ownerLabel: tenant}), metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("creating a config map in tenant %s: %v", tenant, err)
		}
		if tenantOf(cm) != tenant {
			t.Fatalf("config map created through /tenants/%s is annotated with tenant %q", tenant, tenantOf(cm))
		}
		owners[cm.UID] = tenant
	}
	wildcard := typed(t, framework.ConfigFor(admin, "*"))

	t.Run("one tenant", func(t *testing.T) {
		cm, err := typed(t, framework.ConfigFor(admin, acme)).CoreV1().ConfigMaps(metav1.NamespaceDefault).Get(ctx, shared, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if tenantOf(cm) != acme || cm.Data[ownerLabel] != acme || owners[cm.UID] != acme {
			t.Errorf("/tenants/%s gave config map %s of tenant %q with data %v", acme, cm.UID, tenantOf(cm), cm.Data)
		}
	})

	t.Run("list across tenants", func(t *testing.T) {
		list, err := wildcard.CoreV1().ConfigMaps(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		found := map[types.UID]bool{}
		for _, cm := range list.Items {
			if tenant, ok := owners[cm.UID]; ok {
				found[cm.UID] = true
				if tenantOf(&cm) != tenant {
					t.Errorf("config map %s of tenant %s is listed with tenant %q", cm.UID, tenant, tenantOf(&cm))
				}
			}
		}
		if len(found) != len(owners) {
			t.Errorf("the list across tenants holds %d of the %d tenants' config maps", len(found), len(owners))
		}
	})

	t.Run("watch across tenants", func(t *testing.T) {
		list, err := wildcard.CoreV1().ConfigMaps(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, watchTimeout)
		defer cancel()
		w, err := wildcard.CoreV1().ConfigMaps(metav1.NamespaceAll).Watch(wctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		want := map[types.UID]string{}
		for _, tenant := range []string{acme, beta} {
			cm, err := typed(t, framework.ConfigFor(admin, tenant)).CoreV1().ConfigMaps(metav1.NamespaceDefault).
				Create(ctx, configMap(metav1.NamespaceDefault, "watched", nil), metav1.CreateOptions{})
			if err != nil {
				t.Fatalf("creating a config map in tenant %s: %v", tenant, err)
			}
			want[cm.UID] = tenant
		}
		for len(want) > 0 {
			e := nextEvent(t, wctx, w)
			cm := e.Object.(*corev1.ConfigMap)
			if tenant, ok := want[cm.UID]; ok && e.Type == watch.Added {
				if tenantOf(cm) != tenant {
					t.Errorf("config map of tenant %s arrived with tenant %q", tenant, tenantOf(cm))
				}
				delete(want, cm.UID)
			}
		}
	})

	t.Run("no writes across tenants", func(t *testing.T) {
		intruder := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "intruder"}}
		_, err := wildcard.CoreV1().Namespaces().Create(ctx, intruder, metav1.CreateOptions{})
		expectCode(t, err, 400, 403, 405)
		role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "intruder"}}
		_, err = wildcard.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{})
		expectCode(t, err, 400, 403, 405)
		_, err = wildcard.CoreV1().Namespaces().Patch(ctx, metav1.NamespaceDefault, types.MergePatchType,
			[]byte(`{"metadata":{"labels":{"intruder":"true"}}}`), metav1.PatchOptions{})
		expectCode(t, err, 400, 403, 405)
		err = wildcard.RbacV1().ClusterRoles().DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "intruder"})
		expectCode(t, err, 400, 403, 405)
		for _, tenant := range []string{acme, beta} {
			c := typed(t, framework.ConfigFor(admin, tenant))
			if _, err := c.CoreV1().Namespaces().Get(ctx, intruder.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("tenant %s: namespace %s: got %v, want not found", tenant, intruder.Name, err)
			}
			if _, err := c.RbacV1().ClusterRoles().Get(ctx, role.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("tenant %s: cluster role %s: got %v, want not found", tenant, role.Name, err)
			}
			ns, err := c.CoreV1().Namespaces().Get(ctx, metav1.NamespaceDefault, metav1.GetOptions{})
			if err != nil {
				t.Fatalf("tenant %s: default namespace: %v", tenant, err)
			}
			if _, ok := ns.Labels["intruder"]; ok {
				t.Errorf("tenant %s: the default namespace was patched across tenants: labels %v", tenant, ns.Labels)
			}
		}
	})

	t.Run("no single namespace across tenants", func(t *testing.T) {
		r := do(t, admin, http.MethodGet, "/tenants/*/api/v1/namespaces/x/configmaps", "", nil)
		expectStatus(t, r, http.StatusBadRequest)
	})
}
