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
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	quota "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/client-go/dynamic"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"

	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
	"github.com/arcturus-cloud/arcturus/test/framework"
)

const (
	// quotaCountTimeout bounds how long the quota controller may take to
	// count a tenant whose quota changed.
	quotaCountTimeout = 30 * time.Second
	// replenishTimeout bounds how long a deletion takes to give its quota
	// back. It is well under the controller's 30 s resync, so that only the
	// watch for deletions can meet it.
	replenishTimeout = 10 * time.Second
)

// TestTenantQuota drives a tenant's quota as a tenant admin sees it with
// stock kubectl and client-go: creates beyond spec.quota of the tenant as a
// whole are refused with Kubernetes' ResourceQuota messages, deletions give
// quota back within seconds, and other tenants and the system tenant are
// not limited by it.
func TestTenantQuota(t *testing.T) {
	s := framework.StartServer(t)
	s.CreateTenant(t, acme)
	s.CreateTenant(t, beta)
	admin := s.AdminConfig()
	tenants := framework.Dynamic(t, admin).Resource(tenancyv1.SchemeGroupVersion.WithResource("tenants"))
	acmeAdmin := s.TenantAdmin(t, acme, user)
	k := kubectl{kubeconfig: framework.KubeconfigFile(t, acmeAdmin)}
	acmeClient := typed(t, acmeAdmin)
	ctx := context.Background()

	hard := corev1.ResourceList{
		"pods": resource.MustParse("3"), "requests.cpu": resource.MustParse("1"), "count/configmaps": resource.MustParse("5"),
	}
	setQuota(t, tenants, acme, `{"spec":{"quota":{"pods":"3","requests.cpu":"1","count/configmaps":"5"}}}`)
	waitForQuotaCount(t, tenants, acme, hard)

	pods := acmeClient.CoreV1().Pods(metav1.NamespaceDefault)
	t.Run("pods", func(t *testing.T) {
		createPod(t, pods, "p1", "200m")
		createPod(t, pods, "p2", "200m")
		expectUsed(t, tenants, acme, "pods", "2")
		expectUsed(t, tenants, acme, "requests.cpu", "400m")

		// More cpu than is left, though a pod would still fit.
		_, err := pods.Create(ctx, cpuPod("big", "700m"), metav1.CreateOptions{})
		expectQuotaError(t, err, `pods "big" is forbidden: exceeded quota: tenant acme, requested: requests.cpu=700m, used: requests.cpu=400m, limited: requests.cpu=1`)

		// A pod that does not say how much cpu it wants, as kubectl run
		// makes it.
		expectContains(t, k.fail(t, "run", "nocpu", "--image=local/busybox:1", "--restart=Never"),
			`pods "nocpu" is forbidden: failed quota: tenant acme: must specify requests.cpu for: nocpu`)

		expectContains(t, k.run(t, "run", "p3", "--image=local/busybox:1", "--restart=Never", "--overrides", cpuOverrides("p3", "200m")),
			"pod/p3 created")
		expectContains(t, k.fail(t, "run", "p4", "--image=local/busybox:1", "--restart=Never", "--overrides", cpuOverrides("p4", "200m")),
			"Error from server (Forbidden)",
			`pods "p4" is forbidden: exceeded quota: tenant acme, requested: pods=1, used: pods=3, limited: pods=3`)
		expectContains(t, k.fail(t, "create", "-f", writeFile(t, "p4.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: p4
spec:
  containers:
  - name: c
    image: local/busybox:1
    resources:
      requests:
        cpu: 100m
`)), `pods "p4" is forbidden: exceeded quota: tenant acme, requested: pods=1, used: pods=3, limited: pods=3`)
		// A dry run is checked but charges nothing.
		expectContains(t, k.fail(t, "run", "p4", "--image=local/busybox:1", "--restart=Never", "--dry-run=server",
			"--overrides", cpuOverrides("p4", "200m")), "exceeded quota: tenant acme")
		expectUsed(t, tenants, acme, "pods", "3")

		// Deleting a pod gives its share back within seconds.
		k.run(t, "delete", "pod", "p1", "--wait=true")
		framework.Eventually(t, replenishTimeout, "a deleted pod's quota comes back", func(ctx context.Context) error {
			_, err := pods.Create(ctx, cpuPod("p4", "200m"), metav1.CreateOptions{})
			return err
		})
		expectUsed(t, tenants, acme, "pods", "3")
		expectUsed(t, tenants, acme, "requests.cpu", "600m")
	})

	t.Run("config maps", func(t *testing.T) {
		configMaps := acmeClient.CoreV1().ConfigMaps(metav1.NamespaceDefault)
		// The quota is the tenant's, not a namespace's.
		k.run(t, "create", "namespace", "other")
		expectContains(t, k.run(t, "create", "configmap", "in-other", "-n", "other", "--from-literal=k=v"), "configmap/in-other created")
		for i := range 4 {
			if _, err := configMaps.Create(ctx, configMap(metav1.NamespaceDefault, "cm"+strconv.Itoa(i), nil), metav1.CreateOptions{}); err != nil {
				t.Fatalf("config map %d of 5: %v", i+2, err)
			}
		}
		expectContains(t, k.fail(t, "create", "configmap", "sixth", "--from-literal=k=v"),
			`configmaps "sixth" is forbidden: exceeded quota: tenant acme, requested: count/configmaps=1, used: count/configmaps=5, limited: count/configmaps=5`)
		_, err := configMaps.Create(ctx, configMap(metav1.NamespaceDefault, "sixth", nil), metav1.CreateOptions{})
		expectQuotaError(t, err, `configmaps "sixth" is forbidden: exceeded quota: tenant acme, requested: count/configmaps=1, used: count/configmaps=5, limited: count/configmaps=5`)

		k.run(t, "delete", "configmap", "in-other", "-n", "other")
		framework.Eventually(t, replenishTimeout, "a deleted config map's quota comes back", func(ctx context.Context) error {
			_, err := configMaps.Create(ctx, configMap(metav1.NamespaceDefault, "sixth", nil), metav1.CreateOptions{})
			return err
		})
		expectUsed(t, tenants, acme, "count/configmaps", "5")
	})

	t.Run("kubectl get tenants", func(t *testing.T) {
		adminKubectl := kubectl{kubeconfig: s.AdminKubeconfigPath()}
		expectContains(t, adminKubectl.run(t, "get", "tenant", acme, "-o", "wide"),
			"REQUEST", "count/configmaps: 5/5, pods: 3/3, requests.cpu: 600m/1")
	})

	t.Run("lowered quota", func(t *testing.T) {
		// The quota in the spec applies at once, before the controller has
		// seen it; usage above it only stops what would add to it.
		tenant, err := getTenant(ctx, tenants, acme)
		if err != nil {
			t.Fatal(err)
		}
		running := tenant.Status.Used.Pods().Value()
		if running == 0 {
			t.Fatal("no pods left to lower the quota under")
		}
		setQuota(t, tenants, acme, fmt.Sprintf(`{"spec":{"quota":{"pods":"%d","requests.cpu":null,"count/configmaps":null}}}`, running-1))
		_, err = pods.Create(ctx, cpuPod("p5", "0"), metav1.CreateOptions{})
		expectQuotaError(t, err, fmt.Sprintf(`pods "p5" is forbidden: exceeded quota: tenant acme, requested: pods=1, used: pods=%d, limited: pods=%d`,
			running, running-1))
		if _, err := acmeClient.CoreV1().ConfigMaps(metav1.NamespaceDefault).Create(ctx, configMap(metav1.NamespaceDefault, "seventh", nil),
			metav1.CreateOptions{}); err != nil {
			t.Errorf("a config map, no longer limited: %v", err)
		}
	})

	t.Run("other tenants", func(t *testing.T) {
		beta := typed(t, s.TenantAdmin(t, beta, user))
		for i := range 6 {
			if _, err := beta.CoreV1().Pods(metav1.NamespaceDefault).Create(ctx, cpuPod("p"+strconv.Itoa(i), "0"), metav1.CreateOptions{}); err != nil {
				t.Errorf("pod %d in tenant beta: %v", i, err)
			}
			if _, err := beta.CoreV1().ConfigMaps(metav1.NamespaceDefault).Create(ctx, configMap(metav1.NamespaceDefault, "cm"+strconv.Itoa(i), nil),
				metav1.CreateOptions{}); err != nil {
				t.Errorf("config map %d in tenant beta: %v", i, err)
			}
		}
	})

	t.Run("system tenant", func(t *testing.T) {
		setQuota(t, tenants, "system", `{"spec":{"quota":{"pods":"0","count/configmaps":"0"}}}`)
		system := typed(t, admin)
		for i := range 3 {
			if _, err := system.CoreV1().ConfigMaps(metav1.NamespaceDefault).Create(ctx, configMap(metav1.NamespaceDefault, "cm"+strconv.Itoa(i), nil),
				metav1.CreateOptions{}); err != nil {
				t.Errorf("config map %d in the system tenant: %v", i, err)
			}
		}
		if _, err := system.CoreV1().Pods(metav1.NamespaceDefault).Create(ctx, cpuPod("p", "0"), metav1.CreateOptions{}); err != nil {
			t.Errorf("pod in the system tenant: %v", err)
		}
	})
}

// setQuota merge-patches a tenant as the system admin.
func setQuota(t *testing.T, tenants dynamic.ResourceInterface, name, patch string) {
	t.Helper()
	if _, err := tenants.Patch(context.Background(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatalf("setting the quota of tenant %s: %v", name, err)
	}
}

// getTenant reads a tenant as the system admin.
func getTenant(ctx context.Context, tenants dynamic.ResourceInterface, name string) (*tenancyv1.Tenant, error) {
	u, err := tenants.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	tenant := &tenancyv1.Tenant{}
	return tenant, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, tenant)
}

// waitForQuotaCount waits until the quota controller has mirrored hard
// into status.hard and counted every resource of it.
func waitForQuotaCount(t *testing.T, tenants dynamic.ResourceInterface, name string, hard corev1.ResourceList) {
	t.Helper()
	framework.Eventually(t, quotaCountTimeout, "tenant "+name+" has its usage counted", func(ctx context.Context) error {
		tenant, err := getTenant(ctx, tenants, name)
		if err != nil {
			return err
		}
		if !quota.Equals(tenant.Status.Hard, hard) {
			return fmt.Errorf("status.hard is %v", tenant.Status.Hard)
		}
		for r := range hard {
			if _, ok := tenant.Status.Used[r]; !ok {
				return fmt.Errorf("status.used has no %s: %v", r, tenant.Status.Used)
			}
		}
		return nil
	})
}

// expectUsed fails unless the tenant's status.used of r is want.
func expectUsed(t *testing.T, tenants dynamic.ResourceInterface, name string, r corev1.ResourceName, want string) {
	t.Helper()
	tenant, err := getTenant(context.Background(), tenants, name)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := tenant.Status.Used[r]
	if w := resource.MustParse(want); !ok || got.Cmp(w) != 0 {
		t.Errorf("status.used[%s] = %s, want %s", r, got.String(), want)
	}
}

// cpuPod is a pod that asks for cpu and is never scheduled.
func cpuPod(name, cpu string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "c", Image: "local/busybox:1",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}},
		}}},
	}
}

// createPod creates a pod that asks for cpu.
func createPod(t *testing.T, pods typedcorev1.PodInterface, name, cpu string) {
	t.Helper()
	if _, err := pods.Create(context.Background(), cpuPod(name, cpu), metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating pod %s: %v", name, err)
	}
}

// cpuOverrides are kubectl run overrides that ask for cpu.
func cpuOverrides(name, cpu string) string {
	return fmt.Sprintf(`{"spec":{"containers":[{"name":%q,"image":"local/busybox:1","resources":{"requests":{"cpu":%q}}}]}}`, name, cpu)
}

// expectQuotaError fails unless err is a 403 with message.
func expectQuotaError(t *testing.T, err error, message string) {
	t.Helper()
	expectCode(t, err, 403)
	if err := expectMessage(err, message); err != nil {
		t.Error(err)
	}
}

func expectMessage(err error, message string) error {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return fmt.Errorf("got %v, want an API error", err)
	}
	if got := status.Status().Message; got != message {
		return fmt.Errorf("message %q, want %q", got, message)
	}
	return nil
}
