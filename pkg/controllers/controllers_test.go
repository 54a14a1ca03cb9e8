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

package controllers_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
	"github.com/arcturus-cloud/arcturus/pkg/authorization/rbac"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/tenant"
	"github.com/arcturus-cloud/arcturus/pkg/internal/testserver"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

const timeout = time.Minute

var tenants = tenancyv1.SchemeGroupVersion.WithResource("tenants")

// env is a running server with the controllers, and clients for it.
type env struct {
	t    *testing.T
	base *rest.Config
}

// start runs the real server with embedded etcd and the controllers, and
// waits for /readyz. The server stops, and is waited for, when the test
// ends.
func start(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, base: testserver.Start(t, nil)}
	client := e.kube(tenancy.System)
	var lastErr error
	if err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		_, lastErr = client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return lastErr == nil, nil
	}); err != nil {
		t.Fatalf("server not ready: %v (last error: %v)", err, lastErr)
	}
	return e
}

func (e *env) config(t tenancy.Name) *rest.Config { return tenancy.ConfigFor(e.base, t) }

func (e *env) kube(t tenancy.Name) kubernetes.Interface { return testserver.Kube(e.t, e.config(t)) }

func (e *env) dynamic(t tenancy.Name) dynamic.Interface { return testserver.Dynamic(e.t, e.config(t)) }

func (e *env) eventually(what string, cond func(ctx context.Context) (bool, error)) {
	e.t.Helper()
	if err := wait.PollUntilContextTimeout(e.t.Context(), 100*time.Millisecond, timeout, true, cond); err != nil {
		e.t.Fatalf("waiting for %s: %v", what, err)
	}
}

func (e *env) createTenant(name string) {
	e.t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(tenancyv1.SchemeGroupVersion.WithKind("Tenant"))
	u.SetName(name)
	if _, err := e.dynamic(tenancy.System).Resource(tenants).Create(e.t.Context(), u, metav1.CreateOptions{}); err != nil {
		e.t.Fatalf("creating tenant %s: %v", name, err)
	}
}

func (e *env) getTenant(ctx context.Context, name string) (*tenancyv1.Tenant, error) {
	u, err := e.dynamic(tenancy.System).Resource(tenants).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	t := &tenancyv1.Tenant{}
	return t, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, t)
}

// waitBootstrapped waits for the tenant's Ready condition and checks what
// bootstrap promises.
func (e *env) waitBootstrapped(name tenancy.Name) {
	e.t.Helper()
	e.eventually("tenant "+string(name)+" to be bootstrapped", func(ctx context.Context) (bool, error) {
		t, err := e.getTenant(ctx, string(name))
		if err != nil {
			return false, err
		}
		c := meta.FindStatusCondition(t.Status.Conditions, tenant.ConditionReady)
		return c != nil && c.Status == metav1.ConditionTrue && c.Reason == tenant.ReasonBootstrapped, nil
	})
	client := e.kube(name)
	ctx := e.t.Context()
	for _, ns := range tenant.NamespacesOf(name) {
		got, err := client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			e.t.Fatalf("tenant %s: namespace %s: %v", name, ns, err)
		}
		if got.Annotations[tenancy.Annotation] != string(name) {
			e.t.Errorf("namespace %s of tenant %s is annotated %q", ns, name, got.Annotations[tenancy.Annotation])
		}
	}
	for _, b := range rbac.BootstrapClusterRoleBindings(name) {
		if _, err := client.RbacV1().ClusterRoleBindings().Get(ctx, b.Name, metav1.GetOptions{}); err != nil {
			e.t.Errorf("tenant %s: clusterrolebinding %s: %v", name, b.Name, err)
		}
	}
}

// populate gives a tenant objects of every scope: in its default namespace,
// in a namespace of its own, and tenant-wide.
func (e *env) populate(name tenancy.Name) {
	e.t.Helper()
	client := e.kube(name)
	ctx := e.t.Context()
	must := func(_ any, err error) {
		e.t.Helper()
		if err != nil {
			e.t.Fatalf("populating tenant %s: %v", name, err)
		}
	}
	must(client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}}, metav1.CreateOptions{}))
	for _, ns := range []string{"default", "team"} {
		must(client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "settings"}, Data: map[string]string{"tenant": string(name)},
		}, metav1.CreateOptions{}))
	}
	must(client.RbacV1().Roles("team").Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "reader"}}, metav1.CreateOptions{}))
	must(client.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "extra"}}, metav1.CreateOptions{}))
	must(client.CoreV1().Pods("team").Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
	}, metav1.CreateOptions{}))
}

