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

// Package testserver runs the real API server, with embedded etcd and the
// region's controllers, in-process for the tests of the controllers and
// of the metal plane.
//
// The server imports the region's controllers, so only external test
// packages (package x_test) of those may import this one: their internal
// tests would make an import cycle. Tests that need no real server use
// pkg/controllers/internal/controllertest instead.
package testserver

import (
	"context"
	"net"
	"testing"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/arcturus-cloud/arcturus/pkg/apiserver"
)

// stopTimeout bounds how long the server may take to stop.
const stopTimeout = time.Minute

// Start runs the server on free ports with a fresh data directory, with
// its options adjusted by change if not nil, and returns its loopback
// client configuration: a system master, addressing no tenant. The server
// stops, and is waited for, when the test ends.
//
// Start does not wait for the server to be ready; each test waits for
// what it needs. (Asking /readyz starts the server's log check, whose
// goroutine nothing stops: tests that check for leaked goroutines wait
// otherwise.)
func Start(t *testing.T, change func(*apiserver.Options)) *rest.Config {
	t.Helper()
	o := apiserver.NewOptions()
	o.DataDir = t.TempDir()
	ports := freePorts(t, 3)
	o.SecurePort, o.EmbeddedEtcdClientPort, o.EmbeddedEtcdPeerPort = ports[0], ports[1], ports[2]
	if change != nil {
		change(o)
	}

	ctx, cancel := context.WithCancel(context.Background())
	s, err := apiserver.New(ctx, o)
	if err != nil {
		cancel()
		t.Fatalf("creating server: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server stopped with error: %v", err)
			}
		case <-time.After(stopTimeout):
			t.Errorf("server did not stop within %v", stopTimeout)
		}
	})
	return s.Loopback()
}

// freePorts returns n distinct ports free for now: each is held until all
// are chosen.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// Kube returns a typed client for c, failing the test if it cannot.
func Kube(t testing.TB, c *rest.Config) kubernetes.Interface {
	client, err := kubernetes.NewForConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// Dynamic returns a dynamic client for c, failing the test if it cannot.
func Dynamic(t testing.TB, c *rest.Config) dynamic.Interface {
	client, err := dynamic.NewForConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	return client
}
