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
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	quota "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/client-go/rest"

	usage "github.com/arcturus-cloud/arcturus/pkg/admission/tenantquota"
	arcv1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
)

func list(pairs ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i < len(pairs); i += 2 {
		out[corev1.ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
	}
	return out
}

func tenantObject(t *testing.T, name string, hard, statusHard, used corev1.ResourceList) *unstructured.Unstructured {
	t.Helper()
	u, err := toUnstructured(&tenancyv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: tenancyv1.TenantSpec{Quota: hard}, Status: tenancyv1.TenantStatus{Hard: statusHard, Used: used}})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestNeedsCount(t *testing.T) {
	q := list("pods", "3", "count/configmaps", "5")
	cases := []struct {
		name   string
		tenant *unstructured.Unstructured
		want   bool
	}{
		{name: "no quota", tenant: tenantObject(t, "acme", nil, nil, nil)},
		{name: "counted", tenant: tenantObject(t, "acme", q, q, list("pods", "1", "count/configmaps", "0"))},
		{name: "new quota", tenant: tenantObject(t, "acme", q, nil, nil), want: true},
		{name: "quota changed", tenant: tenantObject(t, "acme", q, list("pods", "2", "count/configmaps", "5"),
			list("pods", "1", "count/configmaps", "0")), want: true},
		{name: "limit not counted", tenant: tenantObject(t, "acme", q, q, list("pods", "1")), want: true},
		{name: "quota removed", tenant: tenantObject(t, "acme", nil, q, list("pods", "1")), want: true},
		{name: "system tenant", tenant: tenantObject(t, "system", q, nil, nil)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tenant, err := typedTenant(tc.tenant)
			if err != nil {
				t.Fatal(err)
			}
			if got := needsCount(tenant); got != tc.want {
				t.Errorf("needsCount = %t, want %t", got, tc.want)
			}
		})
	}
}

func newTestController(t *testing.T, base *rest.Config) *Controller {
	t.Helper()
	if base == nil {
		base = &rest.Config{Host: "https://127.0.0.1:1"}
	}
	c, err := New(Config{Base: base})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.queue.ShutDown)
	return c
}

func watchedResources(c *Controller) map[schema.GroupResource]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[schema.GroupResource]int{}
	for gr, r := range c.watched {
		out[gr] = r.tenants
	}
	return out
}

func queued(c *Controller) []string {
	var out []string
	for c.queue.Len() > 0 {
		key, _ := c.queue.Get()
		c.queue.Done(key)
		c.queue.Forget(key)
		out = append(out, key)
	}
	slices.Sort(out)
	return out
}

// The tenants store keeps one watch per resource that some quota counts,
// queues tenants whose quota changed, and queues every tenant with a quota
// at a resync.
func TestTenantStore(t *testing.T) {
	c := newTestController(t, nil)
	s := &tenantStore{c: c}
	pods := usage.PodsResource
	configMaps := schema.GroupResource{Resource: "configmaps"}
	deployments := schema.GroupResource{Group: "apps", Resource: "deployments"}

	acme := list("requests.cpu", "1", "count/configmaps", "5")
	if err := s.Replace([]any{
		tenantObject(t, "acme", acme, acme, list("requests.cpu", "0", "count/configmaps", "0")),
		tenantObject(t, "beta", list("configmaps", "1", "count/deployments.apps", "2"), nil, nil),
		tenantObject(t, "gamma", nil, nil, nil),
		tenantObject(t, "system", list("pods", "1"), nil, nil),
	}, "1"); err != nil {
		t.Fatal(err)
	}
	if got, want := watchedResources(c), map[schema.GroupResource]int{pods: 1, configMaps: 2, deployments: 1}; !equalMaps(got, want) {
		t.Errorf("watched %v, want %v", got, want)
	}
	if got := queued(c); !slices.Equal(got, []string{"acme", "beta"}) {
		t.Errorf("queued %v after the list, want acme and beta", got)
	}

	// A charge changes only status.used: nothing to count.
	if err := s.Update(tenantObject(t, "acme", acme, acme, list("requests.cpu", "500m", "count/configmaps", "1"))); err != nil {
		t.Fatal(err)
	}
	if got := queued(c); len(got) != 0 {
		t.Errorf("queued %v after a charge, want nothing", got)
	}
	// A new quota is counted at once.
	if err := s.Update(tenantObject(t, "beta", list("count/deployments.apps", "2"), nil, nil)); err != nil {
		t.Fatal(err)
	}
	if got := queued(c); !slices.Equal(got, []string{"beta"}) {
		t.Errorf("queued %v after a quota change, want beta", got)
	}
	if got, want := watchedResources(c), map[schema.GroupResource]int{pods: 1, configMaps: 1, deployments: 1}; !equalMaps(got, want) {
		t.Errorf("watched %v, want %v", got, want)
	}
	if !c.countsResource("acme", pods) || c.countsResource("acme", deployments) || c.countsResource("gamma", pods) {
		t.Error("countsResource does not follow the quotas")
	}

	if err := s.Resync(); err != nil {
		t.Fatal(err)
	}
	if got := queued(c); !slices.Equal(got, []string{"acme", "beta"}) {
		t.Errorf("queued %v at a resync, want acme and beta", got)
	}

	if err := s.Delete(tenantObject(t, "acme", acme, nil, nil)); err != nil {
		t.Fatal(err)
	}
	if err := s.Replace([]any{tenantObject(t, "gamma", nil, nil, nil)}, "2"); err != nil {
		t.Fatal(err)
	}
	if got := watchedResources(c); len(got) != 0 {
		t.Errorf("still watching %v with no quota left", got)
	}
}