// assertPopulated checks that what populate made is there and not going.
func (e *env) assertPopulated(name tenancy.Name) {
	e.t.Helper()
	client := e.kube(name)
	ctx := e.t.Context()
	for _, ns := range []string{"default", "team"} {
		got, err := client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			e.t.Fatalf("tenant %s: namespace %s: %v", name, ns, err)
		}
		if got.DeletionTimestamp != nil {
			e.t.Errorf("tenant %s: namespace %s is terminating", name, ns)
		}
		cm, err := client.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
		if err != nil {
			e.t.Fatalf("tenant %s: configmap %s/settings: %v", name, ns, err)
		}
		if cm.Data["tenant"] != string(name) {
			e.t.Errorf("tenant %s: configmap %s/settings holds %v", name, ns, cm.Data)
		}
	}
	if _, err := client.RbacV1().Roles("team").Get(ctx, "reader", metav1.GetOptions{}); err != nil {
		e.t.Errorf("tenant %s: role team/reader: %v", name, err)
	}
	if _, err := client.RbacV1().ClusterRoles().Get(ctx, "extra", metav1.GetOptions{}); err != nil {
		e.t.Errorf("tenant %s: clusterrole extra: %v", name, err)
	}
	if _, err := client.CoreV1().Pods("team").Get(ctx, "web", metav1.GetOptions{}); err != nil {
		e.t.Errorf("tenant %s: pod team/web: %v", name, err)
	}
}

// leftovers lists every listable resource across all tenants and returns
// the objects that belong to tenant name. It reads through /tenants/*
// because /tenants/<name> answers 404 once the tenant is gone.
func (e *env) leftovers(ctx context.Context, name tenancy.Name) ([]string, error) {
	disc, err := discovery.NewDiscoveryClientForConfig(e.config(tenancy.System))
	if err != nil {
		return nil, err
	}
	lists, err := disc.ServerPreferredResources()
	if err != nil {
		return nil, err
	}
	all := e.dynamic(tenancy.Wildcard)
	var found []string
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			return nil, err
		}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") || !slices.Contains(r.Verbs, "list") {
				continue
			}
			objs, err := all.Resource(gv.WithResource(r.Name)).List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, err
			}
			for _, o := range objs.Items {
				if tenancy.OfObject(o.GetAnnotations()) == name {
					found = append(found, r.Name+" "+o.GetNamespace()+"/"+o.GetName())
				}
			}
		}
	}
	return found, nil
}

