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

package rbac

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// fakeListerWatcher serves a fixed list and then the events sent to its
// FakeWatcher.
type fakeListerWatcher struct {
	t       *testing.T
	list    runtime.Object
	watcher *watch.FakeWatcher
	watches atomic.Int32
}

func newFakeListerWatcher(t *testing.T, list runtime.Object) *fakeListerWatcher {
	return &fakeListerWatcher{t: t, list: list, watcher: watch.NewFake()}
}

func (f *fakeListerWatcher) listWatch() *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc: func(context.Context, metav1.ListOptions) (runtime.Object, error) {
			return f.list.DeepCopyObject(), nil
		},
		WatchFuncWithContext: func(_ context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			if opts.SendInitialEvents != nil {
				f.t.Errorf("reflector asked for a watch-list (sendInitialEvents=%v); it must list", *opts.SendInitialEvents)
			}
			// Later watches (there should be none) get a watcher that stays
			// silent, so that a restart cannot replay the test's events.
			if f.watches.Add(1) > 1 {
				return watch.NewFake(), nil
			}
			return f.watcher, nil
		},
	}
}

func withRV[T metav1.Object](obj T, rv string) T {
	obj.SetResourceVersion(rv)
	return obj
}

// runSource starts s and stops it when the test ends.
func runSource(t *testing.T, s *CachedSource) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { s.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	if err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return s.HasSynced(), nil
	}); err != nil {
		t.Fatalf("source did not sync: %v", err)
	}
}

