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

// Package bench measures the region. `bench apiserver`: create, get, list
// and watch throughput and latency, latency under a fixed load, watch
// fan-out and the memory each tenant costs. `bench node`: pod startup on a
// real node, pod density, VM startup and simulated nodes' heartbeats. Both
// print markdown tables for docs/benchmarks.md and progress lines for the
// long phases.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// Config sizes the measurements. A count of zero skips its measurement.
type Config struct {
	// ServerKubeconfig selects a running server to measure, as a system
	// master. When empty the bench starts `arcturus server` itself.
	ServerKubeconfig string
	// WatchCache is passed to the server the bench starts.
	WatchCache bool
	// QPS and Burst are the client-side throttling of every client set,
	// high enough not to throttle.
	QPS   float32
	Burst int

	// Clients are the concurrency levels of the create and get runs.
	Clients []int
	// Creates is the number of ConfigMaps created at each level.
	Creates int
	// Gets is the number of gets by name at each level, of ListObjects
	// ConfigMaps; Lists lists those objects one list at a time.
	Gets, ListObjects, Lists int
	// WatchCreates are created by WatchClients clients while one watcher
	// watches them arrive.
	WatchCreates, WatchClients int
	// PacedRate creates per second are sent for PacedDuration regardless of
	// how fast the server answers.
	PacedRate     int
	PacedDuration time.Duration
	// Watchers watch one namespace's pods, WatchersPerConnection to an
	// HTTP/2 connection, while FanoutPods pods are created at FanoutRate
	// per second.
	Watchers, WatchersPerConnection int
	FanoutPods, FanoutRate          int
	// Tenants are created by TenantWorkers workers, each with one namespace
	// and TenantConfigMaps ConfigMaps, to measure the memory of a tenant.
	Tenants, TenantWorkers, TenantConfigMaps int
	// HeapProfile, when set, is where the server's heap profile is
	// written after the tenants are created.
	HeapProfile string
	// BaselineWindow and SettleWindow are how long the server's memory is
	// sampled before and after the tenants are created; sampling goes on
	// for at most GCWait until the server has collected garbage.
	BaselineWindow, SettleWindow, GCWait time.Duration
}

// NewConfig returns the defaults.
func NewConfig() *Config {
	return &Config{
		WatchCache:            true,
		QPS:                   5000,
		Burst:                 10000,
		Clients:               []int{16, 64},
		Creates:               5000,
		Gets:                  10000,
		ListObjects:           500,
		Lists:                 100,
		WatchCreates:          5000,
		WatchClients:          64,
		PacedRate:             500,
		PacedDuration:         20 * time.Second,
		Watchers:              1000,
		WatchersPerConnection: 100,
		FanoutPods:            200,
		FanoutRate:            10,
		Tenants:               10000,
		TenantWorkers:         48,
		TenantConfigMaps:      10,
		BaselineWindow:        5 * time.Second,
		SettleWindow:          15 * time.Second,
		GCWait:                150 * time.Second,
	}
}

// AddFlags binds the configuration to fs.
func (c *Config) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.ServerKubeconfig, "server-kubeconfig", c.ServerKubeconfig, "Kubeconfig of a system master of a running server to measure; memory then comes from its /metrics alone, and the bench's objects stay behind. By default the bench starts a server of its own.")
	fs.BoolVar(&c.WatchCache, "watch-cache", c.WatchCache, "Run the bench's own server with the watch cache.")
	fs.Float32Var(&c.QPS, "qps", c.QPS, "Client-side queries per second of each client set.")
	fs.IntVar(&c.Burst, "burst", c.Burst, "Client-side burst of each client set.")
	fs.IntSliceVar(&c.Clients, "clients", c.Clients, "Concurrent clients of the create and get runs, one run per value.")
	fs.IntVar(&c.Creates, "creates", c.Creates, "ConfigMaps created per create run.")
	fs.IntVar(&c.Gets, "gets", c.Gets, "Gets by name per get run.")
	fs.IntVar(&c.ListObjects, "list-objects", c.ListObjects, "ConfigMaps in the namespace that is read by the get and list runs.")
	fs.IntVar(&c.Lists, "lists", c.Lists, "Lists of that namespace.")
	fs.IntVar(&c.WatchCreates, "watch-creates", c.WatchCreates, "ConfigMaps created while one watcher watches.")
	fs.IntVar(&c.WatchClients, "watch-clients", c.WatchClients, "Concurrent clients creating them.")
	fs.IntVar(&c.PacedRate, "paced-rate", c.PacedRate, "Creates per second of the fixed-rate run.")
	fs.DurationVar(&c.PacedDuration, "paced-duration", c.PacedDuration, "Duration of the fixed-rate run.")
	fs.IntVar(&c.Watchers, "watchers", c.Watchers, "Concurrent watchers of the fan-out run.")
	fs.IntVar(&c.WatchersPerConnection, "watchers-per-connection", c.WatchersPerConnection, "Watchers sharing one HTTP/2 connection (at most 250, the server's stream limit).")
	fs.IntVar(&c.FanoutPods, "fanout-pods", c.FanoutPods, "Pods created while the watchers watch.")
	fs.IntVar(&c.FanoutRate, "fanout-rate", c.FanoutRate, "Pods created per second in the fan-out run.")
	fs.IntVar(&c.Tenants, "tenants", c.Tenants, "Tenants created to measure the memory of a tenant.")
	fs.IntVar(&c.TenantWorkers, "tenant-workers", c.TenantWorkers, "Concurrent workers creating tenants.")
	fs.IntVar(&c.TenantConfigMaps, "tenant-configmaps", c.TenantConfigMaps, "ConfigMaps in each tenant's namespace.")
	fs.StringVar(&c.HeapProfile, "heap-profile", c.HeapProfile, "Write the server's heap profile, taken once the tenants are created and memory has settled, to this file.")
	fs.DurationVar(&c.BaselineWindow, "baseline-window", c.BaselineWindow, "Time over which the server's memory is sampled before creating tenants.")
	fs.DurationVar(&c.SettleWindow, "settle-window", c.SettleWindow, "Time over which the server's memory is sampled after creating tenants.")
	fs.DurationVar(&c.GCWait, "gc-wait", c.GCWait, "How much longer memory sampling may go on until the server has collected garbage (an idle Go program collects every 2 minutes).")
}

