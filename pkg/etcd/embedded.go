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

// Package etcd runs the embedded etcd member that a single-node region
// stores its state in.
package etcd

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
	"go.uber.org/zap"
	"k8s.io/klog/v2"
)

// Options configure the embedded member.
type Options struct {
	// DataDir holds the member's data; it is created when missing.
	DataDir string
	// ClientURL and PeerURL are where the member listens (loopback).
	ClientURL string
	PeerURL   string
	// QuotaBackendBytes caps the database size; 0 keeps etcd's default.
	QuotaBackendBytes int64
}

// Server is a running embedded member.
type Server struct {
	etcd      *embed.Etcd
	endpoints []string
}

// Start starts the member and waits until it serves clients or ctx ends.
func Start(ctx context.Context, o Options) (*Server, error) {
	cfg := embed.NewConfig()
	cfg.Name = "arcturus"
	cfg.Dir = filepath.Join(o.DataDir, "member")
	client, err := url.Parse(o.ClientURL)
	if err != nil {
		return nil, fmt.Errorf("etcd client URL %q: %w", o.ClientURL, err)
	}
	peer, err := url.Parse(o.PeerURL)
	if err != nil {
		return nil, fmt.Errorf("etcd peer URL %q: %w", o.PeerURL, err)
	}
	cfg.ListenClientUrls = []url.URL{*client}
	cfg.AdvertiseClientUrls = []url.URL{*client}
	cfg.ListenPeerUrls = []url.URL{*peer}
	cfg.AdvertisePeerUrls = []url.URL{*peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.ListenMetricsUrls = nil
	if o.QuotaBackendBytes > 0 {
		cfg.QuotaBackendBytes = o.QuotaBackendBytes
	}
	// The API server compacts; etcd keeps a safety net of its own.
	cfg.AutoCompactionMode = "periodic"
	cfg.AutoCompactionRetention = "1h"
	cfg.LogLevel = "warn"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	if klog.V(4).Enabled() {
		cfg.ZapLoggerBuilder = nil
		cfg.LogLevel = "info"
	}

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("starting embedded etcd in %s: %w", cfg.Dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd failed: %w", err)
	case <-time.After(time.Minute):
		e.Close()
		return nil, fmt.Errorf("embedded etcd in %s did not become ready within a minute", cfg.Dir)
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	}
	klog.InfoS("Embedded etcd ready", "dataDir", cfg.Dir, "clientURL", o.ClientURL)
	return &Server{etcd: e, endpoints: []string{o.ClientURL}}, nil
}

// Endpoints are the client URLs of the member.
func (s *Server) Endpoints() []string { return s.endpoints }

// InProcessClient returns a client that calls the member's services as
// functions: no gRPC, no socket and no serialization of requests and
// responses between the API server and its own etcd. The caller closes it
// before the member.
func (s *Server) InProcessClient() *clientv3.Client { return v3client.New(s.etcd.Server) }

// Err reports a fatal error of the running member.
func (s *Server) Err() <-chan error { return s.etcd.Err() }

// Close stops the member and waits until it has stopped.
func (s *Server) Close() {
	s.etcd.Close()
	<-s.etcd.Server.StopNotify()
}
