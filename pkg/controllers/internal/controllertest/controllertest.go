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

// Package controllertest helps the unit tests of controllers that run
// against a fake API server. It imports no API server, so that a
// controller's internal tests may use it (the server imports the
// controllers; see internal/testserver for the real one).
package controllertest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/regionwatch"
)

// EmptyServer answers lists with nothing and holds watches open until the
// client goes away.
func EmptyServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("watch") == "true" {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		kind, version := "PodList", "v1"
		switch {
		case strings.HasSuffix(r.URL.Path, "/nodes"):
			kind = "NodeList"
		case strings.HasSuffix(r.URL.Path, "/leases"):
			kind, version = "LeaseList", "coordination.k8s.io/v1"
		}
		fmt.Fprintf(w, `{"kind":%q,"apiVersion":%q,"metadata":{"resourceVersion":"1"},"items":[]}`, kind, version)
	}))
}

// CheckRunStops checks that a controller's Run returns when its context
// ends and leaves no goroutine behind. newRun builds the controller for
// the EmptyServer at url, following feeds of that server, and returns its
// Run; the feeds run beside it and must stop too.
func CheckRunStops(t *testing.T, newRun func(url string, feeds *regionwatch.Feeds) (func(context.Context), error)) {
	t.Helper()
	before := runtime.NumGoroutine()
	srv := EmptyServer()
	feeds, err := regionwatch.NewFeeds(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	run, err := newRun(srv.URL, feeds)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		wg.Go(func() { feeds.Run(ctx) })
		run(ctx)
		wg.Wait()
	}()
	time.Sleep(300 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	srv.CloseClientConnections()
	srv.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
