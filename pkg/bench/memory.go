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
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// sample is one line of the Prometheus text format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// parseMetrics reads the samples of a Prometheus text exposition, skipping
// comments and lines it cannot parse.
func parseMetrics(text []byte) []sample {
	var out []sample
	for line := range strings.Lines(string(text)) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if s, ok := parseSample(line); ok {
			out = append(out, s)
		}
	}
	return out
}

func parseSample(line string) (sample, bool) {
	end := strings.IndexAny(line, "{ ")
	if end <= 0 {
		return sample{}, false
	}
	s := sample{name: line[:end], labels: map[string]string{}}
	rest := line[end:]
	if rest[0] == '{' {
		rest = rest[1:]
		for {
			rest = strings.TrimLeft(rest, ", ")
			if strings.HasPrefix(rest, "}") {
				rest = rest[1:]
				break
			}
			name, value, ok := strings.Cut(rest, "=")
			if !ok {
				return sample{}, false
			}
			// Label values escape \, " and newlines as Go strings do.
			quoted, err := strconv.QuotedPrefix(value)
			if err != nil {
				return sample{}, false
			}
			if s.labels[name], err = strconv.Unquote(quoted); err != nil {
				return sample{}, false
			}
			rest = value[len(quoted):]
		}
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return sample{}, false
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return sample{}, false
	}
	s.value = v
	return s, true
}

// value is the first sample named name.
func value(samples []sample, name string) (float64, bool) {
	for _, s := range samples {
		if s.name == name {
			return s.value, true
		}
	}
	return 0, false
}

// memory is what the server's memory looks like at one moment.
type memory struct {
	RSS, HeapInuse, HeapAlloc float64
	// RSSAnon and RSSFile split the resident set of a child server into
	// anonymous memory (the Go heap, stacks) and mapped files (etcd's
	// bbolt database); both are 0 for a server given by kubeconfig.
	RSSAnon, RSSFile float64
	// HeapLive is the heap the last garbage collection found live, and
	// LastGC when that was, in the server's clock.
	HeapLive, LastGC float64
}

// probe reads a server's metrics and memory.
type probe struct {
	client rest.Interface
	// pid is the server's process, or 0 for a server of which the bench
	// reads only /metrics.
	pid int
}

func (p *probe) metrics(ctx context.Context) ([]sample, error) {
	body, err := p.client.Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading /metrics: %w", err)
	}
	return parseMetrics(body), nil
}

// memory reads the heap from /metrics and the resident set from /proc, or
// from /metrics when the server is not the bench's child.
func (p *probe) memory(ctx context.Context) (memory, error) {
	samples, err := p.metrics(ctx)
	if err != nil {
		return memory{}, err
	}
	var m memory
	for _, f := range []struct {
		name string
		into *float64
	}{
		{"go_memstats_heap_inuse_bytes", &m.HeapInuse},
		{"go_memstats_heap_alloc_bytes", &m.HeapAlloc},
		{"go_gc_heap_live_bytes", &m.HeapLive},
		{"go_memstats_last_gc_time_seconds", &m.LastGC},
		{"process_resident_memory_bytes", &m.RSS},
	} {
		v, ok := value(samples, f.name)
		if !ok {
			return memory{}, fmt.Errorf("/metrics has no %s", f.name)
		}
		*f.into = v
	}
	if p.pid != 0 {
		kb, err := statusKB(p.pid, "VmRSS", "RssAnon", "RssFile")
		if err != nil {
			return memory{}, err
		}
		m.RSS, m.RSSAnon, m.RSSFile = kb[0], kb[1], kb[2]
	}
	return m, nil
}

// cpuSample is the CPU time used so far by the server and by the bench.
type cpuSample struct {
	wall           time.Time
	server, client time.Duration
}

func (r *runner) cpuTime(ctx context.Context) (cpuSample, error) {
	samples, err := r.probe.metrics(ctx)
	if err != nil {
		return cpuSample{}, err
	}
	server, ok := value(samples, "process_cpu_seconds_total")
	if !ok {
		return cpuSample{}, errors.New("/metrics has no process_cpu_seconds_total")
	}
	var self syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &self); err != nil {
		return cpuSample{}, fmt.Errorf("reading the bench's CPU time: %w", err)
	}
	return cpuSample{
		wall:   time.Now(),
		server: time.Duration(server * float64(time.Second)),
		client: time.Duration(self.Utime.Nano() + self.Stime.Nano()),
	}, nil
}