// Validate reports impossible sizes.
func (c *Config) Validate() error {
	var errs []error
	positive := func(name string, v int) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("--%s must be positive", name))
		}
	}
	for _, f := range []struct {
		name string
		v    int
	}{
		{"creates", c.Creates}, {"gets", c.Gets}, {"list-objects", c.ListObjects}, {"lists", c.Lists},
		{"watch-creates", c.WatchCreates}, {"paced-rate", c.PacedRate}, {"watchers", c.Watchers},
		{"fanout-pods", c.FanoutPods}, {"tenants", c.Tenants}, {"tenant-configmaps", c.TenantConfigMaps},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("--%s must not be negative", f.name))
		}
	}
	if c.QPS <= 0 {
		errs = append(errs, errors.New("--qps must be positive"))
	}
	positive("burst", c.Burst)
	if c.Creates > 0 || c.Gets > 0 {
		if len(c.Clients) == 0 {
			errs = append(errs, errors.New("--clients must name at least one concurrency"))
		}
		for _, n := range c.Clients {
			positive("clients", n)
		}
	}
	if c.Gets > 0 || c.Lists > 0 {
		positive("list-objects", c.ListObjects)
	}
	if c.WatchCreates > 0 {
		positive("watch-clients", c.WatchClients)
	}
	if c.PacedRate > 0 && c.PacedDuration <= 0 {
		errs = append(errs, errors.New("--paced-duration must be positive"))
	}
	if c.Watchers > 0 && c.FanoutPods > 0 {
		positive("fanout-rate", c.FanoutRate)
		if c.WatchersPerConnection <= 0 || c.WatchersPerConnection > 250 {
			errs = append(errs, errors.New("--watchers-per-connection must be between 1 and 250"))
		}
	}
	if c.Tenants > 0 {
		positive("tenant-workers", c.TenantWorkers)
	}
	return errors.Join(errs...)
}

// runner runs the measurements.
type runner struct {
	cfg *Config
	out io.Writer
	log progress
	// run is unique to this run; tenant is the bench's tenant.
	run    string
	tenant tenancy.Name

	// The server being measured: admin is a system master of it, main
	// carries the probes and the clients of the bench tenant.
	admin         *rest.Config
	main          *connection
	core          corev1client.CoreV1Interface
	tenancyClient rest.Interface
	probe         *probe
	described     bool

	// cpu, serverErrors and failures collect what every session measured;
	// problems make the run fail once everything is printed.
	cpu, serverErrors *table
	failures          []phaseFailure
	problems          []string
}

type phaseFailure struct {
	phase string
	Failure
}

// phase is one measurement.
type phase struct {
	name string
	run  bool
	do   func(context.Context) error
}

