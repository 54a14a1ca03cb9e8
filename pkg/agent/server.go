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

package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/proxy"
	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/pki"
)

// Server is the agent's API for the API server: logs, exec, attach and
// port-forward of the pods it runs. It serves TLS with a certificate of its
// own (pinned through its Node) and admits only the API server's client
// certificate, signed by the region CA.
type Server struct {
	agent    *Agent
	clientCA *x509.CertPool
	cert     tls.Certificate
	// Fingerprint is the serving certificate's, published on the Node.
	Fingerprint string
}

// LoadOrCreateServer loads the agent's serving certificate from dir, or
// makes one for hosts. clientCA is the region CA's PEM.
func LoadOrCreateServer(dir string, hosts []string, clientCA []byte) (*Server, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(clientCA) {
		return nil, errors.New("no region CA to verify the API server with (the kubeconfig carries none)")
	}
	certPath, keyPath := filepath.Join(dir, "agent.crt"), filepath.Join(dir, "agent.key")
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil || time.Until(cert.Leaf.NotAfter) < 30*24*time.Hour {
		certPEM, keyPEM, err := pki.SelfSignedServing("arcturus-agent", hosts)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating %s: %w", dir, err)
		}
		if err := os.WriteFile(keyPath, keyPEM, 0o600); err != nil {
			return nil, fmt.Errorf("writing agent key: %w", err)
		}
		if err := os.WriteFile(certPath, certPEM, 0o644); err != nil {
			return nil, fmt.Errorf("writing agent certificate: %w", err)
		}
		if cert, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
			return nil, fmt.Errorf("loading agent certificate: %w", err)
		}
	}
	return &Server{clientCA: pool, cert: cert, Fingerprint: pki.Fingerprint(cert.Certificate[0])}, nil
}

// Serve serves on addr until ctx ends.
func (s *Server) Serve(ctx context.Context, addr string, a *Agent) error {
	s.agent = a
	mux := http.NewServeMux()
	mux.HandleFunc("GET /pods/{uid}/log", s.logs)
	for _, sub := range []string{"exec", "attach", "portforward"} {
		mux.HandleFunc("/pods/{uid}/"+sub, s.stream(sub))
	}
	srv := &http.Server{
		Handler:           s.onlyAPIServer(mux),
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{s.cert},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    s.clientCA,
			// SPDY upgrades need HTTP/1.1.
			NextProtos: []string{"http/1.1"},
		},
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("agent API: %w", err)
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	klog.FromContext(ctx).Info("Serving agent API", "address", ln.Addr().String())
	if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("agent API: %w", err)
	}
	return nil
}

func (s *Server) onlyAPIServer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != pki.APIServerAgentClient {
			http.Error(w, "only the API server may call the agent", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// podFor finds the pod of a request and the runtime that runs it.
func (s *Server) podFor(w http.ResponseWriter, r *http.Request) (*v1.Pod, runtime.Runtime, bool) {
	bp, ok := s.agent.pods.get(types.UID(r.PathValue("uid")))
	if !ok {
		http.Error(w, "pod not found on this node", http.StatusNotFound)
		return nil, nil, false
	}
	rt := s.agent.runtimeFor(bp.pod)
	if rt == nil {
		http.Error(w, "this node runs no such pods", http.StatusBadRequest)
		return nil, nil, false
	}
	return bp.pod, rt, true
}

func (s *Server) logs(w http.ResponseWriter, r *http.Request) {
	pod, rt, ok := s.podFor(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	var opts runtime.LogOptions
	var err error
	opts.Follow, opts.Previous, opts.Timestamps = q.Get("follow") == "true", q.Get("previous") == "true", q.Get("timestamps") == "true"
	for key, dst := range map[string]*int64{"tailLines": &opts.TailLines, "limitBytes": &opts.LimitBytes} {
		if v := q.Get(key); v != "" {
			if *dst, err = strconv.ParseInt(v, 10, 64); err != nil {
				http.Error(w, fmt.Sprintf("%s: %v", key, err), http.StatusBadRequest)
				return
			}
		}
	}
	if v := q.Get("sinceSeconds"); v != "" {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			http.Error(w, fmt.Sprintf("sinceSeconds: %v", err), http.StatusBadRequest)
			return
		}
		since := time.Now().Add(-time.Duration(secs) * time.Second)
		opts.SinceTime = &since
	}
	if v := q.Get("sinceTime"); v != "" {
		since, err := time.Parse(time.RFC3339, v)
		if err != nil {
			http.Error(w, fmt.Sprintf("sinceTime: %v", err), http.StatusBadRequest)
			return
		}
		opts.SinceTime = &since
	}
	w.Header().Set("Content-Type", "text/plain")
	out := &flushWriter{w: w}
	if err := rt.Logs(r.Context(), pod, q.Get("container"), opts, out); err != nil && r.Context().Err() == nil {
		if !out.wrote {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		klog.FromContext(r.Context()).V(2).Info("Log stream ended early", "pod", klog.KObj(pod), "err", err)
	}
}

// flushWriter sends every write at once, for logs that are followed.
type flushWriter struct {
	w     http.ResponseWriter
	wrote bool
}

func (f *flushWriter) Write(p []byte) (int, error) {
	f.wrote = true
	n, err := f.w.Write(p)
	if fl, ok := f.w.(http.Flusher); ok {
		fl.Flush()
	}
	return n, err
}

func (s *Server) stream(sub string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		pod, rt, ok := s.podFor(w, r)
		if !ok {
			return
		}
		streamer, ok := rt.(runtime.Streamer)
		if !ok {
			http.Error(w, fmt.Sprintf("%s is not supported for pods of the %s runtime", sub, rt.Name()), http.StatusBadRequest)
			return
		}
		q := r.URL.Query()
		streams := runtime.Streams{
			Stdin: q.Get("stdin") == "true", Stdout: q.Get("stdout") == "true",
			Stderr: q.Get("stderr") == "true", TTY: q.Get("tty") == "true",
		}
		var (
			target *url.URL
			err    error
		)
		switch sub {
		case "exec":
			target, err = streamer.Exec(r.Context(), pod, q.Get("container"), q["command"], streams)
		case "attach":
			target, err = streamer.Attach(r.Context(), pod, q.Get("container"), streams)
		default:
			var ports []int32
			for _, p := range q["port"] {
				n, perr := strconv.ParseInt(p, 10, 32)
				if perr != nil {
					http.Error(w, "port: "+perr.Error(), http.StatusBadRequest)
					return
				}
				ports = append(ports, int32(n))
			}
			target, err = streamer.PortForward(r.Context(), pod, ports)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		proxy.NewUpgradeAwareHandler(target, nil, false, true, proxyErrors{}).ServeHTTP(w, r)
	}
}

// proxyErrors answers a stream that could not be proxied to the runtime.
type proxyErrors struct{}

func (proxyErrors) Error(w http.ResponseWriter, _ *http.Request, err error) {
	http.Error(w, err.Error(), http.StatusBadGateway)
}
