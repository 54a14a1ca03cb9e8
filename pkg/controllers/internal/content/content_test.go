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

package content

import (
	"fmt"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"
)

var all = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}

func discoveryLists() []*metav1.APIResourceList {
	return []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "pods", Namespaced: true, Verbs: all},
			{Name: "pods/status", Namespaced: true, Verbs: []string{"get", "patch", "update"}},
			{Name: "pods/binding", Namespaced: true, Verbs: []string{"create"}},
			{Name: "configmaps", Namespaced: true, Verbs: all},
			{Name: "namespaces", Verbs: []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}},
			{Name: "namespaces/finalize", Verbs: []string{"update"}},
			{Name: "nodes", Verbs: all},
			// Listed and deleted one by one.
			{Name: "events", Namespaced: true, Verbs: []string{"delete", "get", "list"}},
			// Neither listable nor deletable.
			{Name: "bindings", Namespaced: true, Verbs: []string{"create"}},
			{Name: "componentstatuses", Verbs: []string{"get", "list"}},
		}},
		{GroupVersion: "rbac.authorization.k8s.io/v1", APIResources: []metav1.APIResource{
			{Name: "clusterroles", Verbs: all},
			{Name: "roles", Namespaced: true, Verbs: all},
		}},
		{GroupVersion: "tenancy.arcturus.io/v1", APIResources: []metav1.APIResource{
			{Name: "tenants", Verbs: all},
		}},
		{GroupVersion: "authorization.k8s.io/v1", APIResources: []metav1.APIResource{
			{Name: "selfsubjectaccessreviews", Verbs: []string{"create"}},
		}},
		nil,
	}
}

func names(rs []Resource) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		s := r.GroupResource().String()
		if r.Namespaced {
			s += " namespaced"
		}
		if !r.DeleteCollection {
			s += " one-by-one"
		}
		out = append(out, s)
	}
	return out
}

func TestSelect(t *testing.T) {
	rs, err := Select(discoveryLists())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"configmaps namespaced",
		"events namespaced one-by-one",
		"namespaces",
		"pods namespaced",
		"clusterroles.rbac.authorization.k8s.io",
		"roles.rbac.authorization.k8s.io namespaced",
	}
	if got := names(rs); !slices.Equal(got, want) {
		t.Errorf("Select() =\n%q\nwant\n%q", got, want)
	}
	if got, want := names(Namespaced(rs, true)), []string{
		"configmaps namespaced", "events namespaced one-by-one", "pods namespaced", "roles.rbac.authorization.k8s.io namespaced",
	}; !slices.Equal(got, want) {
		t.Errorf("Namespaced(true) = %q, want %q", got, want)
	}
	if got, want := names(Namespaced(rs, false)), []string{"namespaces", "clusterroles.rbac.authorization.k8s.io"}; !slices.Equal(got, want) {
		t.Errorf("Namespaced(false) = %q, want %q", got, want)
	}
	if len(rs) != 6 {
		t.Errorf("Namespaced changed its input: %q", names(rs))
	}
}

func TestWatchable(t *testing.T) {
	rs, err := Watchable(discoveryLists())
	if err != nil {
		t.Fatal(err)
	}
	// Events cannot be watched here; nodes and tenants are kept.
	want := []string{
		"configmaps namespaced",
		"namespaces",
		"nodes",
		"pods namespaced",
		"clusterroles.rbac.authorization.k8s.io",
		"roles.rbac.authorization.k8s.io namespaced",
		"tenants.tenancy.arcturus.io",
	}
	if got := names(rs); !slices.Equal(got, want) {
		t.Errorf("Watchable() =\n%q\nwant\n%q", got, want)
	}
}

func TestSelectReportsBadGroupVersion(t *testing.T) {
	lists := append(discoveryLists(), &metav1.APIResourceList{
		GroupVersion: "a/b/c", APIResources: []metav1.APIResource{{Name: "things", Verbs: all}},
	})
	rs, err := Select(lists)
	if err == nil {
		t.Fatal("Select() accepted group version a/b/c")
	}
	if len(rs) != 6 {
		t.Errorf("Select() dropped good resources with the bad: %q", names(rs))
	}
}

func TestCountsString(t *testing.T) {
	c := Counts{
		{Resource: "pods"}: 2,
		{Group: "rbac.authorization.k8s.io", Resource: "roles"}: 1,
		{Resource: "configmaps"}:                                3,
	}
	want := "configmaps has 3 resource instances, pods has 2 resource instances, roles.rbac.authorization.k8s.io has 1 resource instances"
	if got := c.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

var (
	configMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	events     = schema.GroupVersionResource{Version: "v1", Resource: "events"}
)

func object(kind, namespace, name string, terminating bool) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind(kind)
	u.SetNamespace(namespace)
	u.SetName(name)
	if terminating {
		now := metav1.Now()
		u.SetDeletionTimestamp(&now)
	}
	return u
}

func newFakeClient(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		configMaps: "ConfigMapList", events: "EventList",
	}, objs...)
}

func TestDelete(t *testing.T) {
	client := newFakeClient(
		object("Event", "team", "a", false),
		object("Event", "team", "b", true),
		object("Event", "other", "c", false),
	)
	resources := []Resource{
		{GroupVersionResource: configMaps, Namespaced: true, DeleteCollection: true},
		{GroupVersionResource: events, Namespaced: true},
	}
	if err := Delete(t.Context(), client, resources, "team"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range client.Actions() {
		desc := fmt.Sprintf("%s %s in %s", a.GetVerb(), a.GetResource().Resource, a.GetNamespace())
		switch a := a.(type) {
		case clienttesting.DeleteAction:
			desc += " " + a.GetName() + " " + string(*a.GetDeleteOptions().PropagationPolicy)
		}
		got = append(got, desc)
	}
	want := []string{
		"delete-collection configmaps in team",
		"list events in team",
		// b is already going; c is in another namespace.
		"delete events in team a Background",
	}
	if !slices.Equal(got, want) {
		t.Errorf("requests =\n%q\nwant\n%q", got, want)
	}
}

func TestRemaining(t *testing.T) {
	client := newFakeClient(
		object("Event", "team", "a", false),
		object("Event", "team", "b", true),
		object("ConfigMap", "other", "c", false),
	)
	resources := []Resource{
		{GroupVersionResource: configMaps, Namespaced: true, DeleteCollection: true},
		{GroupVersionResource: events, Namespaced: true},
	}
	got, err := Remaining(t.Context(), client, resources, "team")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Counts{events.GroupResource(): 2}); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Remaining(team) = %v, want %v", got, want)
	}
	got, err = Remaining(t.Context(), client, resources, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Counts{events.GroupResource(): 2, configMaps.GroupResource(): 1}); got.String() != want.String() {
		t.Errorf("Remaining(all namespaces) = %v, want %v", got, want)
	}
}
