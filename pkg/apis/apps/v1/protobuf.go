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
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	arcv1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/apis/internal/protoenc"
)

// Deployments and ReplicaSets travel in protobuf as their Kubernetes
// counterparts, so that client-go's typed apps client, which sends and asks
// for protobuf, reads and writes them unchanged. A VM template's
// virtualMachine rides in field 1000 of the template's PodSpec, as it does
// in a pod's (pkg/apis/core/v1/protobuf.go): the JSON of the VM spec, which
// Kubernetes clients skip as an unknown field. It is appended after the
// Kubernetes fields as a second occurrence of spec.template.spec, which
// protobuf decoders merge into the first.
//
// A Kubernetes client that updates a VM workload drops the VM, and then the
// update fails validation (a template needs containers or a VM) rather than
// silently turning the VM into nothing.
const (
	specField      protowire.Number = 2 // Deployment.spec, ReplicaSet.spec
	templateField  protowire.Number = 3 // DeploymentSpec.template, ReplicaSetSpec.template
	podSpecField   protowire.Number = 2 // PodTemplateSpec.spec
	extensionField protowire.Number = 1000
)

// templateVMPath leads from a Deployment or ReplicaSet to the extension.
var templateVMPath = []protowire.Number{specField, templateField, podSpecField, extensionField}

func kubernetesTemplate(t *PodTemplateSpec) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: t.ObjectMeta, Spec: t.Spec.PodSpec}
}

func (d *Deployment) kubernetes() *appsv1.Deployment {
	s := &d.Spec
	return &appsv1.Deployment{
		ObjectMeta: d.ObjectMeta,
		Spec: appsv1.DeploymentSpec{
			Replicas: s.Replicas, Selector: s.Selector, Template: kubernetesTemplate(&s.Template),
			Strategy: s.Strategy, MinReadySeconds: s.MinReadySeconds, RevisionHistoryLimit: s.RevisionHistoryLimit,
			Paused: s.Paused, ProgressDeadlineSeconds: s.ProgressDeadlineSeconds,
		},
		Status: d.Status,
	}
}

// Reset clears the deployment before it is decoded into.
func (d *Deployment) Reset() { *d = Deployment{} }

// Marshal encodes the deployment as a Kubernetes Deployment plus the VM of
// its template.
func (d *Deployment) Marshal() ([]byte, error) {
	data, err := d.kubernetes().Marshal()
	if err != nil {
		return nil, err
	}
	return appendVM(data, d.Spec.Template.Spec.VirtualMachine)
}

// Unmarshal decodes a Kubernetes Deployment and the VM of its template, if any.
func (d *Deployment) Unmarshal(data []byte) error {
	var k appsv1.Deployment
	if err := k.Unmarshal(data); err != nil {
		return err
	}
	s := k.Spec
	*d = Deployment{
		ObjectMeta: k.ObjectMeta,
		Spec: DeploymentSpec{
			Replicas: s.Replicas, Selector: s.Selector,
			Template: PodTemplateSpec{ObjectMeta: s.Template.ObjectMeta, Spec: arcv1.PodSpec{PodSpec: s.Template.Spec}},
			Strategy: s.Strategy, MinReadySeconds: s.MinReadySeconds, RevisionHistoryLimit: s.RevisionHistoryLimit,
			Paused: s.Paused, ProgressDeadlineSeconds: s.ProgressDeadlineSeconds,
		},
		Status: k.Status,
	}
	return decodeVM(data, &d.Spec.Template.Spec.VirtualMachine)
}

func (rs *ReplicaSet) kubernetes() *appsv1.ReplicaSet {
	s := &rs.Spec
	return &appsv1.ReplicaSet{
		ObjectMeta: rs.ObjectMeta,
		Spec: appsv1.ReplicaSetSpec{
			Replicas: s.Replicas, MinReadySeconds: s.MinReadySeconds, Selector: s.Selector,
			Template: kubernetesTemplate(&s.Template),
		},
		Status: rs.Status,
	}
}

