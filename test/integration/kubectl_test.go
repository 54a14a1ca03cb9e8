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
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
	"github.com/arcturus-cloud/arcturus/test/framework"
)

// kubectl runs the embedded upstream kubectl with one kubeconfig.
type kubectl struct {
	kubeconfig string
}

// run runs kubectl and returns its output, failing the test if it fails.
func (k kubectl) run(t *testing.T, args ...string) string {
	t.Helper()
	stdout, stderr, err := framework.Kubectl(t, k.kubeconfig, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, stdout, stderr)
	}
	return stdout
}

// fail runs kubectl, expecting it to fail, and returns its error output.
func (k kubectl) fail(t *testing.T, args ...string) string {
	t.Helper()
	stdout, stderr, err := framework.Kubectl(t, k.kubeconfig, args...)
	if err == nil {
		t.Fatalf("kubectl %s succeeded, want a failure:\n%s", strings.Join(args, " "), stdout)
	}
	return stderr
}

// expectLines fails unless output is exactly the lines want, in any order.
func expectLines(t *testing.T, output string, want ...string) {
	t.Helper()
	got := strings.Fields(output)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// expectContains fails unless output contains every one of want.
func expectContains(t *testing.T, output string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(output, w) {
			t.Errorf("output lacks %q:\n%s", w, output)
		}
	}
}

