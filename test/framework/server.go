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

// Package framework runs real Arcturus API servers for integration tests:
// each on free ports with its own data directory, in-process, ready when
// StartServer returns and shut down cleanly when the test ends.
package framework

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/arcturus-cloud/arcturus/pkg/apiserver"
	"github.com/arcturus-cloud/arcturus/pkg/controllers"
	"github.com/arcturus-cloud/arcturus/pkg/pki"
)

const (
	// ReadyTimeout bounds how long a server may take to answer /readyz.
	ReadyTimeout = 60 * time.Second
	// shutdownTimeout bounds how long a server may take to stop.
	shutdownTimeout = 60 * time.Second
)

// Option changes how StartServer configures a server.
type Option func(*apiserver.Options)

// WithEtcdServers stores the server's state in the given etcd cluster
// instead of an embedded member.
func WithEtcdServers(endpoints ...string) Option {
	return func(o *apiserver.Options) { o.EtcdServers = endpoints }
}

// WithDataDir makes the server use dir, which the caller owns and keeps,
// instead of a fresh one: a restarted server finds its predecessor's CA and
// embedded etcd data there.
func WithDataDir(dir string) Option {
	return func(o *apiserver.Options) { o.DataDir = dir }
}

// WithWatchCache turns the watch cache on or off (it is on by default).
func WithWatchCache(enabled bool) Option {
	return func(o *apiserver.Options) { o.WatchCache = enabled }
}

// WithWatchCacheSizes passes --watch-cache-sizes.
func WithWatchCacheSizes(sizes ...string) Option {
	return func(o *apiserver.Options) { o.WatchCacheSizes = sizes }
}

// WithControllers changes the settings of the server's lifecycle
// controllers, such as the node monitor's grace period, which tests shorten.
func WithControllers(change func(*controllers.Options)) Option {
	return func(o *apiserver.Options) { change(&o.Controllers) }
}

// WithoutControllers leaves the region's controllers out of the server, for
// tests that run them as arcturus controller-manager.
func WithoutControllers() Option {
	return func(o *apiserver.Options) { o.RunControllers = false }
}

// Server is a running API server.
type Server struct {
	options *apiserver.Options
	server  *apiserver.Server
	// admin is minted once: client-go keeps a transport per certificate.
	admin  *rest.Config
	cancel context.CancelFunc
	done   chan struct{}
	runErr error
	stop   sync.Once
}

// StartServer starts a server in-process and returns once it is ready. The
// server stops when the test ends.
func StartServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	ports := FreePorts(t, 3)
	o := apiserver.NewOptions()
	o.SecurePort, o.EmbeddedEtcdClientPort, o.EmbeddedEtcdPeerPort = ports[0], ports[1], ports[2]
	o.DataDir = ""
	for _, opt := range opts {
		opt(o)
	}
	if o.DataDir == "" {
		o.DataDir = TempDir(t, "arcturus-data-")
	}

	ctx, cancel := context.WithCancel(context.Background())
	s, err := apiserver.New(ctx, o)
	if err != nil {
		cancel()
		t.Fatalf("creating API server: %v", err)
	}
	srv := &Server{options: o, server: s, cancel: cancel, done: make(chan struct{})}
	srv.admin = srv.ClientConfig(pki.ClientIdentity{User: "system:admin", Groups: []string{"system:masters"}, Tenant: "system"})
	go func() {
		defer close(srv.done)
		srv.runErr = s.Run(ctx)
	}()
	t.Cleanup(func() { srv.Stop(t) })
	srv.waitReady(t)
	t.Logf("API server ready at %s, data in %s", srv.URL(), o.DataDir)
	return srv
}

// waitReady polls /readyz until it answers ok, failing early if the server
// stops.
func (s *Server) waitReady(t testing.TB) {
	t.Helper()
	client := kubernetes.NewForConfigOrDie(s.AdminConfig()).Discovery().RESTClient()
	var lastErr error
	err := wait.PollUntilContextTimeout(context.Background(), PollInterval, ReadyTimeout, true,
		func(ctx context.Context) (bool, error) {
			select {
			case <-s.done:
				return false, errors.New("server stopped before becoming ready")
			default:
			}
			_, err := client.Get().AbsPath("/readyz").DoRaw(ctx)
			if ctx.Err() == nil {
				lastErr = err
			}
			return err == nil, nil
		})
	if err != nil {
		t.Fatalf("API server at %s not ready: %v (last /readyz error: %v, run error: %v)", s.URL(), err, lastErr, s.runErr)
	}
}

// Stop shuts the server down and waits until Run has returned, failing the
// test if the shutdown is not clean. It runs at the end of the test anyway;
// tests call it to restart a server on the same data directory.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.stop.Do(func() {
		s.cancel()
		select {
		case <-s.done:
		case <-time.After(shutdownTimeout):
			t.Errorf("API server at %s did not stop within %v", s.URL(), shutdownTimeout)
			return
		}
		if s.runErr != nil && !errors.Is(s.runErr, context.Canceled) {
			t.Errorf("API server at %s stopped with an error: %v", s.URL(), s.runErr)
		}
	})
}

// URL is the server's HTTPS address.
func (s *Server) URL() string { return s.options.ServerURL() }

// DataDir is the server's data directory.
func (s *Server) DataDir() string { return s.options.DataDir }

// AdminKubeconfigPath is the system admin kubeconfig the server wrote.
func (s *Server) AdminKubeconfigPath() string { return s.options.AdminKubeconfigPath() }

// CA is the server's certificate authority.
func (s *Server) CA() *pki.CA { return s.server.CA() }

// AdminConfig is a client configuration for a system master, authenticated
// by a client certificate as a human administrator would be.
func (s *Server) AdminConfig() *rest.Config { return rest.CopyConfig(s.admin) }

// TenantConfig is a client configuration for user of tenant with the given
// groups. Pass tenancy.AdminsGroup to make the user an admin of its tenant.
func (s *Server) TenantConfig(tenant, user string, groups ...string) *rest.Config {
	return s.ClientConfig(pki.ClientIdentity{User: user, Groups: groups, Tenant: tenant})
}

// ClientConfig is a client configuration for any identity, with a fresh
// client certificate issued by the server's CA. client-go keeps a transport
// for every certificate it sees, so callers should reuse configurations.
// Issuing fails only if the system's random source does, so it panics
// rather than burden every caller.
func (s *Server) ClientConfig(id pki.ClientIdentity) *rest.Config {
	certPEM, keyPEM, err := s.CA().IssueClient(id)
	if err != nil {
		panic(fmt.Sprintf("issuing a client certificate for %+v: %v", id, err))
	}
	return &rest.Config{
		Host: s.URL(),
		// Tests send bursts of requests; client-side throttling would only
		// slow them down.
		QPS: -1,
		TLSClientConfig: rest.TLSClientConfig{
			CAData: s.CA().CertPEM, CertData: certPEM, KeyData: keyPEM,
		},
	}
}
