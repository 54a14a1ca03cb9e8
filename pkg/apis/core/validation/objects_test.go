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

package validation

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func objectMeta(name, namespace string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: namespace, ResourceVersion: "1"}
}

func TestValidateNamespace(t *testing.T) {
	cases := []struct {
		name       string
		nsName     string
		finalizers []corev1.FinalizerName
		want       []want
	}{
		{name: "valid", nsName: "team-a", finalizers: []corev1.FinalizerName{"kubernetes", "example.com/cleanup"}},
		{name: "name not a DNS label", nsName: "team.a", want: []want{{field.ErrorTypeInvalid, "metadata.name", "must not contain dots"}}},
		{name: "unqualified finalizer", nsName: "team-a", finalizers: []corev1.FinalizerName{"cleanup"},
			want: []want{{field.ErrorTypeInvalid, "spec.finalizers[0]", "neither a standard finalizer name nor is it fully qualified"}}},
		{name: "bad finalizer", nsName: "team-a", finalizers: []corev1.FinalizerName{"example.com/a/b"},
			want: []want{{field.ErrorTypeInvalid, "spec.finalizers[0]", "valid label key"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := &corev1.Namespace{ObjectMeta: objectMeta(tc.nsName, ""), Spec: corev1.NamespaceSpec{Finalizers: tc.finalizers}}
			expect(t, ValidateNamespace(ns), tc.want...)
			expect(t, ValidateNamespaceUpdate(ns, ns.DeepCopy()), tc.want...)
		})
	}
}

func TestValidateConfigMap(t *testing.T) {
	cases := []struct {
		name   string
		data   map[string]string
		binary map[string][]byte
		want   []want
	}{
		{name: "valid", data: map[string]string{"app.yaml": "a: 1"}, binary: map[string][]byte{"logo.png": {1, 2}}},
		{name: "exactly 1 MiB", data: map[string]string{"a": strings.Repeat("x", MaxSecretSize-1)}, binary: map[string][]byte{"b": {1}}},
		{name: "over 1 MiB", data: map[string]string{"a": strings.Repeat("x", MaxSecretSize)}, binary: map[string][]byte{"b": {1}},
			want: []want{{field.ErrorTypeTooLong, "data", "1048576"}}},
		{name: "bad key", data: map[string]string{"a/b": "x"}, want: []want{{field.ErrorTypeInvalid, "data[a/b]", "valid config key"}}},
		{name: "key in both maps", data: map[string]string{"a": "x"}, binary: map[string][]byte{"a": {1}},
			want: []want{{field.ErrorTypeInvalid, "data[a]", "duplicate of key present in binaryData"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cm := &corev1.ConfigMap{ObjectMeta: objectMeta("cfg", "default"), Data: tc.data, BinaryData: tc.binary}
			expect(t, ValidateConfigMap(cm), tc.want...)
		})
	}
}

func TestValidateConfigMapUpdateImmutable(t *testing.T) {
	immutable := true
	oldCM := &corev1.ConfigMap{ObjectMeta: objectMeta("cfg", "default"), Data: map[string]string{"a": "1"}, Immutable: &immutable}

	relabeled := oldCM.DeepCopy()
	relabeled.Labels = map[string]string{"team": "a"}
	expect(t, ValidateConfigMapUpdate(relabeled, oldCM))

	changed := oldCM.DeepCopy()
	changed.Data["a"] = "2"
	changed.BinaryData = map[string][]byte{"b": {1}}
	changed.Immutable = nil
	expect(t, ValidateConfigMapUpdate(changed, oldCM),
		want{field.ErrorTypeForbidden, "immutable", "immutable"},
		want{field.ErrorTypeForbidden, "data", "immutable"},
		want{field.ErrorTypeForbidden, "binaryData", "immutable"})

	mutable := oldCM.DeepCopy()
	mutable.Immutable = nil
	expect(t, ValidateConfigMapUpdate(changed, mutable))
}

func TestValidateSecret(t *testing.T) {
	cases := []struct {
		name        string
		typ         corev1.SecretType
		annotations map[string]string
		data        map[string][]byte
		stringData  map[string]string
		want        []want
	}{
		{name: "opaque", typ: corev1.SecretTypeOpaque, data: map[string][]byte{"password": []byte("s3cret")}},
		{name: "over 1 MiB with stringData", typ: corev1.SecretTypeOpaque,
			data: map[string][]byte{"a": make([]byte, MaxSecretSize)}, stringData: map[string]string{"b": "x"},
			want: []want{{field.ErrorTypeTooLong, "data", "1048576"}}},
		{name: "bad keys", typ: corev1.SecretTypeOpaque, data: map[string][]byte{"..": nil}, stringData: map[string]string{"a b": "x"},
			want: []want{{field.ErrorTypeInvalid, "data[..]", "'..'"}, {field.ErrorTypeInvalid, "stringData[a b]", "valid config key"}}},
		{name: "service account token", typ: corev1.SecretTypeServiceAccountToken,
			annotations: map[string]string{corev1.ServiceAccountNameKey: "builder"}},
		{name: "service account token without account", typ: corev1.SecretTypeServiceAccountToken,
			want: []want{{field.ErrorTypeRequired, "metadata.annotations[kubernetes.io/service-account.name]", ""}}},
		{name: "docker config", typ: corev1.SecretTypeDockerConfigJson,
			data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`)}},
		{name: "docker config missing", typ: corev1.SecretTypeDockerConfigJson,
			want: []want{{field.ErrorTypeRequired, "data[.dockerconfigjson]", ""}}},
		{name: "docker config not JSON", typ: corev1.SecretTypeDockerConfigJson,
			stringData: map[string]string{corev1.DockerConfigJsonKey: "{"},
			want:       []want{{field.ErrorTypeInvalid, "data[.dockerconfigjson]", "JSON"}}},
		{name: "TLS from stringData", typ: corev1.SecretTypeTLS,
			data: map[string][]byte{corev1.TLSCertKey: []byte("cert")}, stringData: map[string]string{corev1.TLSPrivateKeyKey: "key"}},
		{name: "TLS without key", typ: corev1.SecretTypeTLS, data: map[string][]byte{corev1.TLSCertKey: []byte("cert")},
			want: []want{{field.ErrorTypeRequired, "data[tls.key]", ""}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &corev1.Secret{ObjectMeta: objectMeta("creds", "default"), Type: tc.typ, Data: tc.data, StringData: tc.stringData}
			s.Annotations = tc.annotations
			expect(t, ValidateSecret(s), tc.want...)
		})
	}
}

func TestValidateSecretUpdate(t *testing.T) {
	immutable := true
	oldSecret := &corev1.Secret{ObjectMeta: objectMeta("creds", "default"), Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{"a": []byte("1")}}

	retyped := oldSecret.DeepCopy()
	retyped.Type = "example.com/custom"
	expect(t, ValidateSecretUpdate(retyped, oldSecret), want{field.ErrorTypeInvalid, "type", "field is immutable"})

	frozen := oldSecret.DeepCopy()
	frozen.Immutable = &immutable
	changed := frozen.DeepCopy()
	changed.Data["a"] = []byte("2")
	changed.StringData = map[string]string{"b": "x"}
	expect(t, ValidateSecretUpdate(changed, frozen),
		want{field.ErrorTypeForbidden, "data", "immutable"},
		want{field.ErrorTypeForbidden, "stringData", "immutable"})
	expect(t, ValidateSecretUpdate(changed, oldSecret))
}

func TestValidateServiceAccount(t *testing.T) {
	expect(t, ValidateServiceAccount(&corev1.ServiceAccount{ObjectMeta: objectMeta("builder", "default")}))
	expect(t, ValidateServiceAccount(&corev1.ServiceAccount{ObjectMeta: objectMeta("Builder", "")}),
		want{field.ErrorTypeInvalid, "metadata.name", "RFC 1123"},
		want{field.ErrorTypeRequired, "metadata.namespace", ""})
	sa := &corev1.ServiceAccount{ObjectMeta: objectMeta("builder", "default")}
	renamed := sa.DeepCopy()
	renamed.Name = "other"
	expect(t, ValidateServiceAccountUpdate(renamed, sa), want{field.ErrorTypeInvalid, "metadata.name", "immutable"})
}

func TestValidateEvent(t *testing.T) {
	event := func(involvedNamespace, reason, message string) *corev1.Event {
		return &corev1.Event{ObjectMeta: objectMeta("web.17f3a", "default"), Reason: reason, Message: message,
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web", Namespace: involvedNamespace}}
	}
	expect(t, ValidateEvent(event("default", "Scheduled", "assigned default/web to node-a")))
	// Events about cluster-scoped objects have no involved namespace.
	expect(t, ValidateEvent(event("", "NodeReady", "")))
	expect(t, ValidateEvent(event("other", strings.Repeat("r", ReasonLengthLimit+1), strings.Repeat("m", MessageLengthLimit+1))),
		want{field.ErrorTypeInvalid, "involvedObject.namespace", "does not match event.namespace"},
		want{field.ErrorTypeTooLong, "reason", "128"},
		want{field.ErrorTypeTooLong, "message", "1024"})
	expect(t, ValidateEvent(event("", strings.Repeat("r", ReasonLengthLimit), strings.Repeat("m", MessageLengthLimit))))
}

func TestValidateNode(t *testing.T) {
	node := func() *corev1.Node {
		return &corev1.Node{ObjectMeta: objectMeta("node-a.example.com", ""),
			Spec: corev1.NodeSpec{
				PodCIDR:  "10.244.1.0/24",
				PodCIDRs: []string{"10.244.1.0/24", "fd00:1::/64"},
				Taints:   []corev1.Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}},
			},
			Status: corev1.NodeStatus{Capacity: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("110")}},
		}
	}
	expect(t, ValidateNode(node()))

	bad := node()
	bad.Namespace = "default"
	bad.Spec.PodCIDR = "10.244.2.0/24"
	bad.Spec.PodCIDRs = []string{"10.244.1.0/24", "10.245.1.0/24", "nonsense"}
	bad.Spec.Taints = append(bad.Spec.Taints,
		corev1.Taint{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule},
		corev1.Taint{Key: "gpu", Effect: "Sometimes"},
		corev1.Taint{Value: "x"})
	bad.Status.Capacity[corev1.ResourceMemory] = resource.MustParse("-1Gi")
	expect(t, ValidateNode(bad),
		want{field.ErrorTypeForbidden, "metadata.namespace", "not allowed"},
		want{field.ErrorTypeDuplicate, "spec.taints[1]", ""},
		want{field.ErrorTypeNotSupported, "spec.taints[2].effect", ""},
		want{field.ErrorTypeRequired, "spec.taints[3].key", ""},
		want{field.ErrorTypeRequired, "spec.taints[3].effect", ""},
		want{field.ErrorTypeInvalid, "spec.podCIDRs[1]", "one CIDR for each IP family"},
		want{field.ErrorTypeInvalid, "spec.podCIDRs[2]", "CIDR"},
		want{field.ErrorTypeInvalid, "spec.podCIDR", "must match spec.podCIDRs[0]"},
		want{field.ErrorTypeInvalid, "status.capacity[memory]", "greater than or equal to 0"})
}

func TestValidateNodeUpdate(t *testing.T) {
	unassigned := &corev1.Node{ObjectMeta: objectMeta("node-a", "")}
	assigned := unassigned.DeepCopy()
	assigned.Spec.PodCIDR = "10.244.1.0/24"
	assigned.Spec.PodCIDRs = []string{"10.244.1.0/24"}
	assigned.Spec.ProviderID = "metal://rack1/slot4"
	expect(t, ValidateNodeUpdate(assigned, unassigned))

	moved := assigned.DeepCopy()
	moved.Spec.PodCIDR = "10.244.9.0/24"
	moved.Spec.PodCIDRs = []string{"10.244.9.0/24"}
	moved.Spec.ProviderID = "metal://rack2/slot1"
	expect(t, ValidateNodeUpdate(moved, assigned),
		want{field.ErrorTypeForbidden, "spec.podCIDRs", "may not change podCIDR"},
		want{field.ErrorTypeForbidden, "spec.podCIDR", "may not change podCIDR"},
		want{field.ErrorTypeForbidden, "spec.providerID", "may not change providerID"})
}