func TestControllers(t *testing.T) {
	e := start(t)

	t.Run("system tenant is bootstrapped", func(t *testing.T) {
		e := &env{t: t, base: e.base}
		e.waitBootstrapped(tenancy.System)
	})

	t.Run("tenant lifecycle", func(t *testing.T) {
		e := &env{t: t, base: e.base}
		e.createTenant("acme")
		e.createTenant("beta")
		e.waitBootstrapped("acme")
		e.waitBootstrapped("beta")
		e.populate("acme")
		e.populate("beta")

		ctx := t.Context()
		before, err := e.leftovers(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if len(before) == 0 {
			t.Fatal("tenant acme has no objects to delete")
		}

		// Watch from before the delete, to see the Terminating phase even
		// if the tenant empties faster than a poll would notice.
		w, err := e.dynamic(tenancy.System).Resource(tenants).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=acme"})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		if err := e.dynamic(tenancy.System).Resource(tenants).Delete(ctx, "acme", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		sawTerminating := false
		deadline := time.After(timeout)
	watching:
		for {
			select {
			case ev, ok := <-w.ResultChan():
				if !ok {
					t.Fatal("tenant watch closed early")
				}
				u, isObject := ev.Object.(*unstructured.Unstructured)
				if !isObject {
					t.Fatalf("tenant watch: %v", ev.Object)
				}
				if phase, _, _ := unstructured.NestedString(u.Object, "status", "phase"); phase == string(tenancyv1.TenantTerminating) {
					sawTerminating = true
				}
				if ev.Type == watch.Deleted {
					break watching
				}
			case <-deadline:
				left, _ := e.leftovers(ctx, "acme")
				t.Fatalf("tenant acme was not deleted; left: %q", left)
			}
		}
		if !sawTerminating {
			t.Error("tenant acme never had phase Terminating")
		}
		if _, err := e.getTenant(ctx, "acme"); !apierrors.IsNotFound(err) {
			t.Errorf("getting deleted tenant acme: %v, want NotFound", err)
		}
		left, err := e.leftovers(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if len(left) > 0 {
			t.Errorf("objects of deleted tenant acme remain: %q", left)
		}
		if _, err := e.kube("acme").CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("listing namespaces of deleted tenant acme: %v, want NotFound", err)
		}

		e.assertPopulated("beta")
		e.waitBootstrapped("beta")
	})

	t.Run("namespace deletion", func(t *testing.T) {
		e := &env{t: t, base: e.base}
		e.createTenant("gamma")
		e.createTenant("delta")
		e.waitBootstrapped("gamma")
		e.waitBootstrapped("delta")
		e.populate("gamma")
		e.populate("delta")
		ctx := t.Context()
		gamma := e.kube("gamma")

		if err := gamma.CoreV1().Namespaces().Delete(ctx, "team", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		e.eventually("namespace gamma/team to go away", func(ctx context.Context) (bool, error) {
			_, err := gamma.CoreV1().Namespaces().Get(ctx, "team", metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return true, nil
			}
			return false, err
		})
		cms, err := gamma.CoreV1().ConfigMaps("team").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pods, err := gamma.CoreV1().Pods("team").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		roles, err := gamma.RbacV1().Roles("team").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(cms.Items) + len(pods.Items) + len(roles.Items); n != 0 {
			t.Errorf("namespace gamma/team is gone but %d objects of it remain", n)
		}

		// A namespace of the same name comes back empty.
		if _, err := gamma.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}}, metav1.CreateOptions{}); err != nil {
			t.Fatalf("re-creating namespace gamma/team: %v", err)
		}
		if cms, err := gamma.CoreV1().ConfigMaps("team").List(ctx, metav1.ListOptions{}); err != nil || len(cms.Items) != 0 {
			t.Errorf("re-created namespace gamma/team has configmaps %v (%v)", cms, err)
		}

		// Everything outside the deleted namespace stays.
		if _, err := gamma.CoreV1().ConfigMaps("default").Get(ctx, "settings", metav1.GetOptions{}); err != nil {
			t.Errorf("configmap gamma default/settings: %v", err)
		}
		if _, err := gamma.RbacV1().ClusterRoles().Get(ctx, "extra", metav1.GetOptions{}); err != nil {
			t.Errorf("clusterrole gamma extra: %v", err)
		}
		e.assertPopulated("delta")
	})

	t.Run("namespace waits for content with finalizers", func(t *testing.T) {
		e := &env{t: t, base: e.base}
		ctx := t.Context()
		gamma := e.kube("gamma")
		if _, err := gamma.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "held"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := gamma.CoreV1().ConfigMaps("held").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
			Name: "held", Finalizers: []string{"example.com/hold"},
		}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := gamma.CoreV1().Namespaces().Delete(ctx, "held", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		e.eventually("namespace gamma/held to report the configmap it waits for", func(ctx context.Context) (bool, error) {
			ns, err := gamma.CoreV1().Namespaces().Get(ctx, "held", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			for _, c := range ns.Status.Conditions {
				if c.Type == corev1.NamespaceContentRemaining && c.Status == corev1.ConditionTrue {
					if ns.Status.Phase != corev1.NamespaceTerminating || !strings.Contains(c.Message, "configmaps has 1 resource instances") {
						t.Fatalf("namespace gamma/held: phase %s, %s condition %q", ns.Status.Phase, c.Type, c.Message)
					}
					return true, nil
				}
			}
			return false, nil
		})

		if _, err := gamma.CoreV1().ConfigMaps("held").Patch(ctx, "held", types.MergePatchType,
			[]byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		e.eventually("namespace gamma/held to go away", func(ctx context.Context) (bool, error) {
			_, err := gamma.CoreV1().Namespaces().Get(ctx, "held", metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return true, nil
			}
			return false, err
		})
	})
}
