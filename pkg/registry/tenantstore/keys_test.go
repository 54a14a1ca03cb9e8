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

package tenantstore

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

func TestKeyLayout(t *testing.T) {
	pods := keyLayout{prefix: ResourcePrefix(schema.GroupResource{Resource: "pods"}), namespaced: true}
	roles := keyLayout{prefix: ResourcePrefix(schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "clusterroles"})}
	nodes := keyLayout{prefix: ResourcePrefix(schema.GroupResource{Resource: "nodes"}), systemOnly: true}

	acme := genericapirequest.WithNamespace(tenancy.WithTenant(context.Background(), "acme"), "web")
	all := tenancy.WithTenant(context.Background(), tenancy.Wildcard)

	for _, tc := range []struct {
		name, got, want string
	}{
		{"namespaced root", pods.root(acme), "/core/pods/acme/web"},
		{"namespaced root across tenants", pods.root(all), "/core/pods"},
		{"tenant-wide root", roles.root(acme), "/rbac.authorization.k8s.io/clusterroles/acme"},
		{"system-scoped root ignores the tenant", nodes.root(acme), "/core/nodes/system"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}

	key, err := pods.key(acme, "p1")
	if err != nil || key != "/core/pods/acme/web/p1" {
		t.Errorf("pod key = %q, %v", key, err)
	}
	if _, err := pods.key(all, "p1"); err == nil {
		t.Error("a key across all tenants was accepted")
	}
	if _, err := pods.key(tenancy.WithTenant(context.Background(), "acme"), "p1"); err == nil {
		t.Error("a namespaced key without namespace was accepted")
	}
	if _, err := pods.key(acme, "../x"); err == nil {
		t.Error("an invalid name was accepted")
	}

	// The watch cache keys an object by its annotation, to the same key.
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p1", Namespace: "web",
		Annotations: map[string]string{tenancy.Annotation: "acme"}}}
	if got, err := pods.cacheKey(pod); err != nil || got != key {
		t.Errorf("cache key = %q, %v; want %q", got, err, key)
	}
	pod.Annotations = nil
	if _, err := pods.cacheKey(pod); err == nil {
		t.Error("an object without tenant got a cache key")
	}
}