// settledMemory samples the server's memory five times over window, then
// every window/5 for at most gcWait more until the server has collected
// garbage since the first sample. It returns the smallest of each figure,
// but the live heap of the last collection: the heap in use is close to
// the live heap only just after a collection, and an idle server may not
// collect for two minutes.
func (p *probe) settledMemory(ctx context.Context, window, gcWait time.Duration) (memory, error) {
	every := max(window/5, 100*time.Millisecond)
	first, err := p.memory(ctx)
	if err != nil {
		return memory{}, err
	}
	low := first
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	start := time.Now()
	for {
		select {
		case <-ctx.Done():
			return memory{}, ctx.Err()
		case <-ticker.C:
		}
		m, err := p.memory(ctx)
		if err != nil {
			return memory{}, err
		}
		low.RSS, low.HeapInuse, low.HeapAlloc = min(low.RSS, m.RSS), min(low.HeapInuse, m.HeapInuse), min(low.HeapAlloc, m.HeapAlloc)
		low.RSSAnon, low.RSSFile = min(low.RSSAnon, m.RSSAnon), min(low.RSSFile, m.RSSFile)
		low.HeapLive, low.LastGC = m.HeapLive, m.LastGC
		elapsed := time.Since(start)
		if elapsed >= window && (m.LastGC > first.LastGC || elapsed >= window+gcWait) {
			return low, nil
		}
	}
}

// rss is the resident set of process pid.
func rss(pid int) (float64, error) {
	kb, err := statusKB(pid, "VmRSS")
	if err != nil {
		return 0, err
	}
	return kb[0], nil
}

// statusKB reads fields of /proc/<pid>/status given in kB, in bytes, in
// the order asked, from one read of the file.
func statusKB(pid int, fields ...string) ([]float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, fmt.Errorf("reading the server's memory: %w", err)
	}
	out := make([]float64, len(fields))
	found := make([]bool, len(fields))
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for scanner.Scan() {
		name, v, ok := strings.Cut(scanner.Text(), ":")
		i := slices.Index(fields, name)
		if !ok || i < 0 {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		if err != nil {
			return nil, fmt.Errorf("parsing %s %q: %w", name, v, err)
		}
		out[i], found[i] = kb*1024, true
	}
	if i := slices.Index(found, false); i >= 0 {
		return nil, fmt.Errorf("/proc/%d/status has no %s", pid, fields[i])
	}
	return out, nil
}

// heapProfile writes the server's heap profile, after a collection, to
// path for `go tool pprof`.
func (p *probe) heapProfile(ctx context.Context, path string) error {
	body, err := p.client.Get().AbsPath("/debug/pprof/heap").Param("gc", "1").DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("reading the server's heap profile: %w", err)
	}
	if err := os.WriteFile(path, body, 0o644); err != nil {
		return fmt.Errorf("writing the heap profile: %w", err)
	}
	return nil
}

// countObjects counts the stored objects of every listable resource across
// all tenants. Lists of one item report how many remain; a server that does
// not say is counted page by page.
func countObjects(ctx context.Context, conn *connection) (int, error) {
	disco, err := discovery.NewDiscoveryClientForConfigAndClient(conn.config, conn.http)
	if err != nil {
		return 0, fmt.Errorf("discovery client: %w", err)
	}
	lists, err := disco.ServerPreferredResources()
	if err != nil {
		return 0, fmt.Errorf("discovering resources: %w", err)
	}
	resources, err := discovery.GroupVersionResources(discovery.FilteredBy(discovery.SupportsAllVerbs{Verbs: []string{"list"}}, lists))
	if err != nil {
		return 0, fmt.Errorf("discovering resources: %w", err)
	}
	client, err := metadata.NewForConfigAndClient(tenancy.ConfigFor(conn.config, tenancy.Wildcard), conn.http)
	if err != nil {
		return 0, fmt.Errorf("metadata client: %w", err)
	}
	total := 0
	for gvr := range resources {
		opts := metav1.ListOptions{Limit: 1}
		for {
			list, err := client.Resource(gvr).List(ctx, opts)
			if err != nil {
				return 0, fmt.Errorf("counting %s: %w", gvr.GroupResource(), err)
			}
			total += len(list.Items)
			if n := list.RemainingItemCount; n != nil {
				total += int(*n)
				break
			}
			if list.Continue == "" {
				break
			}
			opts = metav1.ListOptions{Limit: 500, Continue: list.Continue}
		}
	}
	return total, nil
}
