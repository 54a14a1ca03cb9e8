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
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"

	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
	"github.com/arcturus-cloud/arcturus/test/framework"
)

// TestPersistenceAcrossRestart stops a server and starts another on the
// same data directory: every object, every tenant and the CA survive, and
// are served from etcd and from the watch cache alike. Both tenants hold
// objects of the same names, as every tenant does (its default namespace,
// its bootstrap RBAC), so that a cache keyed without the tenant loses some.
func TestPersistenceAcrossRestart(t *testing.T) {
	for _, watchCache := range []bool{true, false} {
		t.Run(fmt.Sprintf("watchCache=%v", watchCache), func(t *testing.T) { testRestart(t, watchCache) })
	}
}

func testRestart(t *testing.T, watchCache bool) {
	const persisted = "persisted"
	ctx := context.Background()
	dir := framework.TempDir(t, "arcturus-restart-")
	first := framework.StartServer(t, framework.WithDataDir(dir), framework.WithWatchCache(watchCache))
	members := []*member{newMember(t, first, acme), newMember(t, first, beta)}
	system := typed(t, first.AdminConfig()).CoreV1()
	if _, err := system.Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: persisted}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating a namespace in the system tenant: %v", err)
	}
	systemCM, err := system.ConfigMaps(persisted).Create(ctx, configMap(persisted, persisted, map[string]string{"a": "1"}), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating a config map in the system tenant: %v", err)
	}
	first.Stop(t)

	second := framework.StartServer(t, framework.WithDataDir(dir), framework.WithWatchCache(watchCache))
	for _, m := range members {
		// The server is ready once its RBAC cache has synced, so a tenant's
		// admins need not wait for their bindings.
		oldCertificate := rest.CopyConfig(m.config)
		oldCertificate.Host = second.URL()
		views := map[string]*rest.Config{
			"tenant admin":                    second.TenantConfig(m.name, user, "arcturus:tenant-admins"),
			"certificate of the first server": oldCertificate,
			"system admin":                    framework.ConfigFor(second.AdminConfig(), m.name),
		}
		for name, cfg := range views {
			t.Run(m.name+"/"+name, func(t *testing.T) { expectPersisted(t, cfg, m) })
		}
	}
	t.Run("system tenant", func(t *testing.T) {
		admin := second.AdminConfig()
		cm, err := typed(t, admin).CoreV1().ConfigMaps(persisted).Get(ctx, persisted, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if cm.UID != systemCM.UID || cm.Data["a"] != "1" {
			t.Errorf("got config map %s with data %v, want %s with data %v", cm.UID, cm.Data, systemCM.UID, systemCM.Data)
		}
		for _, m := range members {
			tenant, err := framework.Dynamic(t, admin).Resource(tenancyv1.SchemeGroupVersion.WithResource("tenants")).Get(ctx, m.name, metav1.GetOptions{})
			if err != nil {
				t.Fatalf("tenant %s after restart: %v", m.name, err)
			}
			if phase, _, _ := unstructured.NestedString(tenant.Object, "status", "phase"); phase != string(tenancyv1.TenantActive) {
				t.Errorf("tenant %s is %q after restart, want %s", m.name, phase, tenancyv1.TenantActive)
			}
		}
	})
}

// expectPersisted checks that cfg gets and lists the objects m created, the
// same as before the restart, from etcd and from the watch cache.
func expectPersisted(t *testing.T, cfg *rest.Config, m *member) {
	ctx := context.Background()
	client := framework.Dynamic(t, cfg)
	for _, r := range tenantResources {
		want := m.objects[r.gvr.Resource]
		same := func(how string, got *unstructured.Unstructured) {
			t.Helper()
			expectSame(t, how+" "+r.gvr.Resource, got, want, m.name)
		}
		// Resource version "" reads etcd; "0" reads the watch cache.
		got, err := r.one(client).Get(ctx, shared, metav1.GetOptions{})
		if err != nil {
			t.Errorf("get %s: %v", r.gvr.Resource, err)
			continue
		}
		same("get", got)
		if got, err := r.one(client).Get(ctx, shared, metav1.GetOptions{ResourceVersion: "0"}); err != nil {
			t.Errorf("get %s at resource version 0: %v", r.gvr.Resource, err)
		} else {
			same("get at resource version 0", got)
		}
		list, err := r.in(client, metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + shared})
		if err != nil {
			t.Errorf("list %s: %v", r.gvr.Resource, err)
			continue
		}
		if len(list.Items) != 1 {
			t.Errorf("list %s holds %d objects named %s, want 1", r.gvr.Resource, len(list.Items), shared)
			continue
		}
		same("list", &list.Items[0])
	}
}
