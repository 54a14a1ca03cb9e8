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

package framework

import (
	"context"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/arcturus-cloud/arcturus/pkg/etcd"
)

// Etcd is an etcd member that runs apart from any API server, standing in
// for an external etcd cluster.
type Etcd struct {
	server *etcd.Server
}

// StartEtcd starts an etcd member on free loopback ports with its own data
// directory. It stops when the test ends.
func StartEtcd(t testing.TB) *Etcd {
	t.Helper()
	ports := FreePorts(t, 2)
	s, err := etcd.Start(context.Background(), etcd.Options{
		DataDir:   TempDir(t, "arcturus-etcd-"),
		ClientURL: fmt.Sprintf("http://127.0.0.1:%d", ports[0]),
		PeerURL:   fmt.Sprintf("http://127.0.0.1:%d", ports[1]),
	})
	if err != nil {
		t.Fatalf("starting etcd: %v", err)
	}
	t.Cleanup(s.Close)
	return &Etcd{server: s}
}

// Endpoints are the member's client URLs.
func (e *Etcd) Endpoints() []string { return e.server.Endpoints() }

// Client returns an etcd client of the member, closed when the test ends.
func (e *Etcd) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: e.Endpoints(), DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("etcd client: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("closing etcd client: %v", err)
		}
	})
	return c
}
