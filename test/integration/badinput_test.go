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
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/arcturus-cloud/arcturus/test/framework"
)

// bodyLimit is the largest request body the server reads.
const bodyLimit = 3 << 20 / 2

// TestBadInput sends requests the server must refuse, each with the right
// code in a metav1.Status, without storing anything or failing afterwards.
func TestBadInput(t *testing.T) {
	ctx := context.Background()
	s := framework.StartServer(t)
	s.CreateTenant(t, acme)
	cfg := s.TenantAdmin(t, acme, user)
	client := typed(t, cfg)

	// A namespace held in Terminating by a finalizer of the test's own.
	doomed := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "doomed", Finalizers: []string{"integration.arcturus.io/hold"}}}
	if _, err := client.CoreV1().Namespaces().Create(ctx, doomed, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := client.CoreV1().Namespaces().Delete(ctx, doomed.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, watchTimeout, "namespace doomed is terminating", func(ctx context.Context) error {
		ns, err := client.CoreV1().Namespaces().Get(ctx, doomed.Name, metav1.GetOptions{})
		if err == nil && ns.Status.Phase != corev1.NamespaceTerminating {
			return fmt.Errorf("namespace %s is %s", ns.Name, ns.Status.Phase)
		}
		return err
	})

	// A config map at a resource version that an update has since replaced.
	stale, err := client.CoreV1().ConfigMaps(metav1.NamespaceDefault).Create(ctx, configMap(metav1.NamespaceDefault, "versioned", map[string]string{"v": "1"}), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	current := stale.DeepCopy()
	current.Data["v"] = "2"
	if _, err := client.CoreV1().ConfigMaps(metav1.NamespaceDefault).Update(ctx, current, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	stale.Data["v"] = "stale"

	const (
		configMaps = "/api/v1/namespaces/default/configmaps"
		pods       = "/api/v1/namespaces/default/pods"
	)
	cases := []struct {
		name         string
		as           *rest.Config
		method, path string
		body         []byte
		code         int
		// field, when set, is the field the Status must name as a cause.
		field string
	}{
		{name: "malformed JSON", path: configMaps, body: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"malformed"`), code: 400},
		{name: "unknown kind", path: configMaps, body: []byte(`{"apiVersion":"v1","kind":"Unicorn","metadata":{"name":"unicorn"}}`), code: 400},
		{name: "unknown version", path: configMaps, body: []byte(`{"apiVersion":"v9","kind":"ConfigMap","metadata":{"name":"v9"}}`), code: 400},
		{name: "kind of another resource", path: configMaps, body: []byte(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"secret"}}`), code: 400},
		{name: "invalid name", path: configMaps, body: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Not_Valid"}}`), code: 422, field: "metadata.name"},
		{name: "body over 1.5 MiB", path: configMaps, body: largeConfigMap(bodyLimit + 1<<10), code: 413},
		{name: "stale resource version", method: http.MethodPut, path: configMaps + "/versioned", body: encode(t, stale), code: 409},
		{name: "missing namespace", path: "/api/v1/namespaces/nosuch/configmaps", body: encode(t, configMap("nosuch", "lost", nil)), code: 404},
		{name: "terminating namespace", path: "/api/v1/namespaces/doomed/configmaps", body: encode(t, configMap("doomed", "late", nil)), code: 403},
		{name: "unknown tenant", as: s.AdminConfig(), method: http.MethodGet, path: "/tenants/nosuch/api/v1/namespaces", code: 404},
		{name: "pod with containers and a VM", path: pods, body: []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"both"},
			"spec":{"containers":[{"name":"main","image":"busybox"}],"virtualMachine":{"image":"example.com/disk:1"}}}`), code: 422, field: "spec.virtualMachine"},
		{name: "pod with neither containers nor a VM", path: pods, body: []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"neither"},"spec":{}}`), code: 422, field: "spec.containers"},
	}
	// Valid requests like the invalid ones pass, so that the codes above
	// are for what the cases get wrong.
	for _, valid := range []string{
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"valid"}}`,
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"vm"},"spec":{"virtualMachine":{"image":"example.com/disk:1"}}}`,
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"containers"},"spec":{"containers":[{"name":"main","image":"busybox"}]}}`,
	} {
		path := configMaps
		if strings.Contains(valid, `"Pod"`) {
			path = pods
		}
		if r := do(t, cfg, http.MethodPost, path, runtime.ContentTypeJSON, []byte(valid)); r.code != http.StatusCreated {
			t.Fatalf("valid request %s: got %d: %s", valid, r.code, r.body)
		}
	}
	before := storedObjects(t, client)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			as, method := cfg, http.MethodPost
			if c.as != nil {
				as = c.as
			}
			if c.method != "" {
				method = c.method
			}
			status := expectStatus(t, do(t, as, method, c.path, runtime.ContentTypeJSON, c.body), c.code)
			if c.field != "" && !namesField(status, c.field) {
				t.Errorf("the Status names no cause in %s: %+v", c.field, status.Details)
			}
			if after := storedObjects(t, client); !maps.Equal(before, after) {
				t.Errorf("the refused request changed what is stored: %v, was %v", after, before)
			}
			expectReady(t, s)
		})
	}
}

// namesField reports whether status has a cause in field.
func namesField(status metav1.Status, field string) bool {
	if status.Details == nil {
		return false
	}
	for _, c := range status.Details.Causes {
		if strings.HasPrefix(c.Field, field) {
			return true
		}
	}
	return false
}

// storedObjects maps the UID of every config map and pod of a tenant to
// its resource version.
func storedObjects(t *testing.T, client kubernetes.Interface) map[types.UID]string {
	t.Helper()
	ctx := context.Background()
	objects := map[types.UID]string{}
	configMaps, err := client.CoreV1().ConfigMaps(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing config maps: %v", err)
	}
	for _, cm := range configMaps.Items {
		objects[cm.UID] = cm.ResourceVersion
	}
	pods, err := client.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing pods: %v", err)
	}
	for _, pod := range pods.Items {
		objects[pod.UID] = pod.ResourceVersion
	}
	return objects
}

// largeConfigMap is a config map manifest of at least size bytes.
func largeConfigMap(size int) []byte {
	return []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"large"},"data":{"big":"` + strings.Repeat("x", size) + `"}}`)
}

// encode is obj as JSON, with its type.
func encode(t *testing.T, obj *corev1.ConfigMap) []byte {
	t.Helper()
	obj = obj.DeepCopy()
	obj.APIVersion, obj.Kind = "v1", "ConfigMap"
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
