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
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
	tenantcontroller "github.com/arcturus-cloud/arcturus/pkg/controllers/tenant"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

const (
	// latencyTarget is the p99 a create should meet under a steady load.
	latencyTarget = 50 * time.Millisecond
	// tenantMemoryTarget is what an idle tenant may cost the server.
	tenantMemoryTarget = 50 << 10
	// tenantProgressEvery is how often the tenant phase reports progress.
	tenantProgressEvery = 1000
	// bootstrapPoll is how often the bench looks for bootstrapped tenants;
	// after bootstrapStall without progress it stops waiting.
	bootstrapPoll  = 2 * time.Second
	bootstrapStall = time.Minute
	// fillWorkers create the objects that other measurements read.
	fillWorkers = 16
)

var errWrongCount = errors.New("list returned the wrong number of items")

// createThroughput measures closed-loop creates at each concurrency.
func (r *runner) createThroughput(ctx context.Context) error {
	const ns = "create"
	if err := createNamespace(ctx, r.core, ns); err != nil {
		return err
	}
	t := newTable("Create throughput",
		fmt.Sprintf("%d ConfigMaps (one 16-byte data key) per row, created in one namespace of one tenant by concurrent clients sharing one connection; latency per create.", r.cfg.Creates),
		"clients", "creates/s", "p50", "p99", "max", "failed")
	for _, n := range r.cfg.Clients {
		r.log.printf("create: %d ConfigMaps by %d clients", r.cfg.Creates, n)
		res := closedLoop(ctx, n, r.cfg.Creates, func(ctx context.Context, i int) error {
			return createConfigMap(ctx, r.core, ns, fmt.Sprintf("c%d-%d", n, i))
		}, nil)
		if err := ctx.Err(); err != nil {
			return err
		}
		r.noteFailures(fmt.Sprintf("create, %d clients", n), res.Summary)
		t.add(strconv.Itoa(n), perSecond(res.Rate()), ms(res.P50), ms(res.P99), ms(res.Max), failed(res.Summary))
	}
	t.write(r.out)
	return nil
}

// reads measures gets by name and lists of one namespace.
func (r *runner) reads(ctx context.Context) error {
	const ns = "read"
	if err := createNamespace(ctx, r.core, ns); err != nil {
		return err
	}
	n := r.cfg.ListObjects
	r.log.printf("read: creating %d ConfigMaps", n)
	fill := closedLoop(ctx, fillWorkers, n, func(ctx context.Context, i int) error {
		return createConfigMap(ctx, r.core, ns, fmt.Sprintf("r-%d", i))
	}, nil)
	if err := ctx.Err(); err != nil {
		return err
	}
	r.noteFailures("read, setup", fill.Summary)

	if r.cfg.Gets > 0 {
		t := newTable("Get by name",
			fmt.Sprintf("%d gets per row, by name, of %d ConfigMaps, resourceVersion unset (most recent); concurrent clients share one connection.", r.cfg.Gets, n),
			"clients", "gets/s", "p50", "p99", "max", "failed")
		for _, c := range r.cfg.Clients {
			r.log.printf("get: %d gets by %d clients", r.cfg.Gets, c)
			res := closedLoop(ctx, c, r.cfg.Gets, func(ctx context.Context, i int) error {
				_, err := r.core.ConfigMaps(ns).Get(ctx, fmt.Sprintf("r-%d", i%n), metav1.GetOptions{})
				return err
			}, nil)
			if err := ctx.Err(); err != nil {
				return err
			}
			r.noteFailures(fmt.Sprintf("get, %d clients", c), res.Summary)
			t.add(strconv.Itoa(c), perSecond(res.Rate()), ms(res.P50), ms(res.P99), ms(res.Max), failed(res.Summary))
		}
		t.write(r.out)
	}

	if r.cfg.Lists > 0 {
		r.log.printf("list: %d lists of %d ConfigMaps", r.cfg.Lists, n)
		res := closedLoop(ctx, 1, r.cfg.Lists, func(ctx context.Context, _ int) error {
			list, err := r.core.ConfigMaps(ns).List(ctx, metav1.ListOptions{})
			if err == nil && len(list.Items) != fill.Count {
				err = fmt.Errorf("%w: %d, want %d", errWrongCount, len(list.Items), fill.Count)
			}
			return err
		}, nil)
		if err := ctx.Err(); err != nil {
			return err
		}
		r.noteFailures("list", res.Summary)
		t := newTable("List",
			fmt.Sprintf("%d lists, one at a time, of a namespace of %d ConfigMaps, resourceVersion unset (most recent), no paging.", r.cfg.Lists, fill.Count),
			"objects", "lists/s", "p50", "p99", "max", "failed")
		t.add(strconv.Itoa(fill.Count), perSecond(res.Rate()), ms(res.P50), ms(res.P99), ms(res.Max), failed(res.Summary))
		t.write(r.out)
	}
	return nil
}

