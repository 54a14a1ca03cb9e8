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

package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/apiserver"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// serverChildEnv makes the test binary serve like `arcturus server`, so
// that Run can start it as its child.
const serverChildEnv = "ARCTURUS_BENCH_TEST_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(serverChildEnv) != "" {
		os.Exit(serveAsChild(os.Args[1:]))
	}
	code := m.Run()
	shared.stop()
	os.Exit(code)
}

// serveAsChild runs the API server from the arguments Run gives
// `arcturus server`, until SIGTERM.
func serveAsChild(args []string) int {
	if len(args) == 0 || args[0] != "server" {
		fmt.Fprintf(os.Stderr, "want the server subcommand, got %q\n", args)
		return 2
	}
	o := apiserver.NewOptions()
	fs := pflag.NewFlagSet("server", pflag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := serve(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, o *apiserver.Options) error {
	s, err := apiserver.New(ctx, o)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}

// TestRun runs the whole command, server child process included, with tiny
// sizes.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	t.Setenv(serverChildEnv, "1")
	c := NewConfig()
	c.Clients, c.Creates = []int{2, 4}, 50
	c.Gets, c.ListObjects, c.Lists = 50, 20, 5
	c.WatchCreates, c.WatchClients = 50, 4
	c.PacedRate, c.PacedDuration = 50, time.Second
	c.Watchers, c.WatchersPerConnection, c.FanoutPods, c.FanoutRate = 10, 4, 10, 50
	c.Tenants, c.TenantWorkers, c.TenantConfigMaps = 3, 2, 2
	c.BaselineWindow, c.SettleWindow, c.GCWait = 500*time.Millisecond, 500*time.Millisecond, 0
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := Run(ctx, c, &out, logWriter{t})
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, want := range []string{
		"## Environment", "## Create throughput", "## Get by name", "## List", "## Watch throughput",
		"## Create latency at a fixed rate", "## Watch fan-out", "## Tenant density", "| 10 | 3 | 10 |",
		"| Tenants created | 3 of 3 |", "## Server errors\n\n" + "apiserver_request_total", "None.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := NewConfig().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	c := NewConfig()
	c.Creates, c.WatchersPerConnection, c.TenantWorkers = -1, 300, 0
	err := c.Validate()
	for _, want := range []string{"--creates", "--watchers-per-connection", "--tenant-workers"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want an error about %s", err, want)
		}
	}
}

// logWriter writes progress lines to the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// inProcessServer is the API server of the benchmarks, in the test's own
// process.
type inProcessServer struct {
	once   sync.Once
	config *rest.Config
	err    error
	dir    string
	cancel context.CancelFunc
	exited chan struct{}
	runErr error
}

// shared is started by the first benchmark and stopped by TestMain.
var shared inProcessServer

// benchTenant is the tenant the benchmarks work in.
const benchTenant tenancy.Name = "bench"

// sharedServer starts the in-process server once, with the tenant
// benchTenant, and returns its admin configuration.
func sharedServer(b *testing.B) *rest.Config {
	b.Helper()
	shared.once.Do(func() {
		// The server's logs would drown the benchmark's output.
		klog.LogToStderr(false)
		klog.SetOutput(io.Discard)
		shared.config, shared.err = shared.start()
	})
	if shared.err != nil {
		b.Fatalf("starting the API server: %v", shared.err)
	}
	return shared.config
}

func (s *inProcessServer) start() (*rest.Config, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	if s.dir, err = os.MkdirTemp("", "arcturus-bench-test-"); err != nil {
		return nil, err
	}
	o := apiserver.NewOptions()
	o.DataDir = s.dir
	o.SecurePort, o.EmbeddedEtcdClientPort, o.EmbeddedEtcdPeerPort = ports[0], ports[1], ports[2]
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.exited = cancel, make(chan struct{})
	go func() {
		defer close(s.exited)
		s.runErr = serve(ctx, o)
	}()
	cfg, err := waitReady(ctx, o.AdminKubeconfigPath(), s.exited)
	if err != nil {
		return nil, err
	}
	tenancyClient, err := apiserver.TenancyClient(cfg)
	if err != nil {
		return nil, err
	}
	if err := createTenant(ctx, tenancyClient, benchTenant); err != nil {
		return nil, err
	}
	return cfg, nil
}

// stop stops the server, if it was started, and removes its data.
func (s *inProcessServer) stop() {
	if s.cancel != nil {
		s.cancel()
		<-s.exited
		if s.runErr != nil && !errors.Is(s.runErr, context.Canceled) {
			fmt.Fprintf(os.Stderr, "API server: %v\n", s.runErr)
		}
	}
	if s.dir != "" {
		if err := os.RemoveAll(s.dir); err != nil {
			fmt.Fprintf(os.Stderr, "removing %s: %v\n", s.dir, err)
		}
	}
}

// benchNamespace returns a client of benchTenant and a new namespace in it.
func benchNamespace(b *testing.B) (corev1client.CoreV1Interface, string) {
	b.Helper()
	conn, err := newConnection(sharedServer(b), "go-bench", 5000, 10000)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(conn.close)
	core, err := conn.core(benchTenant)
	if err != nil {
		b.Fatal(err)
	}
	ns := fmt.Sprintf("ns-%d", namespaces.Add(1))
	if err := createNamespace(context.Background(), core, ns); err != nil {
		b.Fatal(err)
	}
	return core, ns
}

var namespaces, objects atomic.Int64

// parallel runs do on 8 goroutines per CPU and reports latency percentiles.
func parallel(b *testing.B, do func(ctx context.Context) error) {
	b.Helper()
	rec := &recorder{}
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			t := time.Now()
			rec.record(t, do(context.Background()))
		}
	})
	b.StopTimer()
	report(b, rec.summary())
}