func equalMaps[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestReleases(t *testing.T) {
	pods := usage.PodsResource
	pod := func(phase corev1.PodPhase) *arcv1.Pod {
		return &arcv1.Pod{Status: arcv1.PodStatus{PodStatus: corev1.PodStatus{Phase: phase}}}
	}
	cases := []struct {
		name string
		gr   schema.GroupResource
		ev   watch.Event
		want bool
	}{
		{name: "pod deleted", gr: pods, ev: watch.Event{Type: watch.Deleted, Object: pod(corev1.PodRunning)}, want: true},
		{name: "pod succeeded", gr: pods, ev: watch.Event{Type: watch.Modified, Object: pod(corev1.PodSucceeded)}, want: true},
		{name: "pod failed", gr: pods, ev: watch.Event{Type: watch.Modified, Object: pod(corev1.PodFailed)}, want: true},
		{name: "pod running", gr: pods, ev: watch.Event{Type: watch.Modified, Object: pod(corev1.PodRunning)}},
		{name: "pod added", gr: pods, ev: watch.Event{Type: watch.Added, Object: pod(corev1.PodPending)}},
		{name: "config map deleted", gr: schema.GroupResource{Resource: "configmaps"},
			ev: watch.Event{Type: watch.Deleted, Object: &metav1.PartialObjectMetadata{}}, want: true},
		{name: "config map changed", gr: schema.GroupResource{Resource: "configmaps"},
			ev: watch.Event{Type: watch.Modified, Object: &metav1.PartialObjectMetadata{}}},
	}
	for _, tc := range cases {
		if got := releases(tc.gr, tc.ev); got != tc.want {
			t.Errorf("%s: releases = %t, want %t", tc.name, got, tc.want)
		}
	}
}

func TestListable(t *testing.T) {
	got := listable([]*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "pods", Verbs: []string{"list", "watch", "create"}},
			{Name: "pods/status", Verbs: []string{"get"}},
			{Name: "nodes", Verbs: []string{"list", "watch"}},
			{Name: "bindings", Verbs: []string{"create"}},
		}},
		{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{{Name: "deployments", Verbs: []string{"list", "watch"}}}},
	})
	want := map[schema.GroupResource]schema.GroupVersionResource{
		{Resource: "pods"}:                       {Version: "v1", Resource: "pods"},
		{Group: "apps", Resource: "deployments"}: {Group: "apps", Version: "v1", Resource: "deployments"},
	}
	if !equalMaps(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// fakeDiscovery serves the preferred resources resourceMap asks for.
type fakeDiscovery struct{ calls int }

func (f *fakeDiscovery) ServerPreferredResourcesWithContext(context.Context) ([]*metav1.APIResourceList, error) {
	f.calls++
	return []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "pods", Namespaced: true, Verbs: []string{"list", "watch"}},
			{Name: "configmaps", Namespaced: true, Verbs: []string{"list", "watch"}},
			{Name: "secrets", Namespaced: true, Verbs: []string{"list", "watch"}},
		}},
	}, nil
}

