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

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	arcv1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/apis/internal/prototest"
)

func vmTemplate() PodTemplateSpec {
	return PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "vm"}},
		Spec: arcv1.PodSpec{
			PodSpec:        corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways},
			VirtualMachine: &arcv1.VirtualMachineSpec{Name: "vm", Image: "local/disk:1", UserData: "#cloud-config\n", PowerState: arcv1.PowerStateRunning},
		},
	}
}

func vmDeployment(name string) Deployment {
	surge := intstr.FromString("25%")
	return Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Generation: 3},
		Spec: DeploymentSpec{
			Replicas: ptr(int32(2)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "vm"}},
			Template: vmTemplate(),
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &surge}},
			MinReadySeconds: 5, RevisionHistoryLimit: ptr(int32(3)), Paused: true, ProgressDeadlineSeconds: ptr(int32(60)),
		},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, ReadyReplicas: 1,
			Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse}}},
	}
}

func vmReplicaSet(name string) ReplicaSet {
	return ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: ReplicaSetSpec{Replicas: ptr(int32(1)), MinReadySeconds: 1,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "vm"}}, Template: vmTemplate()},
		Status: appsv1.ReplicaSetStatus{Replicas: 1, ObservedGeneration: 1},
	}
}

func TestProtobufRoundTrip(t *testing.T) {
	containers := vmDeployment("c")
	containers.Spec.Template.Spec.VirtualMachine = nil
	containers.Spec.Template.Spec.Containers = []corev1.Container{{Name: "c", Image: "busybox"}}
	for _, in := range []Deployment{vmDeployment("vm"), containers} {
		prototest.RoundTrip(t, in)
	}
	prototest.RoundTrip(t, vmReplicaSet("rs"))
}

func TestProtobufInteroperatesWithKubernetes(t *testing.T) {
	in := vmDeployment("vm")
	// A client that knows only the Kubernetes Deployment reads the rest.
	var k appsv1.Deployment
	prototest.Recode(t, &in, &k)
	if k.Name != "vm" || *k.Spec.Replicas != 2 || k.Spec.Template.Labels["app"] != "vm" || !k.Spec.Paused ||
		k.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways || k.Status.ReadyReplicas != 1 {
		t.Errorf("Kubernetes view = %+v", k)
	}
	// What it writes decodes as a deployment without a VM.
	var out Deployment
	prototest.Recode(t, &k, &out)
	if out.Spec.Template.Spec.VirtualMachine != nil || *out.Spec.Replicas != 2 {
		t.Errorf("decoded %+v", out.Spec)
	}

	rs := vmReplicaSet("rs")
	var krs appsv1.ReplicaSet
	if prototest.Recode(t, &rs, &krs); krs.Name != "rs" || krs.Spec.MinReadySeconds != 1 {
		t.Errorf("Kubernetes view of the replica set = %+v", krs)
	}
}

func TestProtobufListRoundTrip(t *testing.T) {
	in := DeploymentList{ListMeta: metav1.ListMeta{ResourceVersion: "42", Continue: "token"},
		Items: []Deployment{vmDeployment("a"), vmDeployment("b")}}
	prototest.RoundTrip(t, in)
	var k appsv1.DeploymentList
	if prototest.Recode(t, &in, &k); len(k.Items) != 2 || k.Items[1].Name != "b" {
		t.Errorf("Kubernetes view of the list = %+v", k)
	}

	prototest.RoundTrip(t, ReplicaSetList{ListMeta: metav1.ListMeta{ResourceVersion: "7"}, Items: []ReplicaSet{vmReplicaSet("a")}})
}

func TestProtobufRejectsGarbage(t *testing.T) {
	var d Deployment
	if err := d.Unmarshal([]byte{0x12, 0xff, 0xff}); err == nil {
		t.Error("malformed bytes decoded")
	}
	// A well-formed Kubernetes message whose extension is not JSON.
	data, _ := (&appsv1.Deployment{}).Marshal()
	data, _ = appendVM(data, &arcv1.VirtualMachineSpec{})
	data[len(data)-1] = '!'
	if err := d.Unmarshal(data); err == nil {
		t.Error("a malformed virtual machine decoded")
	}
}
