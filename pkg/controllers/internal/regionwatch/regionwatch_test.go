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

package regionwatch

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

func node(name string) *corev1.Node { return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}} }

func TestStore(t *testing.T) {
	var calls []string
	s := NewStore("node",
		func(n *corev1.Node) { calls = append(calls, "update "+n.Name) },
		func(n *corev1.Node) { calls = append(calls, "delete "+n.Name) },
		func(list []*corev1.Node) {
			for _, n := range list {
				calls = append(calls, "replace "+n.Name)
			}
		})
	synced := func() bool {
		select {
		case <-s.Synced():
			return true
		default:
			return false
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Add(node("a")))
	must(s.Update(node("a")))
	// A deletion the watch missed comes wrapped.
	must(s.Delete(cache.DeletedFinalStateUnknown{Key: "b", Obj: node("b")}))
	if synced() {
		t.Error("synced before the first list")
	}
	must(s.Replace([]any{node("c"), node("d")}, "1"))
	must(s.Replace(nil, "2"))
	if !synced() {
		t.Error("not synced after the first list")
	}
	if want := []string{"update a", "update a", "delete b", "replace c", "replace d"}; !slices.Equal(calls, want) {
		t.Errorf("calls %q, want %q", calls, want)
	}

	calls = nil
	if err := s.Update(&corev1.Pod{}); err == nil || err.Error() != "unexpected object *v1.Pod in node store" {
		t.Errorf("updating with a pod: %v", err)
	}
	if err := s.Replace([]any{node("e"), &corev1.Pod{}}, "3"); err == nil {
		t.Error("replacing with a pod succeeded")
	}
	if len(calls) != 0 {
		t.Errorf("objects of another type reached the owner: %q", calls)
	}
}

func TestCheckBase(t *testing.T) {
	for _, c := range []struct {
		base *rest.Config
		ok   bool
	}{
		{nil, false},
		{&rest.Config{Host: "https://127.0.0.1:6443"}, true},
		{&rest.Config{Host: "https://127.0.0.1:6443/tenants/acme"}, false},
	} {
		if err := CheckBase(c.base); (err == nil) != c.ok {
			t.Errorf("CheckBase(%v) = %v", c.base, err)
		}
	}
}
