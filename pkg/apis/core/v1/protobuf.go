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
	corev1 "k8s.io/api/core/v1"

	"github.com/arcturus-cloud/arcturus/pkg/apis/internal/protoenc"
)

// The superset Pod travels in protobuf as a Kubernetes Pod, so clients built
// on k8s.io/api read and write it unchanged. The virtual machine rides in
// one extra field of PodSpec and of PodStatus, which those clients skip as
// unknown. Its payload is the JSON encoding of the extension, so the
// extension needs no .proto schema of its own.
const (
	podSpecField   protowire.Number = 2 // Pod.spec
	podStatusField protowire.Number = 3 // Pod.status
	extensionField protowire.Number = 1000
	bytesType                       = protowire.BytesType
)

func (p *Pod) kubernetesPod() *corev1.Pod {
	return &corev1.Pod{ObjectMeta: p.ObjectMeta, Spec: p.Spec.PodSpec, Status: p.Status.PodStatus}
}

// Reset clears the pod before it is decoded into.
func (p *Pod) Reset() { *p = Pod{} }

// Marshal encodes the pod as a Kubernetes Pod plus the VM extension.
func (p *Pod) Marshal() ([]byte, error) {
	data, err := p.kubernetesPod().Marshal()
	if err != nil {
		return nil, err
	}
	// A message field that appears twice is merged by protobuf decoders, so
	// the extension can follow the Kubernetes fields.
	if data, err = appendExtension(data, podSpecField, p.Spec.VirtualMachine); err != nil {
		return nil, err
	}
	return appendExtension(data, podStatusField, p.Status.VirtualMachineStatus)
}

// Unmarshal decodes a Kubernetes Pod and the VM extension, if present.
func (p *Pod) Unmarshal(data []byte) error {
	var k corev1.Pod
	if err := k.Unmarshal(data); err != nil {
		return err
	}
	p.ObjectMeta, p.Spec.PodSpec, p.Status.PodStatus = k.ObjectMeta, k.Spec, k.Status
	return protoenc.EachField(data, func(num protowire.Number, value []byte) error {
		switch num {
		case podSpecField:
			return decodeExtension(value, &p.Spec.VirtualMachine)
		case podStatusField:
			return decodeExtension(value, &p.Status.VirtualMachineStatus)
		}
		return nil
	})
}

// Reset clears the list before it is decoded into.
func (l *PodList) Reset() { *l = PodList{} }

// Marshal encodes the list as a Kubernetes PodList of superset pods.
func (l *PodList) Marshal() ([]byte, error) {
	return protoenc.MarshalList(&l.ListMeta, l.Items)
}

// Unmarshal decodes a Kubernetes PodList of superset pods.
func (l *PodList) Unmarshal(data []byte) error {
	return protoenc.UnmarshalList(data, &l.ListMeta, &l.Items)
}

func appendExtension[T any](data []byte, field protowire.Number, ext *T) ([]byte, error) {
	if ext == nil {
		return data, nil
	}
	payload, err := json.Marshal(ext)
	if err != nil {
		return nil, fmt.Errorf("encoding pod extension: %w", err)
	}
	inner := protowire.AppendTag(nil, extensionField, bytesType)
	inner = protowire.AppendBytes(inner, payload)
	data = protowire.AppendTag(data, field, bytesType)
	return protowire.AppendBytes(data, inner), nil
}

// decodeExtension reads the extension field of an encoded PodSpec or
// PodStatus into *ext; a message without one leaves *ext alone, because the
// field may come in another occurrence of the same message.
func decodeExtension[T any](message []byte, ext **T) error {
	return protoenc.EachField(message, func(num protowire.Number, value []byte) error {
		if num != extensionField {
			return nil
		}
		*ext = new(T)
		if err := json.Unmarshal(value, *ext); err != nil {
			return fmt.Errorf("decoding pod extension: %w", err)
		}
		return nil
	})
}
