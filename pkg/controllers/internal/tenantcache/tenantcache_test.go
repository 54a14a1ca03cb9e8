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

package tenantcache

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

func configMap(tenant, name, rv string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Namespace: "default", Name: name, ResourceVersion: rv,
		Annotations:   map[string]string{tenancy.Annotation: tenant, "other": "x"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "m"}},
	}}
}

type events []string

func handlers(e *events) Handlers[*corev1.ConfigMap] {
	return Handlers[*corev1.ConfigMap]{
		Add: func(cm *corev1.ConfigMap) { *e = append(*e, "add "+KeyOf(cm).String()) },
		Update: func(old, cur *corev1.ConfigMap) {
			*e = append(*e, "update "+KeyOf(cur).String()+" from "+old.ResourceVersion)
		},
		Delete: func(cm *corev1.ConfigMap) { *e = append(*e, "delete "+KeyOf(cm).String()) },
	}
}

func TestCacheKeepsTenantsApart(t *testing.T) {
	var seen events
	c := New("test", func(cm *corev1.ConfigMap) *corev1.ConfigMap {
		kept := DropManagedFields(cm)
		KeepAnnotations(kept)
		return kept
	}, handlers(&seen))
	s := &store[*corev1.ConfigMap]{c: c}

	acme := configMap("acme", "web", "1")
	handed := acme.DeepCopy()
	if err := s.Replace([]any{acme, configMap("beta", "web", "2")}, "2"); err != nil {
		t.Fatal(err)
	}
	if !apiequality.Semantic.DeepEqual(acme, handed) {
		t.Errorf("trimming changed the object handed to the cache, which a feed hands to others too: %v", acme)
	}
	select {
	case <-c.Synced():
	default:
		t.Error("not synced after a full list")
	}
	a, ok := c.Get(Key{Tenant: "acme", Namespace: "default", Name: "web"})
	b, ok2 := c.Get(Key{Tenant: "beta", Namespace: "default", Name: "web"})
	if !ok || !ok2 || a.ResourceVersion != "1" || b.ResourceVersion != "2" {
		t.Fatalf("same names of two tenants merged: %v %v", a, b)
	}
	if len(a.Annotations) != 1 || a.ManagedFields != nil {
		t.Errorf("not trimmed: %v, %v", a.Annotations, a.ManagedFields)
	}
	if got := c.List("acme", "default"); len(got) != 1 || got[0] != a {
		t.Errorf("list of acme: %v", got)
	}

	if err := s.Update(configMap("acme", "web", "3")); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "no-tenant"}}); err == nil {
		t.Error("an object without a tenant was accepted")
	}
	// A relist without beta's object: it was deleted meanwhile.
	if err := s.Replace([]any{configMap("acme", "web", "3"), configMap("acme", "api", "4")}, "4"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(configMap("acme", "api", "5")); err != nil {
		t.Fatal(err)
	}
	want := events{
		"add acme/default/web", "add beta/default/web",
		"update acme/default/web from 1",
		"add acme/default/api", "delete beta/default/web",
		"delete acme/default/api",
	}
	if !slices.Equal(seen, want) {
		t.Errorf("handlers saw\n%q\nwant\n%q", seen, want)
	}
	if c.Len() != 1 || len(c.List("beta", "default")) != 0 {
		t.Errorf("%d objects left, beta has %d", c.Len(), len(c.List("beta", "default")))
	}
}
