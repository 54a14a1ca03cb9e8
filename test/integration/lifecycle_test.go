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
	"errors"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"

	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
	"github.com/arcturus-cloud/arcturus/test/framework"
)

const lifecycleTimeout = 60 * time.Second

// TestDeletionLifecycle drives what kubectl users expect of deletion and
// editing: kubectl edit, finalizers that hold an object, graceful deletion
// of a pod that runs on a node, and kubectl delete tenant, which empties
// the tenant and leaves every other tenant alone.
func TestDeletionLifecycle(t *testing.T) {
	s := framework.StartServer(t)
	s.CreateTenant(t, acme)
	s.CreateTenant(t, beta)
	acmeAdmin := s.TenantAdmin(t, acme, user)
	k := kubectl{kubeconfig: framework.KubeconfigFile(t, acmeAdmin)}
	ctx := context.Background()
	pods := framework.Clientset(t, acmeAdmin).CoreV1().Pods(metav1.NamespaceDefault)
	configMaps := typed(t, acmeAdmin).CoreV1().ConfigMaps(metav1.NamespaceDefault)

	t.Run("edit", func(t *testing.T) {
		k.run(t, "create", "configmap", "edited", "--from-literal=k=original")
		t.Setenv("KUBE_EDITOR", "sed -i s/original/changed/")
		expectContains(t, k.run(t, "edit", "configmap", "edited"), "configmap/edited edited")
		cm, err := configMaps.Get(ctx, "edited", metav1.GetOptions{})
		if err != nil || cm.Data["k"] != "changed" {
			t.Errorf("after edit: %v, %v", cm.Data, err)
		}
	})

	t.Run("finalizer holds an object", func(t *testing.T) {
		k.run(t, "apply", "-f", writeFile(t, "held.yaml", `apiVersion: v1
kind: ConfigMap
metadata:
  name: held
  finalizers: ["example.com/hold"]
`))
		k.run(t, "delete", "configmap", "held", "--wait=false")
		cm, err := configMaps.Get(ctx, "held", metav1.GetOptions{})
		if err != nil || cm.DeletionTimestamp == nil {
			t.Fatalf("a finalized object went away or was not marked: %v, %v", cm, err)
		}
		k.run(t, "patch", "configmap", "held", "--type=merge", "-p", `{"metadata":{"finalizers":null}}`)
		waitGone(t, func(ctx context.Context) error {
			_, err := configMaps.Get(ctx, "held", metav1.GetOptions{})
			return err
		})
	})

	t.Run("graceful pod deletion", func(t *testing.T) {
		for _, name := range []string{"bound", "unbound"} {
			k.run(t, "run", name, "--image=busybox", "--restart=Never")
		}
		// The scheduler's path, through stock client-go and its protobuf.
		err := pods.Bind(ctx, &corev1.Binding{
			ObjectMeta: metav1.ObjectMeta{Name: "bound"},
			Target:     corev1.ObjectReference{Kind: "Node", Name: "node-1"},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("binding: %v", err)
		}
		k.run(t, "delete", "pod", "bound", "unbound", "--wait=false")
		bound, err := pods.Get(ctx, "bound", metav1.GetOptions{})
		if err != nil || bound.DeletionTimestamp == nil || bound.DeletionGracePeriodSeconds == nil || *bound.DeletionGracePeriodSeconds != 30 {
			t.Errorf("a pod on a node must wait its grace period: %+v, %v", bound.ObjectMeta, err)
		}
		if _, err := pods.Get(ctx, "unbound", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("an unscheduled pod must go at once: %v", err)
		}
		k.run(t, "delete", "pod", "bound", "--grace-period=0", "--force")
		waitGone(t, func(ctx context.Context) error { _, err := pods.Get(ctx, "bound", metav1.GetOptions{}); return err })
	})

	t.Run("delete tenant", func(t *testing.T) {
		betaConfigMaps := typed(t, s.TenantAdmin(t, beta, user)).CoreV1().ConfigMaps(metav1.NamespaceDefault)
		for _, c := range []interface {
			Create(context.Context, *corev1.ConfigMap, metav1.CreateOptions) (*corev1.ConfigMap, error)
		}{configMaps, betaConfigMaps} {
			if _, err := c.Create(ctx, configMap(metav1.NamespaceDefault, "kept", nil), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		tenants := framework.Dynamic(t, s.AdminConfig()).Resource(tenancyv1.SchemeGroupVersion.WithResource("tenants"))
		wctx, cancel := context.WithTimeout(ctx, lifecycleTimeout)
		defer cancel()
		w, err := tenants.Watch(wctx, metav1.ListOptions{FieldSelector: "metadata.name=" + acme})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		system := kubectl{kubeconfig: s.AdminKubeconfigPath()}
		system.run(t, "delete", "tenant", acme, "--wait=false")
		// The tenant is Terminating while its space empties, then goes.
		var sawTerminating bool
		for e := nextEvent(t, wctx, w); e.Type != watch.Deleted; e = nextEvent(t, wctx, w) {
			phase, _, _ := unstructured.NestedString(e.Object.(*unstructured.Unstructured).Object, "status", "phase")
			sawTerminating = sawTerminating || phase == string(tenancyv1.TenantTerminating)
		}
		if !sawTerminating {
			t.Error("the tenant was never Terminating")
		}
		// acme's space is empty, and so unknown.
		_, err = typed(t, framework.ConfigFor(s.AdminConfig(), acme)).CoreV1().ConfigMaps(metav1.NamespaceDefault).List(ctx, metav1.ListOptions{})
		expectCode(t, err, 404)
		if cm, err := betaConfigMaps.Get(ctx, "kept", metav1.GetOptions{}); err != nil || tenantOf(cm) != beta {
			t.Errorf("beta lost its objects: %v, %v", cm, err)
		}
	})
}

// waitGone waits until get answers NotFound, within the lifecycle tests' bound.
func waitGone(t *testing.T, get func(context.Context) error) {
	t.Helper()
	waitGoneWithin(t, lifecycleTimeout, get)
}

// waitGoneWithin waits up to timeout until get reports the object not
// found.
func waitGoneWithin(t *testing.T, timeout time.Duration, get func(context.Context) error) {
	t.Helper()
	framework.Eventually(t, timeout, "object deleted", func(ctx context.Context) error {
		err := get(ctx)
		switch {
		case apierrors.IsNotFound(err):
			return nil
		case err == nil:
			return errors.New("still there")
		default:
			return fmt.Errorf("unexpected error: %w", err)
		}
	})
}
