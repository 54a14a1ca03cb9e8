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
	"net/http"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"github.com/arcturus-cloud/arcturus/test/framework"
)

// The fuzz tests send random bodies to the server: it must answer every one
// of them without a server error, and keep serving. Plain 'go test' runs
// only their seeds; 'go test -fuzz FuzzCreateBody ./test/integration' fuzzes.

// fuzzNamespace holds the objects the fuzz tests create and patch.
const fuzzNamespace = "fuzz"

// fuzzTarget is a server, and the admin of a tenant on it whose namespace
// fuzzNamespace holds a config map and a pod named target.
type fuzzTarget struct {
	server *framework.Server
	config *rest.Config
}

func startFuzzTarget(f *testing.F) fuzzTarget {
	f.Helper()
	s := framework.StartServer(f)
	s.CreateTenant(f, acme)
	cfg := s.TenantAdmin(f, acme, user)
	client := typed(f, cfg).CoreV1()
	ctx := context.Background()
	if _, err := client.Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fuzzNamespace}}, metav1.CreateOptions{}); err != nil {
		f.Fatal(err)
	}
	if _, err := client.ConfigMaps(fuzzNamespace).Create(ctx, configMap(fuzzNamespace, "target", map[string]string{"a": "1"}), metav1.CreateOptions{}); err != nil {
		f.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "target"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "busybox"}}},
	}
	if _, err := client.Pods(fuzzNamespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		f.Fatal(err)
	}
	return fuzzTarget{server: s, config: cfg}
}

// send sends a request and checks that the server answered it without a
// server error and still serves.
func (ft fuzzTarget) send(t *testing.T, method, path, contentType string, body []byte) {
	t.Helper()
	if r := do(t, ft.config, method, path, contentType, body); r.code >= 500 {
		t.Errorf("%s %s (%s) answered %d: %.500s\nbody: %q", method, path, contentType, r.code, r.body, body)
	}
	expectReady(t, ft.server)
}

// pick chooses one of options by a fuzzed byte.
func pick(options []string, b uint8) string { return options[int(b)%len(options)] }

var createContentTypes = []string{runtime.ContentTypeJSON, runtime.ContentTypeYAML, runtime.ContentTypeCBOR, "text/plain", ""}

func FuzzCreateBody(f *testing.F) {
	for i, seed := range []string{
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"seed"},"data":{"a":"b"}}`,
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"seed"},"spec":{"containers":[{"name":"main","image":"busybox"}]}}`,
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"vm"},"spec":{"virtualMachine":{"image":"example.com/disk:1","userData":"#cloud-config"}}}`,
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"kernel"},"spec":{"virtualMachine":{"kernel":{"kernel":""},"resources":{"requests":{"cpu":"-1"}}}}}`,
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"deadline"},"spec":{"activeDeadlineSeconds":1e400,"containers":[]}}`,
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"foreign","annotations":{"arcturus.io/tenant":"beta"}}}`,
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"gen-","namespace":"other"}}`,
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ünïcödé"}}`,
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup","name":"dup2"},"data":{"a":"1","a":"2"}}`,
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: yaml\ndata:\n  a: b\n",
		"{", "", "null", "[]", "\"\"", strings.Repeat("[", 10000), strings.Repeat(`{"a":`, 5000),
	} {
		f.Add([]byte(seed), uint8(i))
	}
	ft := startFuzzTarget(f)
	f.Fuzz(func(t *testing.T, body []byte, contentType uint8) {
		for _, resource := range []string{"configmaps", "pods"} {
			ft.send(t, http.MethodPost, "/api/v1/namespaces/"+fuzzNamespace+"/"+resource, pick(createContentTypes, contentType), body)
		}
	})
}

var patchContentTypes = []string{
	string(types.MergePatchType), string(types.JSONPatchType), string(types.StrategicMergePatchType), string(types.ApplyYAMLPatchType),
}

func FuzzPatchBody(f *testing.F) {
	for _, seed := range []struct {
		patchType types.PatchType
		body      string
	}{
		{types.MergePatchType, `{"data":{"a":"b"}}`},
		{types.MergePatchType, `{"metadata":{"annotations":{"arcturus.io/tenant":"beta"}}}`},
		{types.MergePatchType, `{"metadata":{"annotations":{"arcturus.io/tenant":null},"uid":"other"}}`},
		{types.MergePatchType, `{"spec":{"virtualMachine":{"image":"example.com/disk:1"}}}`},
		{types.JSONPatchType, `[{"op":"add","path":"/data/x","value":"y"}]`},
		{types.JSONPatchType, `[{"op":"remove","path":"/metadata"}]`},
		{types.JSONPatchType, `[{"op":"replace","path":"/metadata/name","value":"other"}]`},
		{types.JSONPatchType, `[{"op":"move","from":"/spec","path":"/data"},{"op":"copy","from":"/","path":"/x"}]`},
		{types.StrategicMergePatchType, `{"spec":{"containers":[{"name":"main","image":"busybox:2"}]}}`},
		{types.StrategicMergePatchType, `{"spec":{"$setElementOrder/containers":[{"name":"x"}],"containers":[{"$patch":"delete","name":"main"}]}}`},
		{types.StrategicMergePatchType, `{"$patch":"replace","data":{"a":"b"}}`},
		{types.ApplyYAMLPatchType, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: target\ndata:\n  a: applied\n"},
		{types.ApplyYAMLPatchType, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: target\nspec:\n  virtualMachine: {}\n"},
		{types.ApplyYAMLPatchType, ":::"},
		{types.MergePatchType, "null"},
		{types.JSONPatchType, ""},
		{types.StrategicMergePatchType, strings.Repeat("[", 10000)},
	} {
		f.Add([]byte(seed.body), uint8(slices.Index(patchContentTypes, string(seed.patchType))))
	}
	ft := startFuzzTarget(f)
	f.Fuzz(func(t *testing.T, body []byte, patchType uint8) {
		for _, target := range []string{"configmaps/target", "pods/target"} {
			path := "/api/v1/namespaces/" + fuzzNamespace + "/" + target + "?fieldManager=fuzz&force=true"
			ft.send(t, http.MethodPatch, path, pick(patchContentTypes, patchType), body)
		}
	})
}
