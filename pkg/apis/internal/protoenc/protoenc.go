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

// Package protoenc reads and writes the protobuf wire format of the
// superset types (Pods, Deployments, ReplicaSets), which travel as their
// Kubernetes counterparts plus extension fields: the field walk and the
// list encoding they share.
package protoenc

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

const (
	listMetaField  protowire.Number = 1 // List.metadata
	listItemsField protowire.Number = 2 // List.items
)

// Item is a list item: a value type whose pointer encodes itself.
type Item[T any] interface {
	*T
	Marshal() ([]byte, error)
	Unmarshal([]byte) error
}

// MarshalList encodes a list as Kubernetes does: its metadata, then each
// item, so that a client of the Kubernetes list type reads it.
func MarshalList[T any, P Item[T]](meta interface{ Marshal() ([]byte, error) }, items []T) ([]byte, error) {
	m, err := meta.Marshal()
	if err != nil {
		return nil, err
	}
	data := protowire.AppendTag(nil, listMetaField, protowire.BytesType)
	data = protowire.AppendBytes(data, m)
	for i := range items {
		item, err := P(&items[i]).Marshal()
		if err != nil {
			return nil, err
		}
		data = protowire.AppendTag(data, listItemsField, protowire.BytesType)
		data = protowire.AppendBytes(data, item)
	}
	return data, nil
}

// UnmarshalList decodes a list that MarshalList, or Kubernetes, encoded,
// appending its items to *items.
func UnmarshalList[T any, P Item[T]](data []byte, meta interface{ Unmarshal([]byte) error }, items *[]T) error {
	return EachField(data, func(num protowire.Number, value []byte) error {
		switch num {
		case listMetaField:
			return meta.Unmarshal(value)
		case listItemsField:
			var item T
			if err := P(&item).Unmarshal(value); err != nil {
				return err
			}
			*items = append(*items, item)
		}
		return nil
	})
}

// EachField calls fn with every length-delimited field of a message and
// skips the others.
func EachField(data []byte, fn func(protowire.Number, []byte) error) error {
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return fmt.Errorf("malformed protobuf tag: %w", protowire.ParseError(n))
		}
		data = data[n:]
		if typ != protowire.BytesType {
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