// apiServer answers the lists a recount makes of tenant acme: pods two to
// a page, config maps one to a page with the remaining count, secrets one
// to a page without it.
func apiServer(t *testing.T, pods []arcv1.Pod, configMaps, secrets int) *httptest.Server {
	t.Helper()
	page := func(r *http.Request) int {
		n, _ := strconv.Atoi(r.URL.Query().Get("continue"))
		return n
	}
	reply := func(w http.ResponseWriter, obj any) {
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(obj); err != nil {
			t.Error(err)
		}
	}
	metadataList := func(w http.ResponseWriter, r *http.Request, total int, remaining bool) {
		from := page(r)
		list := &metav1.PartialObjectMetadataList{TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "PartialObjectMetadataList"}}
		if from < total {
			list.Items = []metav1.PartialObjectMetadata{{ObjectMeta: metav1.ObjectMeta{Name: strconv.Itoa(from)}}}
			if from+1 < total {
				list.Continue = strconv.Itoa(from + 1)
				if remaining {
					rest := int64(total - from - 1)
					list.RemainingItemCount = &rest
				}
			}
		}
		reply(w, list)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/tenants/acme/api/v1/pods", func(w http.ResponseWriter, r *http.Request) {
		from := page(r)
		list := &arcv1.PodList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PodList"}}
		list.Items = pods[from:min(from+2, len(pods))]
		if from+2 < len(pods) {
			list.Continue = strconv.Itoa(from + 2)
		}
		reply(w, list)
	})
	mux.HandleFunc("/tenants/acme/api/v1/configmaps", func(w http.ResponseWriter, r *http.Request) {
		metadataList(w, r, configMaps, true)
	})
	mux.HandleFunc("/tenants/acme/api/v1/secrets", func(w http.ResponseWriter, r *http.Request) {
		metadataList(w, r, secrets, false)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s", r.URL)
		http.NotFound(w, r)
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func pod(name, cpu string, phase corev1.PodPhase) arcv1.Pod {
	return arcv1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: arcv1.PodSpec{PodSpec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c",
			Resources: corev1.ResourceRequirements{Requests: list("cpu", cpu)}}}}},
		Status: arcv1.PodStatus{PodStatus: corev1.PodStatus{Phase: phase}},
	}
}

func TestUsage(t *testing.T) {
	pods := []arcv1.Pod{
		pod("a", "100m", corev1.PodRunning), pod("b", "250m", corev1.PodPending), pod("c", "1", corev1.PodSucceeded),
		pod("d", "500m", corev1.PodFailed), pod("e", "50m", corev1.PodRunning),
	}
	s := apiServer(t, pods, 7, 3)
	c := newTestController(t, &rest.Config{Host: s.URL})
	disc := &fakeDiscovery{}
	c.resources = newResourceMap(disc, time.Hour)

	hard := list("pods", "10", "count/pods", "10", "requests.cpu", "2", "limits.cpu", "2", "count/configmaps", "10",
		"configmaps", "10", "secrets", "5", "count/deployments.apps", "3", "services.loadbalancers", "1")
	got, err := c.usage(context.Background(), "acme", hard)
	if err != nil {
		t.Fatal(err)
	}
	// Finished pods count as objects only; limits nobody gave and
	// resources nobody serves are zero, which says they were counted.
	want := list("pods", "3", "count/pods", "5", "requests.cpu", "400m", "limits.cpu", "0", "count/configmaps", "7",
		"configmaps", "7", "secrets", "3", "count/deployments.apps", "0", "services.loadbalancers", "0")
	if !quota.Equals(got, want) {
		t.Errorf("usage %s, want %s", usage.PrettyPrint(got), usage.PrettyPrint(want))
	}
	// Discovery is asked again for the unknown resource, but not at every
	// recount.
	if _, err := c.usage(context.Background(), "acme", hard); err != nil {
		t.Fatal(err)
	}
	if disc.calls != 1 {
		t.Errorf("discovery asked %d times, want once", disc.calls)
	}
}