// Run measures the API server and prints the tables on out and progress on
// log. The bench starts a server for the throughput and latency
// measurements and a fresh one for tenant density, whose memory would
// otherwise carry what the others left; a server given by kubeconfig serves
// them all. Run fails when a request failed or a watcher missed an event,
// after printing every figure.
func Run(ctx context.Context, c *Config, out, log io.Writer) error {
	if err := c.Validate(); err != nil {
		return err
	}
	run := fmt.Sprintf("%06x", time.Now().UnixMilli()&0xffffff)
	r := &runner{
		cfg: c, out: out, log: progress{w: log, start: time.Now()}, run: run, tenant: tenancy.Name("bench-" + run),
		cpu: newTable("CPU time by measurement",
			"Server CPU is process_cpu_seconds_total from /metrics; bench CPU is the bench process's own, all its clients included. Both share the machine.",
			"measurement", "wall time", "server CPU", "bench CPU"),
		serverErrors: newTable("Server errors",
			"apiserver_request_total samples with a 5xx or 429 code, counted since the server started (client-go retries some of these).",
			"server", "verb", "resource", "code", "count"),
	}
	throughput := []phase{
		{"create throughput", c.Creates > 0, r.createThroughput},
		{"get and list", c.Gets > 0 || c.Lists > 0, r.reads},
		{"watch throughput", c.WatchCreates > 0, r.watchThroughput},
		{"fixed-rate creates", c.PacedRate > 0, r.pacedCreates},
		{"watch fan-out", c.Watchers > 0 && c.FanoutPods > 0, r.fanOut},
	}
	density := []phase{{"tenant density", c.Tenants > 0, r.density}}
	type session struct {
		server string
		phases []phase
	}
	sessions := []session{{"throughput", throughput}, {"density", density}}
	if c.ServerKubeconfig != "" {
		sessions = []session{{"given", slices.Concat(throughput, density)}}
	}
	for _, s := range sessions {
		if !slices.ContainsFunc(s.phases, func(p phase) bool { return p.run }) {
			continue
		}
		if err := r.session(ctx, s.server, s.phases); err != nil {
			return err
		}
	}
	r.serverErrors.write(r.out)
	r.reportFailures()
	r.cpu.write(r.out)
	fmt.Fprintf(r.out, "\n%s\n", atEnd())
	if len(r.problems) > 0 {
		return errors.New(strings.Join(r.problems, "; "))
	}
	return nil
}

// session runs phases against one server: the given one, or a child
// process it starts and stops. name names the server in the tables.
func (r *runner) session(ctx context.Context, name string, phases []phase) (err error) {
	c := r.cfg
	server, pid := "running server of "+c.ServerKubeconfig, 0
	if c.ServerKubeconfig != "" {
		if r.admin, err = clientcmd.BuildConfigFromFlags("", c.ServerKubeconfig); err != nil {
			return fmt.Errorf("loading %s: %w", c.ServerKubeconfig, err)
		}
	} else {
		r.log.printf("%s: starting arcturus server (watch cache %s)", name, onOff(c.WatchCache))
		var child *childServer
		if child, r.admin, err = startChild(ctx, c.WatchCache); err != nil {
			return err
		}
		defer func() { err = errors.Join(err, child.stop(r.log.printf)) }()
		// Stop measuring when the server dies.
		var cancel context.CancelFunc
		ctx, cancel = child.bound(ctx)
		defer cancel()
		pid = child.pid()
		server = fmt.Sprintf("`arcturus server` child processes with embedded etcd, a fresh one for tenant density; watch cache %s", onOff(c.WatchCache))
	}

	if r.main, err = r.connect("main"); err != nil {
		return err
	}
	defer r.main.close()
	if r.core, err = r.main.core(r.tenant); err != nil {
		return err
	}
	system, err := corev1client.NewForConfigAndClient(r.main.config, r.main.http)
	if err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	r.probe = &probe{client: system.RESTClient(), pid: pid}
	if r.tenancyClient, err = r.main.tenancyClient(); err != nil {
		return err
	}
	if !r.described {
		if c.ServerKubeconfig != "" {
			samples, err := r.probe.metrics(ctx)
			if err != nil {
				return err
			}
			_, cached := value(samples, "apiserver_watch_cache_initialization_duration_seconds_count")
			server += fmt.Sprintf(", watch cache %s (judged by /metrics)", onOff(cached))
		}
		r.header(server)
		r.described = true
	}
	if err := createTenant(ctx, r.tenancyClient, r.tenant); err != nil {
		return err
	}

	for _, p := range phases {
		if !p.run {
			continue
		}
		before, err := r.cpuTime(ctx)
		if err != nil {
			return err
		}
		if err := p.do(ctx); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		after, err := r.cpuTime(ctx)
		if err != nil {
			return err
		}
		wall, serverCPU, benchCPU := after.wall.Sub(before.wall), after.server-before.server, after.client-before.client
		r.log.printf("%s: %s, server CPU %s, bench CPU %s", p.name, seconds(wall), seconds(serverCPU), seconds(benchCPU))
		r.cpu.add(p.name, seconds(wall), seconds(serverCPU), seconds(benchCPU))
	}
	return r.collectServerErrors(ctx, name)
}

// connect opens a connection of its own as the admin.
func (r *runner) connect(name string) (*connection, error) {
	return newConnection(r.admin, name, r.cfg.QPS, r.cfg.Burst)
}

// noteFailures remembers the failures of a phase for the error table.
func (r *runner) noteFailures(phase string, s Summary) {
	if n := s.Failed(); n > 0 {
		r.problems = append(r.problems, fmt.Sprintf("%s: %d failed", phase, n))
	}
	for _, f := range s.Failures {
		r.failures = append(r.failures, phaseFailure{phase: phase, Failure: f})
	}
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