func report(b *testing.B, s Summary) {
	b.Helper()
	if s.Failed() > 0 {
		b.Fatalf("%d failed, first: %s", s.Failed(), s.Failures[0].Example)
	}
	b.ReportMetric(float64(s.P50)/float64(time.Millisecond), "p50-ms")
	b.ReportMetric(float64(s.P99)/float64(time.Millisecond), "p99-ms")
}

func BenchmarkCreateConfigMap(b *testing.B) {
	core, ns := benchNamespace(b)
	parallel(b, func(ctx context.Context) error {
		return createConfigMap(ctx, core, ns, fmt.Sprintf("c-%d", objects.Add(1)))
	})
}

func BenchmarkGetConfigMap(b *testing.B) {
	core, ns := benchNamespace(b)
	if err := createConfigMap(context.Background(), core, ns, "c"); err != nil {
		b.Fatal(err)
	}
	parallel(b, func(ctx context.Context) error {
		_, err := core.ConfigMaps(ns).Get(ctx, "c", metav1.GetOptions{})
		return err
	})
}

func BenchmarkList100ConfigMaps(b *testing.B) {
	core, ns := benchNamespace(b)
	fill := closedLoop(context.Background(), 8, 100, func(ctx context.Context, i int) error {
		return createConfigMap(ctx, core, ns, fmt.Sprintf("c-%d", i))
	}, nil)
	if fill.Failed() > 0 {
		b.Fatalf("creating ConfigMaps: %s", fill.Failures[0].Example)
	}
	rec := &recorder{}
	for b.Loop() {
		t := time.Now()
		_, err := core.ConfigMaps(ns).List(context.Background(), metav1.ListOptions{})
		rec.record(t, err)
	}
	report(b, rec.summary())
}

func TestSpeedProbe(t *testing.T) {
	got := speedProbe()
	var us float64
	if _, err := fmt.Sscanf(got, "%g µs per pod", &us); err != nil || us <= 0 {
		t.Errorf("speedProbe() = %q", got)
	}
	t.Log(got)
}