// watchThroughput measures how many creates per second one watcher sees.
func (r *runner) watchThroughput(ctx context.Context) error {
	const ns = "watch"
	if err := createNamespace(ctx, r.core, ns); err != nil {
		return err
	}
	n, clients := r.cfg.WatchCreates, r.cfg.WatchClients
	r.log.printf("watch: %d ConfigMaps by %d clients, one watcher", n, clients)
	t := &watchTest{
		watchers: 1, perConnection: 1, objects: n, prefix: "w",
		watch: func(ctx context.Context, core corev1client.CoreV1Interface, opts metav1.ListOptions) (watch.Interface, error) {
			return core.ConfigMaps(ns).Watch(ctx, opts)
		},
		create: func(ctx context.Context, i int) error {
			return createConfigMap(ctx, r.core, ns, fmt.Sprintf("w-%d", i))
		},
		drive: func(ctx context.Context, create op) loadResult {
			return closedLoop(ctx, clients, n, create, nil)
		},
	}
	res, err := t.run(ctx, r, "watch")
	if err != nil {
		return err
	}
	r.noteWatch("watch", res)
	received := n - res.missing
	seen := 0.0
	if res.lastEvent > 0 {
		seen = float64(received) / res.lastEvent.Seconds()
	}
	tab := newTable("Watch throughput",
		fmt.Sprintf("%d clients create %d ConfigMaps as fast as they can while one watcher, on a connection of its own, watches their namespace. Events/s is events received over the time from the first create sent to the last event received; delay is from sending a create to receiving its event.", clients, n),
		"creates/s", "events/s seen", "received", "delay p50", "delay p99", "delay max", "missing", "failed")
	tab.add(perSecond(res.creates.Rate()), perSecond(seen), fmt.Sprintf("%d/%d", received, n),
		ms(res.delivery.P50), ms(res.delivery.P99), ms(res.delivery.Max), strconv.Itoa(res.missing), res.failed())
	tab.write(r.out)
	return nil
}

// noteWatch remembers the failures and missed events of a watch test.
func (r *runner) noteWatch(phase string, res watchResult) {
	r.noteFailures(phase+", creates", res.creates.Summary)
	r.noteFailures(phase+", watches", res.watchFailures)
	if res.missing > 0 {
		r.problems = append(r.problems, fmt.Sprintf("%s: %d events missed", phase, res.missing))
	}
}

