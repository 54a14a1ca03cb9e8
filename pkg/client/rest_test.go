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

package client

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
)

func TestPreferProtobuf(t *testing.T) {
	in := &rest.Config{Host: "https://example.invalid"}
	got := PreferProtobuf(in)
	if got.ContentType != runtime.ContentTypeProtobuf || got.AcceptContentTypes != runtime.ContentTypeProtobuf+","+runtime.ContentTypeJSON {
		t.Errorf("content types %q, accept %q; want protobuf, accepting JSON too", got.ContentType, got.AcceptContentTypes)
	}
	if in.ContentType != "" {
		t.Errorf("the given config was changed: content type %q", in.ContentType)
	}
	chosen := &rest.Config{ContentConfig: rest.ContentConfig{ContentType: runtime.ContentTypeJSON}}
	if got := PreferProtobuf(chosen); got.ContentType != runtime.ContentTypeJSON || got.AcceptContentTypes != "" {
		t.Errorf("a chosen content type was overridden: %q, accept %q", got.ContentType, got.AcceptContentTypes)
	}
}