// eventually polls cond until it holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return cond(), nil
	}); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func TestCachedSource(t *testing.T) {
	ctx := context.Background()
	podsRule := rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}
	secretsRule := rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"secrets"}}
	nodesRule := rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"nodes"}}

	roles := newFakeListerWatcher(t, &rbacv1.RoleList{
		ListMeta: metav1.ListMeta{ResourceVersion: "10"},
		Items: []rbacv1.Role{
			*withRV(role(acme, "ns1", "editor", podsRule), "1"),
			*withRV(role(globex, "ns1", "editor", secretsRule), "2"),
		},
	})
	roleBindings := newFakeListerWatcher(t, &rbacv1.RoleBindingList{
		ListMeta: metav1.ListMeta{ResourceVersion: "10"},
		Items: []rbacv1.RoleBinding{
			*withRV(roleBinding(acme, "ns1", "editors", roleRef("editor"), userSubject("alice")), "3"),
			*withRV(roleBinding(globex, "ns1", "editors", roleRef("editor"), userSubject("alice")), "4"),
			*withRV(roleBinding(acme, "ns2", "editors", roleRef("editor"), userSubject("alice")), "5"),
		},
	})
	clusterRoles := newFakeListerWatcher(t, &rbacv1.ClusterRoleList{
		ListMeta: metav1.ListMeta{ResourceVersion: "10"},
		Items: []rbacv1.ClusterRole{
			*withRV(clusterRole(acme, "reader", podsRule), "6"),
			*withRV(clusterRole(globex, "reader", secretsRule), "7"),
			// Without a tenant annotation: kept, but out of every tenant's reach.
			*withRV(clusterRole("", "reader", nodesRule), "8"),
		},
	})
	clusterRoleBindings := newFakeListerWatcher(t, &rbacv1.ClusterRoleBindingList{
		ListMeta: metav1.ListMeta{ResourceVersion: "10"},
		Items: []rbacv1.ClusterRoleBinding{
			*withRV(clusterRoleBinding(acme, "readers", clusterRoleRef("reader"), groupSubject("devs")), "9"),
			*withRV(clusterRoleBinding(globex, "readers", clusterRoleRef("reader"), groupSubject("devs")), "10"),
		},
	})

	s := NewCachedSource(ListerWatchers{
		Roles:               roles.listWatch(),
		RoleBindings:        roleBindings.listWatch(),
		ClusterRoles:        clusterRoles.listWatch(),
		ClusterRoleBindings: clusterRoleBindings.listWatch(),
	})
	if s.HasSynced() {
		t.Fatal("HasSynced() = true before Run")
	}
	runSource(t, s)

	// Same names in two tenants stay apart.
	clusterRuleOf := func(tenant tenancy.Name, name string) []rbacv1.PolicyRule {
		t.Helper()
		r, err := s.GetClusterRole(ctx, tenant, name)
		if err != nil {
			t.Fatalf("GetClusterRole(%s, %s) error = %v", tenant, name, err)
		}
		return r.Rules
	}
	if got := clusterRuleOf(acme, "reader"); !slices.EqualFunc(got, []rbacv1.PolicyRule{podsRule}, policyRuleEqual) {
		t.Errorf("acme reader rules = %v, want %v", got, podsRule)
	}
	if got := clusterRuleOf(globex, "reader"); !slices.EqualFunc(got, []rbacv1.PolicyRule{secretsRule}, policyRuleEqual) {
		t.Errorf("globex reader rules = %v, want %v", got, secretsRule)
	}
	for _, tenant := range []tenancy.Name{tenancy.System, "initech"} {
		if _, err := s.GetClusterRole(ctx, tenant, "reader"); !apierrors.IsNotFound(err) {
			t.Errorf("GetClusterRole(%s, reader) error = %v, want NotFound", tenant, err)
		}
	}
	r, err := s.GetRole(ctx, globex, "ns1", "editor")
	if err != nil || !slices.EqualFunc(r.Rules, []rbacv1.PolicyRule{secretsRule}, policyRuleEqual) {
		t.Errorf("GetRole(globex, ns1, editor) = %v, %v; want the secrets rule", r, err)
	}
	if _, err := s.GetRole(ctx, acme, "ns2", "editor"); !apierrors.IsNotFound(err) {
		t.Errorf("GetRole(acme, ns2, editor) error = %v, want NotFound", err)
	}
	assertBindings(t, s, acme, "ns1", "acme/ns1/editors")
	assertBindings(t, s, globex, "ns1", "globex/ns1/editors")
	assertBindings(t, s, acme, "ns2", "acme/ns2/editors")
	assertBindings(t, s, globex, "ns2")
	assertClusterBindings(t, s, acme, "acme//readers")
	assertClusterBindings(t, s, globex, "globex//readers")
	assertClusterBindings(t, s, tenancy.System)

	// An update reaches only its own tenant's object.
	clusterRoles.watcher.Modify(withRV(clusterRole(acme, "reader", podsRule, secretsRule), "11"))
	eventually(t, "acme reader updated", func() bool {
		r, err := s.GetClusterRole(ctx, acme, "reader")
		return err == nil && len(r.Rules) == 2
	})
	if got := clusterRuleOf(globex, "reader"); !slices.EqualFunc(got, []rbacv1.PolicyRule{secretsRule}, policyRuleEqual) {
		t.Errorf("globex reader rules after acme's update = %v, want %v", got, secretsRule)
	}

	// So does a delete.
	roleBindings.watcher.Delete(withRV(roleBinding(acme, "ns1", "editors", roleRef("editor"), userSubject("alice")), "12"))
	eventually(t, "acme binding deleted", func() bool {
		bs, err := s.ListRoleBindings(ctx, acme, "ns1")
		return err == nil && len(bs) == 0
	})
	assertBindings(t, s, globex, "ns1", "globex/ns1/editors")

	// And an addition.
	clusterRoleBindings.watcher.Add(withRV(clusterRoleBinding(globex, "admins", clusterRoleRef("cluster-admin"), userSubject("bob")), "13"))
	eventually(t, "globex binding added", func() bool {
		bs, err := s.ListClusterRoleBindings(ctx, globex)
		return err == nil && len(bs) == 2
	})
	assertClusterBindings(t, s, acme, "acme//readers")

	// The authorizer sees the same state.
	a := New(s)
	alice := identity(acme, "alice", "devs")
	if got, reason, _ := a.Authorize(ctx, resourceRequest(alice, "get", "ns1", "", "secrets", "", "s")); got != authorizer.DecisionAllow {
		t.Errorf("after update, acme alice get secrets = %v (%q), want Allow", got, reason)
	}
	if got, reason, _ := a.Authorize(ctx, resourceRequest(identity(acme, "alice"), "get", "ns1", "", "pods", "", "p")); got != authorizer.DecisionNoOpinion {
		t.Errorf("after delete, acme alice get pods in ns1 = %v (%q), want NoOpinion", got, reason)
	}
}

func policyRuleEqual(a, b rbacv1.PolicyRule) bool {
	return slices.Equal(a.Verbs, b.Verbs) && slices.Equal(a.APIGroups, b.APIGroups) &&
		slices.Equal(a.Resources, b.Resources) && slices.Equal(a.ResourceNames, b.ResourceNames) &&
		slices.Equal(a.NonResourceURLs, b.NonResourceURLs)
}

