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

// Package prototest helps test that the superset types travel in protobuf
// as their Kubernetes counterparts: they decode from their own encoding
// unchanged, and the Kubernetes types read what they write and the
// reverse. It is for tests only (it imports package testing).
package prototest

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
)

// Message encodes itself in protobuf, as the superset types and those of
// k8s.io/api do.
type Message interface {
	Marshal() ([]byte, error)
	Unmarshal([]byte) error
}

// Recode encodes from and decodes the bytes into to, which may be of
// another type, failing the test if either fails. It returns the bytes.
func Recode(t testing.TB, from, to Message) []byte {
	t.Helper()
	data, err := from.Marshal()
	if err != nil {
		t.Fatalf("encoding %T: %v", from, err)
	}
	if err := to.Unmarshal(data); err != nil {
		t.Fatalf("decoding %T as %T: %v", from, to, err)
	}
	return data
}

// RoundTrip checks that in decodes from its own encoding unchanged.
func RoundTrip[T any, P interface {
	*T
	Message
}](t testing.TB, in T) {
	t.Helper()
	var out T
	Recode(t, P(&in), P(&out))
	if !equality.Semantic.DeepEqual(in, out) {
		t.Errorf("round trip changed the %T:\n in: %+v\nout: %+v", in, in, out)
	}
}