// Reset clears the replica set before it is decoded into.
func (rs *ReplicaSet) Reset() { *rs = ReplicaSet{} }

// Marshal encodes the replica set as a Kubernetes ReplicaSet plus the VM of
// its template.
func (rs *ReplicaSet) Marshal() ([]byte, error) {
	data, err := rs.kubernetes().Marshal()
	if err != nil {
		return nil, err
	}
	return appendVM(data, rs.Spec.Template.Spec.VirtualMachine)
}

// Unmarshal decodes a Kubernetes ReplicaSet and the VM of its template, if any.
func (rs *ReplicaSet) Unmarshal(data []byte) error {
	var k appsv1.ReplicaSet
	if err := k.Unmarshal(data); err != nil {
		return err
	}
	s := k.Spec
	*rs = ReplicaSet{
		ObjectMeta: k.ObjectMeta,
		Spec: ReplicaSetSpec{
			Replicas: s.Replicas, MinReadySeconds: s.MinReadySeconds, Selector: s.Selector,
			Template: PodTemplateSpec{ObjectMeta: s.Template.ObjectMeta, Spec: arcv1.PodSpec{PodSpec: s.Template.Spec}},
		},
		Status: k.Status,
	}
	return decodeVM(data, &rs.Spec.Template.Spec.VirtualMachine)
}

// Reset clears the list before it is decoded into.
func (l *DeploymentList) Reset() { *l = DeploymentList{} }

// Marshal encodes the list as a Kubernetes DeploymentList.
func (l *DeploymentList) Marshal() ([]byte, error) {
	return protoenc.MarshalList(&l.ListMeta, l.Items)
}

// Unmarshal decodes a Kubernetes DeploymentList.
func (l *DeploymentList) Unmarshal(data []byte) error {
	return protoenc.UnmarshalList(data, &l.ListMeta, &l.Items)
}

// Reset clears the list before it is decoded into.
func (l *ReplicaSetList) Reset() { *l = ReplicaSetList{} }

// Marshal encodes the list as a Kubernetes ReplicaSetList.
func (l *ReplicaSetList) Marshal() ([]byte, error) {
	return protoenc.MarshalList(&l.ListMeta, l.Items)
}

// Unmarshal decodes a Kubernetes ReplicaSetList.
func (l *ReplicaSetList) Unmarshal(data []byte) error {
	return protoenc.UnmarshalList(data, &l.ListMeta, &l.Items)
}

// appendVM appends the template's VM, if any, to an encoded Deployment or
// ReplicaSet, nested in the messages that lead to it.
func appendVM(data []byte, vm *arcv1.VirtualMachineSpec) ([]byte, error) {
	if vm == nil {
		return data, nil
	}
	payload, err := json.Marshal(vm)
	if err != nil {
		return nil, fmt.Errorf("encoding the template's virtual machine: %w", err)
	}
	for i := len(templateVMPath) - 1; i >= 0; i-- {
		payload = protowire.AppendBytes(protowire.AppendTag(nil, templateVMPath[i], protowire.BytesType), payload)
	}
	return append(data, payload...), nil
}

// decodeVM reads the template's VM from an encoded Deployment or ReplicaSet.
// Every occurrence of each message on the path is searched, since protobuf
// merges repeated occurrences; the last VM found wins, as it would there.
func decodeVM(data []byte, vm **arcv1.VirtualMachineSpec) error {
	var payload []byte
	var walk func(message []byte, path []protowire.Number) error
	walk = func(message []byte, path []protowire.Number) error {
		return protoenc.EachField(message, func(num protowire.Number, value []byte) error {
			switch {
			case num != path[0]:
				return nil
			case len(path) == 1:
				payload = value
				return nil
			default:
				return walk(value, path[1:])
			}
		})
	}
	if err := walk(data, templateVMPath); err != nil {
		return err
	}
	if payload == nil {
		return nil
	}
	*vm = new(arcv1.VirtualMachineSpec)
	if err := json.Unmarshal(payload, *vm); err != nil {
		return fmt.Errorf("decoding the template's virtual machine: %w", err)
	}
	return nil
}
