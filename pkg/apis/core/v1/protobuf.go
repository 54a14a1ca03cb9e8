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
	listMetaField  protowire.Number = 1 // PodList.metadata
	listItemsField protowire.Number = 2 // PodList.items
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
	return eachField(data, func(num protowire.Number, value []byte) error {
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
	meta, err := l.ListMeta.Marshal()
	if err != nil {
		return nil, err
	}
	data := protowire.AppendTag(nil, listMetaField, bytesType)
	data = protowire.AppendBytes(data, meta)
	for i := range l.Items {
		item, err := l.Items[i].Marshal()
		if err != nil {
			return nil, err
		}
		data = protowire.AppendTag(data, listItemsField, bytesType)
		data = protowire.AppendBytes(data, item)
	}
	return data, nil
}

// Unmarshal decodes a Kubernetes PodList of superset pods.
func (l *PodList) Unmarshal(data []byte) error {
	return eachField(data, func(num protowire.Number, value []byte) error {
		switch num {
		case listMetaField:
			return l.ListMeta.Unmarshal(value)
		case listItemsField:
			var pod Pod
			if err := pod.Unmarshal(value); err != nil {
				return err
			}
			l.Items = append(l.Items, pod)
		}
		return nil
	})
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
	return eachField(message, func(num protowire.Number, value []byte) error {
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

// eachField calls fn with every length-delimited field of a message and
// skips the others.
func eachField(data []byte, fn func(protowire.Number, []byte) error) error {
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return fmt.Errorf("malformed protobuf tag: %w", protowire.ParseError(n))
		}
		data = data[n:]
		if typ != bytesType {
			n = protowire.ConsumeFieldValue(num, typ, data)
			if n < 0 {
				return fmt.Errorf("malformed protobuf field %d: %w", num, protowire.ParseError(n))
			}
			data = data[n:]
			continue
		}
		value, n := protowire.ConsumeBytes(data)
		if n < 0 {
			return fmt.Errorf("malformed protobuf field %d: %w", num, protowire.ParseError(n))
		}
		if err := fn(num, value); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}
