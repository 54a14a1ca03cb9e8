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
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"k8s.io/client-go/rest"
)

// remoteAddrs serves HTTP/2 over TLS and records the client address of
// every request, one per connection.
func remoteAddrs(t *testing.T) (*rest.Config, func() map[string]bool) {
	var mu sync.Mutex
	seen := map[string]bool{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 {
			t.Errorf("request over %s, want HTTP/2", r.Proto)
		}
		mu.Lock()
		seen[r.RemoteAddr] = true
		mu.Unlock()
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	cfg := &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{CAData: ca}}
	return cfg, func() map[string]bool {
		mu.Lock()
		defer mu.Unlock()
		return seen
	}
}

func get(t *testing.T, hc *http.Client, url string) {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestHTTPClientsConnectEach(t *testing.T) {
	cfg, seen := remoteAddrs(t)
	clients, err := HTTPClients(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		for _, hc := range clients {
			get(t, hc, cfg.Host)
		}
	}
	if got := len(seen()); got != 3 {
		t.Errorf("3 clients used %d connections, want 3", got)
	}
}

// TestClientGoSharesConnection pins down why HTTPClients exists: client-go
// hands equal configs one transport, and so one connection.
func TestClientGoSharesConnection(t *testing.T) {
	cfg, seen := remoteAddrs(t)
	for range 3 {
		hc, err := rest.HTTPClientFor(rest.CopyConfig(cfg))
		if err != nil {
			t.Fatal(err)
		}
		get(t, hc, cfg.Host)
	}
	if got := len(seen()); got != 1 {
		t.Errorf("client-go's clients used %d connections, want 1", got)
	}
}
