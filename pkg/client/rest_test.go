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
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// TestLimitMutatingInFlight sends more writes at once than the limit, and
// reads beside them: the server never sees more writes in flight than the
// limit, all of them are served, and reads are not held back.
func TestLimitMutatingInFlight(t *testing.T) {
	const limit, writes, reads = 3, 12, 5
	var inFlight, most, served atomic.Int32
	release := make(chan struct{})
	readsIn := make(chan struct{}, reads)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			readsIn <- struct{}{}
			<-release
			return
		}
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(5 * time.Millisecond)
		served.Add(1)
	}))
	defer srv.Close()
	hc, err := rest.HTTPClientFor(LimitMutatingInFlight(&rest.Config{Host: srv.URL}, limit))
	if err != nil {
		t.Fatal(err)
	}
	send := func(method string) {
		req, _ := http.NewRequestWithContext(context.Background(), method, srv.URL, nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
	}
	var wg sync.WaitGroup
	for range reads {
		wg.Go(func() { send(http.MethodGet) })
	}
	// Every read reaches the server although writes fill the slots.
	for range reads {
		select {
		case <-readsIn:
		case <-time.After(10 * time.Second):
			t.Fatal("reads held back")
		}
	}
	for i := range writes {
		method := []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}[i%4]
		wg.Go(func() { send(method) })
	}
	close(release)
	wg.Wait()
	if served.Load() != writes || most.Load() > limit || most.Load() < 2 {
		t.Errorf("%d of %d writes served, at most %d in flight; want all, at most %d", served.Load(), writes, most.Load(), limit)
	}
}
