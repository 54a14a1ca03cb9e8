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
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
	"github.com/arcturus-cloud/arcturus/test/framework"
)

// TestTenantAnnotation checks that arcturus.io/tenant is the server's: no
// client sets it to another tenant or changes it, and a client that leaves
// it out keeps it.
func TestTenantAnnotation(t *testing.T) {
	s := framework.StartServer(t)
	s.CreateTenant(t, acme)
	ctx := context.Background()
	tenantUser := typed(t, s.TenantAdmin(t, acme, user)).CoreV1().ConfigMaps(metav1.NamespaceDefault)
	systemAdmin := typed(t, framework.ConfigFor(s.AdminConfig(), acme)).CoreV1().ConfigMaps(metav1.NamespaceDefault)
	annotated := func(name, tenant string) *corev1.ConfigMap {
		cm := configMap(metav1.NamespaceDefault, name, nil)
		cm.Annotations = map[string]string{tenancy.Annotation: tenant}
		return cm
	}

	t.Run("create with another tenant", func(t *testing.T) {
		for _, c := range []struct {
			who    string
			client typedcorev1.ConfigMapInterface
			tenant string
		}{
			{"tenant user", tenantUser, beta},
			{"tenant user", tenantUser, string(tenancy.System)},
			{"system admin", systemAdmin, beta},
			{"system admin", systemAdmin, string(tenancy.System)},
		} {
			_, err := c.client.Create(ctx, annotated("foreign-"+c.tenant, c.tenant), metav1.CreateOptions{})
			expectCode(t, err, 422)
			if _, err := tenantUser.Get(ctx, "foreign-"+c.tenant, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("%s created a config map annotated with tenant %s: got %v, want not found", c.who, c.tenant, err)
			}
		}
	})

	t.Run("create with its own tenant", func(t *testing.T) {
		cm, err := tenantUser.Create(ctx, annotated("own", acme), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if tenantOf(cm) != acme {
			t.Errorf("got tenant %q, want %s", tenantOf(cm), acme)
		}
	})

	cm, err := tenantUser.Create(ctx, configMap(metav1.NamespaceDefault, "stamped", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tenantOf(cm) != acme {
		t.Fatalf("created config map has tenant %q, want %s", tenantOf(cm), acme)
	}
	expectKept := func(t *testing.T, resourceVersion string) {
		t.Helper()
		got, err := tenantUser.Get(ctx, cm.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if tenantOf(got) != acme {
			t.Errorf("stored tenant is %q, want %s", tenantOf(got), acme)
		}
		if resourceVersion != "" && got.ResourceVersion != resourceVersion {
			t.Errorf("a refused change was stored: resource version %s, want %s", got.ResourceVersion, resourceVersion)
		}
	}

	t.Run("update changing it", func(t *testing.T) {
		changed := cm.DeepCopy()
		changed.Annotations[tenancy.Annotation] = beta
		_, err := tenantUser.Update(ctx, changed, metav1.UpdateOptions{})
		expectCode(t, err, 422)
		_, err = tenantUser.Patch(ctx, cm.Name, types.MergePatchType,
			[]byte(`{"metadata":{"annotations":{"arcturus.io/tenant":"beta"}}}`), metav1.PatchOptions{})
		expectCode(t, err, 422)
		expectKept(t, cm.ResourceVersion)
	})

	t.Run("update omitting it", func(t *testing.T) {
		omitted := cm.DeepCopy()
		omitted.Annotations = nil
		omitted.Data = map[string]string{"updated": "true"}
		updated, err := tenantUser.Update(ctx, omitted, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if tenantOf(updated) != acme {
			t.Errorf("update without the annotation answered tenant %q, want %s", tenantOf(updated), acme)
		}
		expectKept(t, "")
		patched, err := tenantUser.Patch(ctx, cm.Name, types.MergePatchType,
			[]byte(`{"metadata":{"annotations":{"arcturus.io/tenant":null}}}`), metav1.PatchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if tenantOf(patched) != acme {
			t.Errorf("patch removing the annotation answered tenant %q, want %s", tenantOf(patched), acme)
		}
		expectKept(t, "")
	})
}