// writeFile writes a manifest into the test's temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestKubectl drives the server with stock kubectl, as a tenant user with
// the kubeconfig 'arcturus kubeconfig' prints, and as the system admin with
// a kubeconfig whose server URL addresses the tenant.
func TestKubectl(t *testing.T) {
	s := framework.StartServer(t)
	s.CreateTenant(t, acme)
	tenantAdmin := s.TenantAdmin(t, acme, user)
	out, stderr, err := framework.Arcturus(t, "kubeconfig", "--data-dir", s.DataDir(), "--server", s.URL(), "--tenant", acme, "--user", user)
	if err != nil {
		t.Fatalf("arcturus kubeconfig: %v\n%s", err, stderr)
	}
	k := kubectl{kubeconfig: writeFile(t, "kubeconfig", out)}
	ctx := context.Background()

	t.Run("api-resources", func(t *testing.T) {
		expectContains(t, k.run(t, "api-resources", "-o", "name"),
			"configmaps\n", "pods\n", "namespaces\n", "leases.coordination.k8s.io\n", "roles.rbac.authorization.k8s.io\n")
	})
	t.Run("api-versions", func(t *testing.T) {
		expectContains(t, k.run(t, "api-versions"), "v1\n", "rbac.authorization.k8s.io/v1\n", "coordination.k8s.io/v1\n")
	})
	t.Run("create", func(t *testing.T) {
		manifests := writeFile(t, "objects.yaml", `apiVersion: v1
kind: ConfigMap
metadata:
  name: first
data:
  k: v
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: second
  labels:
    app: second
---
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: main
    image: busybox
`)
		expectLines(t, k.run(t, "create", "-f", manifests, "-o", "name"), "configmap/first", "configmap/second", "pod/web")
		// kubectl's generators build typed objects and send them as stock
		// client-go does.
		expectLines(t, k.run(t, "create", "configmap", "generated", "--from-literal=k=v", "-o", "name"), "configmap/generated")
	})
	t.Run("get", func(t *testing.T) {
		var fromYAML, fromJSON corev1.ConfigMap
		if err := yaml.Unmarshal([]byte(k.run(t, "get", "configmap", "first", "-o", "yaml")), &fromYAML); err != nil {
			t.Errorf("-o yaml: %v", err)
		}
		if err := json.Unmarshal([]byte(k.run(t, "get", "configmap", "first", "-o", "json")), &fromJSON); err != nil {
			t.Errorf("-o json: %v", err)
		}
		for format, cm := range map[string]corev1.ConfigMap{"yaml": fromYAML, "json": fromJSON} {
			if cm.Name != "first" || cm.Data["k"] != "v" || tenantOf(&cm) != acme {
				t.Errorf("-o %s: got %s with data %v of tenant %q", format, cm.Name, cm.Data, tenantOf(&cm))
			}
		}
		expectContains(t, k.run(t, "get", "configmap", "first", "-o", "wide"), "NAME", "DATA", "AGE", "first")
		expectContains(t, k.run(t, "get", "pods", "-o", "wide"), "NAME", "READY", "STATUS", "NODE", "web")
		expectLines(t, k.run(t, "get", "configmap", "first", "-o", "name"), "configmap/first")
		expectContains(t, k.run(t, "get", "configmaps", "--chunk-size=1", "-o", "name"), "configmap/first\n", "configmap/second\n")
		expectLines(t, k.run(t, "get", "configmaps", "-l", "app=second", "-o", "name"), "configmap/second")
		expectLines(t, k.run(t, "get", "configmaps", "--field-selector", "metadata.name=first", "-o", "name"), "configmap/first")
	})
	t.Run("apply", func(t *testing.T) {
		manifest := func(value string) string {
			return writeFile(t, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  a: \""+value+"\"\n")
		}
		expectContains(t, k.run(t, "apply", "-f", manifest("1")), "configmap/applied created")
		expectContains(t, k.run(t, "apply", "-f", manifest("2")), "configmap/applied configured")
		expectLines(t, k.run(t, "get", "configmap", "applied", "-o", "jsonpath={.data.a}"), "2")
		expectContains(t, k.run(t, "apply", "--server-side", "-f", manifest("3")), "configmap/applied serverside-applied")
		expectLines(t, k.run(t, "get", "configmap", "applied", "-o", "jsonpath={.data.a}"), "3")
		expectContains(t, k.run(t, "get", "configmap", "applied", "-o", "jsonpath={.metadata.managedFields[*].operation}"), "Apply")
	})
	t.Run("patch", func(t *testing.T) {
		k.run(t, "patch", "configmap", "first", "-p", `{"data":{"strategic":"yes"}}`)
		k.run(t, "patch", "configmap", "first", "--type", "merge", "-p", `{"data":{"merge":"yes"}}`)
		k.run(t, "patch", "configmap", "first", "--type", "json", "-p", `[{"op":"add","path":"/data/json","value":"yes"}]`)
		expectLines(t, k.run(t, "get", "configmap", "first", "-o", "jsonpath={.data.strategic}{.data.merge}{.data.json}"), "yesyesyes")
		// A strategic merge patch merges containers by name.
		k.run(t, "patch", "pod", "web", "-p", `{"spec":{"containers":[{"name":"main","image":"busybox:1.37"}]}}`)
		expectLines(t, k.run(t, "get", "pod", "web", "-o", "jsonpath={.spec.containers[*].image}"), "busybox:1.37")
	})
	t.Run("label and annotate", func(t *testing.T) {
		expectContains(t, k.run(t, "label", "configmap", "first", "team=blue"), "configmap/first labeled")
		expectContains(t, k.run(t, "annotate", "configmap", "first", "note=hello"), "configmap/first annotated")
		expectLines(t, k.run(t, "get", "configmap", "first", "-o", "jsonpath={.metadata.labels.team}{.metadata.annotations.note}"), "bluehello")
		expectContains(t, k.fail(t, "annotate", "--overwrite", "configmap", "first", "arcturus.io/tenant="+beta), "Invalid")
	})
	t.Run("describe", func(t *testing.T) {
		expectContains(t, k.run(t, "describe", "configmap", "first"), "first", "arcturus.io/tenant: "+acme, "strategic")
		expectContains(t, k.run(t, "describe", "pod", "web"), "web", "busybox:1.37")
	})
	t.Run("explain", func(t *testing.T) {
		expectContains(t, k.run(t, "explain", "pod.spec.virtualMachine"), "virtualMachine", "powerState", "image")
	})
	t.Run("auth can-i", func(t *testing.T) {
		review := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
			"spec": map[string]any{"resourceAttributes": map[string]any{"verb": "get", "resource": "configmaps"}},
		}}
		_, err := framework.Dynamic(t, tenantAdmin).Resource(authorizationv1.SchemeGroupVersion.WithResource("selfsubjectaccessreviews")).
			Create(ctx, review, metav1.CreateOptions{})
		if apierrors.IsNotFound(err) {
			t.Skipf("the server answers 404 to selfsubjectaccessreviews, which kubectl auth can-i needs: %v", err)
		}
		expectLines(t, k.run(t, "auth", "can-i", "create", "configmaps"), "yes")
		// kubectl prints the server's reason after a denial: "no - <reason>".
		stdout, _, err := framework.Kubectl(t, k.kubeconfig, "auth", "can-i", "list", "nodes")
		if answer, _, _ := strings.Cut(strings.TrimSpace(stdout), " - "); err == nil || answer != "no" {
			t.Errorf("auth can-i list nodes: %q, %v; want no", stdout, err)
		}
	})
	t.Run("auth whoami", func(t *testing.T) {
		expectContains(t, k.run(t, "auth", "whoami"), user, tenancy.AdminsGroup)
	})
	t.Run("watch", func(t *testing.T) {
		wctx, cancel := context.WithTimeout(ctx, watchTimeout)
		defer cancel()
		cmd := framework.Command(wctx, t, framework.KubectlArgs(k.kubeconfig, "get", "configmaps", "-w", "-o", "name")...)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			cancel()
			_ = cmd.Wait()
		}()
		lines := bufio.NewScanner(stdout)
		// The watch starts with a list; once the list is printed, a new
		// config map can only arrive as a watch event.
		waitForLine(t, lines, "configmap/second")
		if _, err := typed(t, tenantAdmin).CoreV1().ConfigMaps(metav1.NamespaceDefault).
			Create(ctx, configMap(metav1.NamespaceDefault, "watched", nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitForLine(t, lines, "configmap/watched")
	})
	t.Run("delete", func(t *testing.T) {
		expectContains(t, k.run(t, "delete", "configmap", "first"), `configmap "first" deleted`)
		expectContains(t, k.fail(t, "get", "configmap", "first"), "NotFound")
	})
	t.Run("system admin through a tenant's URL", func(t *testing.T) {
		admin := kubectl{kubeconfig: framework.KubeconfigFile(t, framework.ConfigFor(s.AdminConfig(), acme))}
		expectLines(t, admin.run(t, "get", "configmap", "second", "-o", "jsonpath={.metadata.annotations.arcturus\\.io/tenant}"), acme)
		expectContains(t, admin.run(t, "get", "namespaces", "-o", "name"), "namespace/default")
		manifest := writeFile(t, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-admin\n")
		expectLines(t, admin.run(t, "create", "-f", manifest, "-o", "name"), "configmap/from-admin")
		expectLines(t, k.run(t, "get", "configmap", "from-admin", "-o", "jsonpath={.metadata.annotations.arcturus\\.io/tenant}"), acme)
	})
	t.Run("system admin kubeconfig the server wrote", func(t *testing.T) {
		out, stderr, err := framework.Arcturus(t, "tenant", "create", "gamma", "--kubeconfig", s.AdminKubeconfigPath())
		if err != nil {
			t.Fatalf("arcturus tenant create: %v\n%s", err, stderr)
		}
		expectContains(t, out, "tenant/gamma created")
		admin := kubectl{kubeconfig: s.AdminKubeconfigPath()}
		expectContains(t, admin.run(t, "get", "tenants", "-o", "name"), "tenant.tenancy.arcturus.io/system\n", "tenant.tenancy.arcturus.io/"+acme+"\n", "tenant.tenancy.arcturus.io/gamma\n")
		expectContains(t, k.fail(t, "get", "tenants"), "Forbidden")
	})
}

// waitForLine reads lines until one is want. The scan ends when the
// command's context does, so it cannot wait forever.
func waitForLine(t *testing.T, lines *bufio.Scanner, want string) {
	t.Helper()
	var seen []string
	for lines.Scan() {
		if lines.Text() == want {
			return
		}
		seen = append(seen, lines.Text())
	}
	t.Fatalf("kubectl get -w ended (%v) without printing %q; it printed %q", lines.Err(), want, seen)
}
