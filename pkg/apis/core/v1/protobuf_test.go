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

package v1

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arcturus-cloud/arcturus/pkg/apis/internal/prototest"
)

func vmPod(name string) Pod {
	mem := resource.MustParse("512Mi")
	return Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "vm"}},
		Spec: PodSpec{
			PodSpec:        corev1.PodSpec{NodeName: "n1", RestartPolicy: corev1.RestartPolicyAlways},
			VirtualMachine: &VirtualMachineSpec{Name: "vm", Image: "local/disk:1", UserData: "#cloud-config\n", PowerState: PowerStateRunning},
		},
		Status: PodStatus{
			PodStatus:            corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.2"},
			VirtualMachineStatus: &VirtualMachineStatus{Name: "vm", State: VirtualMachineRunning, CPUs: 2, Memory: &mem, Ready: true},
		},
	}
}

func TestPodProtobufRoundTrip(t *testing.T) {
	container := Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "default"},
		Spec:       PodSpec{PodSpec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}},
	}
	for _, in := range []Pod{vmPod("vm"), container} {
		prototest.RoundTrip(t, in)
	}
}

func TestPodProtobufInteroperatesWithKubernetesPod(t *testing.T) {
	in := vmPod("vm")
	// A client that knows only the Kubernetes Pod reads everything else.
	var k corev1.Pod
	prototest.Recode(t, &in, &k)
	if k.Name != "vm" || k.Spec.NodeName != "n1" || k.Status.PodIP != "10.0.0.2" {
		t.Errorf("Kubernetes view = %+v", k)
	}
	// And what it writes decodes as a pod without a VM.
	var out Pod
	prototest.Recode(t, &k, &out)
	if out.Spec.VirtualMachine != nil || out.Spec.NodeName != "n1" {
		t.Errorf("decoded %+v", out.Spec)
	}
}

func TestPodListProtobufRoundTrip(t *testing.T) {
	in := PodList{ListMeta: metav1.ListMeta{ResourceVersion: "42", Continue: "token"}, Items: []Pod{vmPod("a"), vmPod("b")}}
	prototest.RoundTrip(t, in)
	var k corev1.PodList
	if prototest.Recode(t, &in, &k); len(k.Items) != 2 || k.Items[1].Name != "b" {
		t.Errorf("Kubernetes view of the list = %+v", k)
	}
}

func TestPodProtobufRejectsGarbage(t *testing.T) {
	var p Pod
	if err := p.Unmarshal([]byte{0x12, 0xff, 0xff}); err == nil {
		t.Error("malformed bytes decoded")
	}
}
