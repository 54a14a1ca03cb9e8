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
	"net/http"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	apps "github.com/arcturus-cloud/arcturus/pkg/apis/apps/v1"
	"github.com/arcturus-cloud/arcturus/pkg/controllers"
	"github.com/arcturus-cloud/arcturus/test/framework"
)

const deploymentsPath = "/apis/apps/v1/namespaces/default/deployments"

// vmDeploymentManifest is a Deployment of virtual machines, as a user
// writes it.
func vmDeploymentManifest(image string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: vms
spec:
  replicas: 2
  selector:
    matchLabels:
      app: vms
  template:
    metadata:
      labels:
        app: vms
    spec:
      virtualMachine:
        image: ` + image + `
        userData: |
          #cloud-config
          hostname: guest
        resources:
          requests:
            cpu: "1"
            memory: 512Mi
`
}

// getDeployment reads a deployment with kubectl, as JSON, into the
// superset type.
func getDeployment(t *testing.T, k kubectl, name string) *apps.Deployment {
	t.Helper()
	var d apps.Deployment
	if err := json.Unmarshal([]byte(k.run(t, "get", "deployment", name, "-o", "json")), &d); err != nil {
		t.Fatalf("decoding deployment %s: %v", name, err)
	}
	return &d
}

// table splits kubectl's table output into rows of fields.
func table(output string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSpace(output), "\n") {
		rows = append(rows, strings.Fields(line))
	}
	return rows
}

// TestApps drives apps/v1 Deployments and ReplicaSets as a tenant admin with
// stock kubectl and stock client-go. It tests the API alone: the workload
// controllers are off, so statuses are what the test writes (their
// behaviour is TestDeployment's).
func TestApps(t *testing.T) {
	s := framework.StartServer(t, framework.WithControllers(func(o *controllers.Options) {
		o.Controllers = []string{"*", "-deployment", "-replicaset"}
	}))
	s.CreateTenant(t, acme)
	s.CreateTenant(t, beta)
	acmeAdmin := s.TenantAdmin(t, acme, user)
	betaAdmin := s.TenantAdmin(t, beta, user)
	k := kubectl{kubeconfig: framework.KubeconfigFile(t, acmeAdmin)}
	ctx := context.Background()

	t.Run("discovery", func(t *testing.T) {
		expectContains(t, k.run(t, "api-resources", "--api-group=apps", "-o", "name"), "deployments.apps\n", "replicasets.apps\n")
		expectContains(t, k.run(t, "api-versions"), "apps/v1\n")
	})

	t.Run("create deployment", func(t *testing.T) {
		expectContains(t, k.run(t, "create", "deployment", "web", "--image=local/busybox:1", "--replicas=3", "--", "sleep", "3600"),
			"deployment.apps/web created")
		d := getDeployment(t, k, "web")
		c := d.Spec.Template.Spec.Containers
		if len(c) != 1 || c[0].Image != "local/busybox:1" || !slices.Equal(c[0].Command, []string{"sleep", "3600"}) ||
			c[0].ImagePullPolicy != corev1.PullIfNotPresent {
			t.Errorf("template containers = %+v", c)
		}
		// Kubernetes' apps/v1 defaults.
		ru := d.Spec.Strategy.RollingUpdate
		if *d.Spec.Replicas != 3 || d.Generation != 1 || *d.Spec.RevisionHistoryLimit != 10 || *d.Spec.ProgressDeadlineSeconds != 600 ||
			d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || ru == nil ||
			ru.MaxSurge.String() != "25%" || ru.MaxUnavailable.String() != "25%" ||
			d.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways || d.Spec.Template.Spec.DNSPolicy != corev1.DNSClusterFirst {
			t.Errorf("deployment was not defaulted as on Kubernetes: generation %d, spec %+v", d.Generation, d.Spec)
		}
		if tenantOf(d) != acme {
			t.Errorf("tenant annotation %q", tenantOf(d))
		}
	})

	t.Run("get deployments", func(t *testing.T) {
		rows := table(k.run(t, "get", "deployments"))
		if len(rows) != 2 || !slices.Equal(rows[0], []string{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"}) ||
			!slices.Equal(rows[1][:4], []string{"web", "0/3", "0", "0"}) {
			t.Errorf("kubectl get deployments printed %q", rows)
		}
		rows = table(k.run(t, "get", "deploy", "web", "-o", "wide"))
		if len(rows) != 2 || !slices.Equal(rows[0], []string{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"}) ||
			!slices.Equal(rows[1][5:], []string{"busybox", "local/busybox:1", "app=web"}) {
			t.Errorf("kubectl get deploy -o wide printed %q", rows)
		}
		expectContains(t, k.run(t, "get", "all", "-o", "name"), "deployment.apps/web\n")
	})

	t.Run("scale deployment", func(t *testing.T) {
		expectContains(t, k.run(t, "scale", "deployment", "web", "--replicas=10"), "deployment.apps/web scaled")
		expectLines(t, k.run(t, "get", "deployment", "web", "-o", "jsonpath={.spec.replicas}"), "10")
		// Scaling is a spec change.
		expectLines(t, k.run(t, "get", "deployment", "web", "-o", "jsonpath={.metadata.generation}"), "2")

		r := do(t, acmeAdmin, http.MethodGet, deploymentsPath+"/web/scale", "", nil)
		var scale autoscalingv1.Scale
		if err := json.Unmarshal(r.body, &scale); err != nil || r.code != http.StatusOK {
			t.Fatalf("GET scale: %d %s (%v)", r.code, r.body, err)
		}
		if scale.APIVersion != "autoscaling/v1" || scale.Kind != "Scale" || scale.Name != "web" ||
			scale.Spec.Replicas != 10 || scale.Status.Selector != "app=web" {
			t.Errorf("scale = %+v", scale)
		}
		// kubectl scale with a precondition reads and writes the Scale.
		expectContains(t, k.run(t, "scale", "deployment", "web", "--current-replicas=10", "--replicas=4"), "deployment.apps/web scaled")
		expectLines(t, k.run(t, "get", "deployment", "web", "--subresource=scale", "-o", "jsonpath={.spec.replicas}"), "4")
		expectContains(t, k.fail(t, "scale", "deployment", "web", "--replicas=-1"), "replicas")
	})

	t.Run("set image and describe", func(t *testing.T) {
		// A strategic merge patch of the template's containers, by name.
		expectContains(t, k.run(t, "set", "image", "deployment/web", "busybox=local/busybox:2"), "deployment.apps/web image updated")
		d := getDeployment(t, k, "web")
		if c := d.Spec.Template.Spec.Containers; len(c) != 1 || c[0].Image != "local/busybox:2" || !slices.Equal(c[0].Command, []string{"sleep", "3600"}) {
			t.Errorf("containers after set image: %+v", c)
		}
		// kubectl describe reads the deployment and its replica sets with
		// the typed client.
		expectContains(t, k.run(t, "describe", "deployment", "web"), "Name:", "web", "Replicas:", "local/busybox:2", "RollingUpdateStrategy:")
	})

	t.Run("replica sets", func(t *testing.T) {
		manifest := writeFile(t, "rs.yaml", `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: front
  labels:
    tier: front
spec:
  replicas: 2
  selector:
    matchLabels:
      app: front
  template:
    metadata:
      labels:
        app: front
    spec:
      containers:
      - name: main
        image: local/busybox:1
`)
		expectContains(t, k.run(t, "apply", "-f", manifest), "replicaset.apps/front created")
		rows := table(k.run(t, "get", "rs"))
		if len(rows) != 2 || !slices.Equal(rows[0], []string{"NAME", "DESIRED", "CURRENT", "READY", "AGE"}) ||
			!slices.Equal(rows[1][:4], []string{"front", "2", "0", "0"}) {
			t.Errorf("kubectl get rs printed %q", rows)
		}
		expectContains(t, k.run(t, "scale", "rs", "front", "--replicas=0"), "replicaset.apps/front scaled")
		expectLines(t, k.run(t, "get", "rs", "front", "-o", "jsonpath={.spec.replicas}"), "0")
		expectLines(t, k.run(t, "get", "rs", "--field-selector", "metadata.name=front", "-o", "name"), "replicaset.apps/front")
		// apps/v1 does not default an object's labels from its template.
		expectLines(t, k.run(t, "get", "rs", "-l", "tier=front", "-o", "name"), "replicaset.apps/front")
	})

	t.Run("server-side apply of a VM template", func(t *testing.T) {
		expectContains(t, k.run(t, "apply", "--server-side", "-f", writeFile(t, "vms.yaml", vmDeploymentManifest("local/vm-disk:1"))),
			"deployment.apps/vms serverside-applied")
		d := getDeployment(t, k, "vms")
		vm := d.Spec.Template.Spec.VirtualMachine
		if vm == nil || vm.Image != "local/vm-disk:1" || vm.UserData != "#cloud-config\nhostname: guest\n" ||
			vm.Resources.Requests.Memory().String() != "512Mi" || vm.Name != "vm" || len(d.Spec.Template.Spec.Containers) != 0 {
			t.Fatalf("template VM read back as %+v (containers %v)", vm, d.Spec.Template.Spec.Containers)
		}
		expectContains(t, k.run(t, "get", "deployment", "vms", "-o", "jsonpath={.metadata.managedFields[*].fieldsV1}"), `"f:virtualMachine"`)

		// Applying again with a new disk changes the template only.
		expectContains(t, k.run(t, "apply", "--server-side", "-f", writeFile(t, "vms.yaml", vmDeploymentManifest("local/vm-disk:2"))),
			"deployment.apps/vms serverside-applied")
		d = getDeployment(t, k, "vms")
		if vm := d.Spec.Template.Spec.VirtualMachine; vm == nil || vm.Image != "local/vm-disk:2" || d.Generation != 2 || *d.Spec.Replicas != 2 {
			t.Errorf("after the second apply: generation %d, replicas %d, VM %+v", d.Generation, *d.Spec.Replicas, vm)
		}
		rows := table(k.run(t, "get", "deployment", "vms", "-o", "wide"))
		if len(rows) != 2 || !slices.Equal(rows[1][5:], []string{"vm", "local/vm-disk:2", "app=vms"}) {
			t.Errorf("kubectl get deployment vms -o wide printed %q", rows)
		}
		// kubectl describe reads it as a Kubernetes Deployment, through protobuf.
		expectContains(t, k.run(t, "describe", "deployment", "vms"), "vms", "app=vms")
	})

	t.Run("client-side apply of a VM template", func(t *testing.T) {
		// kubectl computes the patch from the server's OpenAPI, which knows
		// spec.template.spec.virtualMachine.
		manifest := func(image string) string {
			return writeFile(t, "csa.yaml", strings.ReplaceAll(vmDeploymentManifest(image), "vms", "csa"))
		}
		expectContains(t, k.run(t, "apply", "-f", manifest("local/vm-disk:1")), "deployment.apps/csa created")
		expectContains(t, k.run(t, "apply", "-f", manifest("local/vm-disk:3")), "deployment.apps/csa configured")
		if vm := getDeployment(t, k, "csa").Spec.Template.Spec.VirtualMachine; vm == nil || vm.Image != "local/vm-disk:3" || vm.UserData == "" {
			t.Errorf("template VM after kubectl apply: %+v", vm)
		}
		expectContains(t, k.run(t, "delete", "deployment", "csa"), `deployment.apps "csa" deleted`)
	})

	t.Run("explain", func(t *testing.T) {
		expectContains(t, k.run(t, "explain", "deployment.spec.template.spec.virtualMachine"), "virtualMachine", "powerState", "image", "userData")
		expectContains(t, k.run(t, "explain", "replicaset.spec.template.spec"), "virtualMachine", "containers")
	})

	t.Run("validation", func(t *testing.T) {
		mismatch := []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"bad"},
			"spec":{"selector":{"matchLabels":{"app":"a"}},"template":{"metadata":{"labels":{"app":"b"}},
			"spec":{"containers":[{"name":"c","image":"local/busybox:1"}]}}}}`)
		status := expectStatus(t, do(t, acmeAdmin, http.MethodPost, deploymentsPath, "application/json", mismatch), http.StatusUnprocessableEntity)
		if status.Reason != metav1.StatusReasonInvalid || !strings.Contains(status.Message, "`selector` does not match template `labels`") {
			t.Errorf("selector mismatch answered %s: %s", status.Reason, status.Message)
		}
		empty := []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"bad"},
			"spec":{"selector":{"matchLabels":{"app":"a"}},"template":{"metadata":{"labels":{"app":"a"}}}}}`)
		status = expectStatus(t, do(t, acmeAdmin, http.MethodPost, deploymentsPath, "application/json", empty), http.StatusUnprocessableEntity)
		if !strings.Contains(status.Message, "spec.template.spec.containers") {
			t.Errorf("a template without containers or VM answered: %s", status.Message)
		}
		both := strings.Replace(vmDeploymentManifest("local/vm-disk:1"), "      virtualMachine:",
			"      containers:\n      - name: c\n        image: local/busybox:1\n      virtualMachine:", 1)
		expectContains(t, k.fail(t, "create", "-f", writeFile(t, "both.yaml", strings.Replace(both, "name: vms", "name: both", 1))),
			"spec.template.spec.virtualMachine", "not both")
		expectContains(t, k.fail(t, "patch", "deployment", "web", "--type=merge", "-p", `{"spec":{"selector":{"matchLabels":{"app":"other"}}}}`),
			"field is immutable")
	})

	t.Run("tenants do not see each other's deployments", func(t *testing.T) {
		beta := typed(t, betaAdmin).AppsV1().Deployments(metav1.NamespaceDefault)
		if _, err := beta.Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("beta reads acme's deployment: %v, want NotFound", err)
		}
		if _, err := beta.GetScale(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("beta reads acme's scale: %v, want NotFound", err)
		}
		expectStatus(t, do(t, betaAdmin, http.MethodGet, deploymentsPath+"/web", "", nil), http.StatusNotFound)
		expectStatus(t, do(t, betaAdmin, http.MethodPatch, deploymentsPath+"/web/scale", "application/merge-patch+json",
			[]byte(`{"spec":{"replicas":0}}`)), http.StatusNotFound)
		list, err := beta.List(ctx, metav1.ListOptions{})
		if err != nil || len(list.Items) != 0 {
			t.Errorf("beta lists %d deployments (%v), want none", len(list.Items), err)
		}
		expectLines(t, k.run(t, "get", "deployment", "web", "-o", "jsonpath={.spec.replicas}"), "4")
	})

	t.Run("client-go", func(t *testing.T) {
		// Stock client-go sends and reads apps/v1 as protobuf.
		client := framework.Clientset(t, acmeAdmin).AppsV1().Deployments(metav1.NamespaceDefault)
		list, err := client.List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != 2 {
			t.Errorf("listed %d deployments, want web and vms", len(list.Items))
		}
		wctx, cancel := context.WithTimeout(ctx, watchTimeout)
		defer cancel()
		w, err := client.Watch(wctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()

		replicas := int32(2)
		labels := map[string]string{"app": "typed"}
		created, err := client.Create(ctx, &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "typed"},
			Spec: appsv1.DeploymentSpec{
				Replicas: &replicas,
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "local/busybox:1"}}},
				},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if created.Generation != 1 || *created.Spec.RevisionHistoryLimit != 10 || created.Spec.Template.Spec.Containers[0].Image != "local/busybox:1" {
			t.Errorf("created %+v", created)
		}
		if e := nextEvent(t, wctx, w); e.Type != watch.Added || e.Object.(*appsv1.Deployment).UID != created.UID {
			t.Errorf("watch: got %s %v, want the creation of %s", e.Type, e.Object, created.UID)
		}

		got, err := client.Get(ctx, "typed", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		got.Spec.Template.Spec.Containers[0].Image = "local/busybox:2"
		updated, err := client.Update(ctx, got, metav1.UpdateOptions{})
		if err != nil {
			t.Fatalf("update: %v", err)
		}
		if updated.Generation != 2 || updated.Spec.Template.Spec.Containers[0].Image != "local/busybox:2" {
			t.Errorf("updated: generation %d, image %s", updated.Generation, updated.Spec.Template.Spec.Containers[0].Image)
		}
		if e := nextEvent(t, wctx, w); e.Type != watch.Modified || e.Object.(*appsv1.Deployment).Generation != 2 {
			t.Errorf("watch: got %s %v, want the update", e.Type, e.Object)
		}

		// The status subresource writes the status only.
		updated.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, ReadyReplicas: 1, UpdatedReplicas: 2, AvailableReplicas: 1}
		ignored := int32(7)
		updated.Spec.Replicas = &ignored
		withStatus, err := client.UpdateStatus(ctx, updated, metav1.UpdateOptions{})
		if err != nil {
			t.Fatalf("update status: %v", err)
		}
		if withStatus.Status.ReadyReplicas != 1 || *withStatus.Spec.Replicas != 2 || withStatus.Generation != 2 {
			t.Errorf("after a status update: status %+v, replicas %d, generation %d", withStatus.Status, *withStatus.Spec.Replicas, withStatus.Generation)
		}
		rows := table(k.run(t, "get", "deployment", "typed"))
		if len(rows) != 2 || !slices.Equal(rows[1][:4], []string{"typed", "1/2", "2", "1"}) {
			t.Errorf("kubectl get deployment typed printed %q", rows)
		}

		scale, err := client.GetScale(ctx, "typed", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get scale: %v", err)
		}
		if scale.Spec.Replicas != 2 || scale.Status.Replicas != 2 || scale.Status.Selector != "app=typed" {
			t.Errorf("scale = %+v", scale)
		}
		scale.Spec.Replicas = 5
		if _, err := client.UpdateScale(ctx, "typed", scale, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("update scale: %v", err)
		}
		if got, err := client.Get(ctx, "typed", metav1.GetOptions{}); err != nil || *got.Spec.Replicas != 5 || got.Status.ReadyReplicas != 1 {
			t.Errorf("after scaling: %v, %v", got, err)
		}

		// A VM deployment reads as a Kubernetes Deployment without its VM.
		// Writing that back would drop the VM, so it fails validation
		// instead of changing the workload.
		vms, err := client.Get(ctx, "vms", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get vms: %v", err)
		}
		if len(vms.Spec.Template.Spec.Containers) != 0 || vms.Spec.Template.Labels["app"] != "vms" {
			t.Errorf("vms reads as %+v", vms.Spec.Template)
		}
		vms.Spec.Template.Annotations = map[string]string{"note": "x"}
		if _, err := client.Update(ctx, vms, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
			t.Errorf("updating a VM deployment without its VM: %v, want Invalid", err)
		}
		if d := getDeployment(t, k, "vms"); d.Spec.Template.Spec.VirtualMachine == nil {
			t.Error("the VM deployment lost its VM")
		}

		if err := client.Delete(ctx, "typed", metav1.DeleteOptions{}); err != nil {
			t.Fatalf("delete: %v", err)
		}
		list, err = client.List(ctx, metav1.ListOptions{})
		if err != nil || len(list.Items) != 2 {
			t.Errorf("after delete listed %v, %v", list, err)
		}
	})
}