// pacedCreates measures create latency under a steady load that does not
// slow down when the server does.
func (r *runner) pacedCreates(ctx context.Context) error {
	const ns = "paced"
	if err := createNamespace(ctx, r.core, ns); err != nil {
		return err
	}
	rate, d := r.cfg.PacedRate, r.cfg.PacedDuration
	n := int(float64(rate) * d.Seconds())
	r.log.printf("paced: %d creates at %d/s for %v", n, rate, d)
	res := paced(ctx, float64(rate), n, func(ctx context.Context, i int) error {
		return createConfigMap(ctx, r.core, ns, fmt.Sprintf("p-%d", i))
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	r.noteFailures("fixed rate", res.Summary)
	verdict := "met"
	if res.P99 >= latencyTarget {
		verdict = "missed"
	}
	t := newTable("Create latency at a fixed rate",
		fmt.Sprintf("ConfigMaps created at a fixed rate, open loop: each create starts at its slot whatever the earlier ones take (at most %d outstanding). Late: creates that started %v or more after their slot because the client fell behind. Target: p99 < %v.", maxInFlight, lateAfter, latencyTarget),
		"rate", "duration", "creates", "achieved", "p50", "p99", "max", "late", "failed", "p99 / target")
	t.add(perSecond(float64(rate)), seconds(d), strconv.Itoa(n), perSecond(res.Rate()), ms(res.P50), ms(res.P99), ms(res.Max),
		strconv.Itoa(res.Late), failed(res.Summary), fmt.Sprintf("%.2f× (%s)", float64(res.P99)/float64(latencyTarget), verdict))
	t.write(r.out)
	return nil
}

// fanOut measures how fast one tenant's pod events reach many watchers.
func (r *runner) fanOut(ctx context.Context) error {
	const ns = "fanout"
	if err := createNamespace(ctx, r.core, ns); err != nil {
		return err
	}
	c := r.cfg
	conns := (c.Watchers + c.WatchersPerConnection - 1) / c.WatchersPerConnection
	r.log.printf("fan-out: starting %d watchers on %d connections", c.Watchers, conns)
	t := &watchTest{
		watchers: c.Watchers, perConnection: c.WatchersPerConnection, objects: c.FanoutPods, prefix: "pod",
		watch: func(ctx context.Context, core corev1client.CoreV1Interface, opts metav1.ListOptions) (watch.Interface, error) {
			return core.Pods(ns).Watch(ctx, opts)
		},
		create: func(ctx context.Context, i int) error {
			return createPod(ctx, r.core, ns, fmt.Sprintf("pod-%d", i))
		},
		drive: func(ctx context.Context, create op) loadResult {
			r.log.printf("fan-out: watchers started; creating %d pods at %d/s", c.FanoutPods, c.FanoutRate)
			return paced(ctx, float64(c.FanoutRate), c.FanoutPods, create)
		},
	}
	res, err := t.run(ctx, r, "fanout")
	if err != nil {
		return err
	}
	r.noteWatch("fan-out", res)
	deliveries := c.Watchers * c.FanoutPods
	tab := newTable("Watch fan-out",
		fmt.Sprintf("%d watchers of one namespace's pods (`/tenants/<t>/api/v1/namespaces/<ns>/pods?watch=1`), %d per HTTP/2 connection; once every watch call has returned, %d pods are created at %d/s. Delay is from sending a create to a watcher receiving its ADDED event, over every watcher and pod.",
			c.Watchers, c.WatchersPerConnection, c.FanoutPods, c.FanoutRate),
		"watchers", "connections", "pods", "watches started in", "delivered", "missing", "delay p50", "delay p99", "delay max", "failed")
	tab.add(strconv.Itoa(c.Watchers), strconv.Itoa(conns), strconv.Itoa(c.FanoutPods), ms(res.established),
		fmt.Sprintf("%d/%d", deliveries-res.missing, deliveries), strconv.Itoa(res.missing),
		ms(res.delivery.P50), ms(res.delivery.P99), ms(res.delivery.Max),
		res.failed())
	tab.write(r.out)
	return nil
}

// density measures what a tenant with a few objects costs the server.
func (r *runner) density(ctx context.Context) error {
	c := r.cfg
	r.log.printf("density: sampling the server's memory for %v", c.BaselineWindow)
	before, err := r.probe.settledMemory(ctx, c.BaselineWindow, c.GCWait)
	if err != nil {
		return err
	}
	objectsBefore, err := countObjects(ctx, r.main)
	if err != nil {
		return err
	}
	conn, err := r.connect("tenants")
	if err != nil {
		return err
	}
	defer conn.close()
	r.log.printf("density: creating %d tenants, each with a namespace and %d ConfigMaps, by %d workers", c.Tenants, c.TenantConfigMaps, c.TenantWorkers)
	start := time.Now()
	res := closedLoop(ctx, c.TenantWorkers, c.Tenants, func(ctx context.Context, i int) error {
		return r.createTenantObjects(ctx, conn, tenancy.Name(fmt.Sprintf("t-%s-%d", r.run, i)))
	}, func(done int) {
		if done%tenantProgressEvery == 0 || done == c.Tenants {
			r.log.printf("density: %d/%d tenants, %.0f/s", done, c.Tenants, float64(done)/time.Since(start).Seconds())
		}
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	r.noteFailures("tenants", res.Summary)
	r.log.printf("density: waiting for the tenant controller to bootstrap them")
	waitStart := time.Now()
	bootstrapped, err := r.waitBootstrapped(ctx, res.Count)
	if err != nil {
		return err
	}
	bootstrapWait := time.Since(waitStart)
	r.log.printf("density: sampling the server's memory for %v", c.SettleWindow)
	after, err := r.probe.settledMemory(ctx, c.SettleWindow, c.GCWait)
	if err != nil {
		return err
	}
	objectsAfter, err := countObjects(ctx, r.main)
	if err != nil {
		return err
	}
	if c.HeapProfile != "" {
		if err := r.probe.heapProfile(ctx, c.HeapProfile); err != nil {
			return err
		}
		r.log.printf("density: wrote the server's heap profile to %s", c.HeapProfile)
	}

	tenants := float64(res.Count)
	perTenant := func(before, after float64) string {
		if tenants == 0 {
			return "n/a"
		}
		d := (after - before) / tenants
		return fmt.Sprintf("%s → %s: %s per tenant (%.2f× the %s target)", mib(before), mib(after), kib(d), d/tenantMemoryTarget, kib(tenantMemoryTarget))
	}
	requests := 2 + c.TenantConfigMaps
	rssSource := "/proc/<pid>/status VmRSS"
	if r.probe.pid == 0 {
		rssSource = "process_resident_memory_bytes"
	}
	t := newTable("Tenant density",
		fmt.Sprintf("Tenants created by %d workers, each with one namespace and %d ConfigMaps (%d requests). Memory is the smallest of samples taken over %v (before) and %v (after) and until the server had collected garbage (at most %v more); heap figures are go_memstats_heap_inuse_bytes, go_memstats_heap_alloc_bytes and go_gc_heap_live_bytes from /metrics, RSS is %s. The server process includes embedded etcd.",
			c.TenantWorkers, c.TenantConfigMaps, requests, c.BaselineWindow, c.SettleWindow, c.GCWait, rssSource),
		"", "")
	t.add("Tenants created", fmt.Sprintf("%d of %d", res.Count, c.Tenants))
	t.add("Creation", fmt.Sprintf("%s: %.0f tenants/s, %.0f requests/s; per tenant p50 %s, p99 %s", seconds(res.Elapsed),
		res.Rate(), res.Rate()*float64(requests), ms(res.P50), ms(res.P99)))
	t.add("Failed", failed(res.Summary))
	t.add("Bootstrapped by the tenant controller", fmt.Sprintf("%d of %d, %s after the last tenant was created", bootstrapped, res.Count, seconds(bootstrapWait)))
	t.add("Objects stored (all tenants)", fmt.Sprintf("%d → %d (%.1f per tenant)", objectsBefore, objectsAfter, float64(objectsAfter-objectsBefore)/max(tenants, 1)))
	t.add("RSS", perTenant(before.RSS, after.RSS))
	if r.probe.pid != 0 {
		t.add("RSS: anonymous", perTenant(before.RSSAnon, after.RSSAnon))
		t.add("RSS: mapped files (etcd's database)", perTenant(before.RSSFile, after.RSSFile))
	}
	t.add("Heap in use", perTenant(before.HeapInuse, after.HeapInuse))
	t.add("Heap allocated", perTenant(before.HeapAlloc, after.HeapAlloc))
	t.add("Live heap at the last GC", perTenant(before.HeapLive, after.HeapLive))
	t.write(r.out)
	return nil
}

// waitBootstrapped waits until the tenant controller has made want tenants
// of this run ready, or has made no progress for bootstrapStall, and
// returns how many are ready.
func (r *runner) waitBootstrapped(ctx context.Context, want int) (int, error) {
	ticker := time.NewTicker(bootstrapPoll)
	defer ticker.Stop()
	ready, progressed := -1, time.Now()
	for {
		n, err := r.readyTenants(ctx)
		if err != nil {
			return 0, err
		}
		if n > ready {
			if n/tenantProgressEvery > ready/tenantProgressEvery || n >= want {
				r.log.printf("density: %d/%d tenants bootstrapped", n, want)
			}
			ready, progressed = n, time.Now()
		}
		if ready >= want || time.Since(progressed) >= bootstrapStall {
			return ready, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-ticker.C:
		}
	}
}

// readyTenants counts this run's tenants whose Ready condition is true.
func (r *runner) readyTenants(ctx context.Context) (int, error) {
	prefix := "t-" + r.run + "-"
	n, cont := 0, ""
	for {
		var list tenancyv1.TenantList
		err := r.tenancyClient.Get().Resource("tenants").
			VersionedParams(&metav1.ListOptions{Limit: 1000, Continue: cont}, metav1.ParameterCodec).
			Do(ctx).Into(&list)
		if err != nil {
			return 0, fmt.Errorf("listing tenants: %w", err)
		}
		for _, t := range list.Items {
			if strings.HasPrefix(t.Name, prefix) && meta.IsStatusConditionTrue(t.Status.Conditions, tenantcontroller.ConditionReady) {
				n++
			}
		}
		if cont = list.Continue; cont == "" {
			return n, nil
		}
	}
}

// createTenantObjects creates a tenant, its namespace "app" and its
// ConfigMaps.
func (r *runner) createTenantObjects(ctx context.Context, conn *connection, name tenancy.Name) error {
	if err := createTenant(ctx, r.tenancyClient, name); err != nil {
		return err
	}
	core, err := conn.core(name)
	if err != nil {
		return err
	}
	if err := createNamespace(ctx, core, "app"); err != nil {
		return fmt.Errorf("tenant %s: %w", name, err)
	}
	for j := range r.cfg.TenantConfigMaps {
		if err := createConfigMap(ctx, core, "app", fmt.Sprintf("cm-%d", j)); err != nil {
			return fmt.Errorf("tenant %s: creating ConfigMap: %w", name, err)
		}
	}
	return nil
}

// collectServerErrors adds the 5xx and 429 answers the server counted to
// the server error table.
func (r *runner) collectServerErrors(ctx context.Context, server string) error {
	samples, err := r.probe.metrics(ctx)
	if err != nil {
		return err
	}
	for _, s := range samples {
		code := s.labels["code"]
		if s.name != "apiserver_request_total" || !(strings.HasPrefix(code, "5") || code == "429") {
			continue
		}
		// The bench polls /readyz until the server is ready.
		if s.labels["subresource"] == "/readyz" {
			continue
		}
		resource := s.labels["resource"]
		if g := s.labels["group"]; g != "" {
			resource += "." + g
		}
		if sub := s.labels["subresource"]; sub != "" {
			resource += "/" + sub
		}
		r.serverErrors.add(server, s.labels["verb"], resource, code, strconv.FormatFloat(s.value, 'f', -1, 64))
		r.problems = append(r.problems, fmt.Sprintf("%s server answered %s %s with %s %g times", server, s.labels["verb"], resource, code, s.value))
	}
	return nil
}

// reportFailures prints the failed requests the clients saw.
func (r *runner) reportFailures() {
	t := newTable("Failed requests", "Requests that failed at the client, by phase and class, with one example.", "phase", "class", "count", "example")
	for _, f := range r.failures {
		t.add(f.phase, f.Class, strconv.Itoa(f.Count), "`"+strings.NewReplacer("|", "\\|", "\n", " ", "`", "'").Replace(f.Example)+"`")
	}
	t.write(r.out)
}