func assertBindings(t *testing.T, s *CachedSource, tenant tenancy.Name, namespace string, want ...string) {
	t.Helper()
	bs, err := s.ListRoleBindings(context.Background(), tenant, namespace)
	if err != nil {
		t.Fatalf("ListRoleBindings(%s, %s) error = %v", tenant, namespace, err)
	}
	var got []string
	for _, b := range bs {
		got = append(got, objectKey(tenancy.OfObject(b.Annotations), b.Namespace, b.Name))
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("ListRoleBindings(%s, %s) = %v, want %v", tenant, namespace, got, want)
	}
}

func assertClusterBindings(t *testing.T, s *CachedSource, tenant tenancy.Name, want ...string) {
	t.Helper()
	bs, err := s.ListClusterRoleBindings(context.Background(), tenant)
	if err != nil {
		t.Fatalf("ListClusterRoleBindings(%s) error = %v", tenant, err)
	}
	var got []string
	for _, b := range bs {
		got = append(got, objectKey(tenancy.OfObject(b.Annotations), b.Namespace, b.Name))
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("ListClusterRoleBindings(%s) = %v, want %v", tenant, got, want)
	}
}

// TestListerWatchersFor runs the source against an HTTP server speaking the
// Kubernetes list and watch protocol, checking the paths the clientset
// requests under a "/tenants/*" server URL.
func TestListerWatchersFor(t *testing.T) {
	lists := map[string]any{
		"roles": rbacv1.RoleList{
			TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleList"},
			ListMeta: metav1.ListMeta{ResourceVersion: "5"},
			Items:    []rbacv1.Role{*role(acme, "ns1", "editor"), *role(globex, "ns1", "editor")},
		},
		"rolebindings": rbacv1.RoleBindingList{
			TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBindingList"},
			ListMeta: metav1.ListMeta{ResourceVersion: "5"},
			Items: []rbacv1.RoleBinding{
				*roleBinding(acme, "ns1", "editors", roleRef("editor")),
				*roleBinding(globex, "ns1", "editors", roleRef("editor")),
			},
		},
		"clusterroles": rbacv1.ClusterRoleList{
			TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleList"},
			ListMeta: metav1.ListMeta{ResourceVersion: "5"},
			Items:    []rbacv1.ClusterRole{*clusterRole(acme, "view"), *clusterRole(globex, "view")},
		},
		"clusterrolebindings": rbacv1.ClusterRoleBindingList{
			TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBindingList"},
			ListMeta: metav1.ListMeta{ResourceVersion: "5"},
			Items: []rbacv1.ClusterRoleBinding{
				*clusterRoleBinding(acme, "admins", clusterRoleRef("view")),
				*clusterRoleBinding(globex, "admins", clusterRoleRef("view")),
			},
		},
	}
	const prefix = "/tenants/*/apis/rbac.authorization.k8s.io/v1/"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resource, ok := strings.CutPrefix(r.URL.Path, prefix)
		list, known := lists[resource]
		if !ok || !known || r.Method != http.MethodGet {
			t.Errorf("unexpected request %s %s", r.Method, r.URL)
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("watch") == "true" {
			if r.URL.Query().Has("sendInitialEvents") {
				t.Errorf("watch-list request %s; the source must list", r.URL)
			}
			// An open watch with no events, until the client leaves.
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		if err := json.NewEncoder(w).Encode(list); err != nil {
			t.Errorf("encoding %s: %v", resource, err)
		}
	}))
	// Registered before runSource's cleanup, so it runs after the source has
	// stopped and closed its watches.
	t.Cleanup(srv.Close)

	client, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL + "/tenants/*"})
	if err != nil {
		t.Fatalf("NewForConfig() error = %v", err)
	}
	s := NewCachedSource(ListerWatchersFor(client))
	runSource(t, s)

	ctx := context.Background()
	for _, tenant := range []tenancy.Name{acme, globex} {
		if _, err := s.GetRole(ctx, tenant, "ns1", "editor"); err != nil {
			t.Errorf("GetRole(%s, ns1, editor) error = %v", tenant, err)
		}
		if _, err := s.GetClusterRole(ctx, tenant, "view"); err != nil {
			t.Errorf("GetClusterRole(%s, view) error = %v", tenant, err)
		}
		assertBindings(t, s, tenant, "ns1", string(tenant)+"/ns1/editors")
		assertClusterBindings(t, s, tenant, string(tenant)+"//admins")
	}
}
