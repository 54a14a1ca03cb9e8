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
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
	"github.com/arcturus-cloud/arcturus/test/framework"
)

// TestMetalKinds drives the metal kinds with stock kubectl as the system
// admin, and checks that a tenant, even its admin, cannot reach them.
func TestMetalKinds(t *testing.T) {
	s := framework.StartServer(t)
	s.CreateTenant(t, acme)
	k := kubectl{kubeconfig: s.AdminKubeconfigPath()}
	k.run(t, "apply", "-f", writeFile(t, "server.yaml", `apiVersion: metal.arcturus.io/v1alpha1
kind: Server
metadata:
  name: 4c4c4544-0044-3010-8036-b4c04f4e4e32
spec:
  accepted: true
  bmc:
    ipmi: {address: 10.0.0.5}
    credentialsRef: {name: bmc, namespace: default}
  hardware:
    system: {manufacturer: Dell Inc., productName: PowerEdge R650}
    compute: {totalThreadCount: 64}
    memory: {total: 256Gi}
    storage: {disks: [{name: nvme0n1, size: 3840Gi}, {name: nvme1n1, size: 3840Gi}]}
---
apiVersion: metal.arcturus.io/v1alpha1
kind: ServerClass
metadata:
  name: big
spec:
  qualifiers: [{minThreads: 32, minMemory: 128Gi}]
`))
	expectContains(t, k.run(t, "get", "servers", "-o", "wide"),
		"ACCEPTED", "CLEAN", "POWER", "PRODUCT", "Dell Inc. PowerEdge R650", "64", "256Gi", "3840Gi,3840Gi", "ipmi://10.0.0.5:623")
	expectContains(t, k.run(t, "get", "srv,sc", "-o", "name"), "server.metal.arcturus.io/4c4c4544", "serverclass.metal.arcturus.io/big")
	expectContains(t, k.run(t, "explain", "server.spec.bootFromDiskMethod"), "ipxe-exit")
	expectContains(t, k.fail(t, "create", "-f", writeFile(t, "bad.yaml", `apiVersion: metal.arcturus.io/v1alpha1
kind: Server
metadata: {name: bad}
spec:
  bootFromDiskMethod: floppy
  bmc: {redfish: {endpoint: "ftp://x"}, ipmi: {address: x}}
`)), "spec.bootFromDiskMethod", "spec.bmc", "not both", "must be an http or https URL")

	tenantAdmin := framework.Dynamic(t, s.TenantAdmin(t, acme, user))
	for _, resource := range []string{"servers", "serverclasses", "environments", "serverbindings"} {
		_, err := tenantAdmin.Resource(metalv1alpha1.SchemeGroupVersion.WithResource(resource)).List(context.Background(), metav1.ListOptions{})
		if err == nil || !(apierrors.IsForbidden(err) || apierrors.IsNotFound(err)) {
			t.Errorf("a tenant admin listed %s: %v, want Forbidden or NotFound", resource, err)
		}
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "metal.arcturus.io/v1alpha1", "kind": "Server", "metadata": map[string]any{"name": "mine"},
	}}
	if _, err := tenantAdmin.Resource(metalv1alpha1.SchemeGroupVersion.WithResource("servers")).Create(context.Background(), obj, metav1.CreateOptions{}); err == nil {
		t.Error("a tenant admin created a Server")
	}
}
