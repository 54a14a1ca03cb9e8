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
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/arcturus-cloud/arcturus/pkg/apiserver"
	"github.com/arcturus-cloud/arcturus/pkg/authorization/rbac"
	"github.com/arcturus-cloud/arcturus/pkg/pki"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

const (
	renewalsMetric = "arcturus_agent_lease_renewals_total"
	renewalLag     = "arcturus_agent_lease_renewal_lag_seconds"
	// lateRenewal is the lag from which a renewal counts as late in the
	// table (the histogram's bucket bound just above a second).
	lateRenewal = 1.024
	// requestDuration is the API server's request latency histogram.
	requestDuration = "apiserver_request_duration_seconds"
	// silentNodesMetric counts the nodes the node lifecycle controller
	// found with an expired Lease and set Unknown.
	silentNodesMetric = "arcturus_node_lifecycle_silent_nodes_total"
	// leaseSampleEvery is how often the leases are listed to see how long
	// ago each was renewed.
	leaseSampleEvery = 15 * time.Second
)

// simResult is what one run of simulated nodes measured.
type simResult struct {
	nodes                 int
	register              time.Duration
	nodesSeen, leasesSeen int
	// expired is the most leases seen expired at once, oldest the oldest
	// lease seen, ages the leases' ages at the end, sorted; leases are
	// listed every leaseSampleEvery over the window.
	expired               int
	oldest                time.Duration
	ages                  []time.Duration
	leaseSamples          int
	window                time.Duration
	agentCPU, serverCPU   time.Duration
	agentPeak, agentEnd   float64
	serverPeak, serverEnd float64
	renewed, renewErrors  float64
	// silent is how many times the node lifecycle controller found a
	// node's Lease expired, from the server's start on.
	silent float64
	// lag is the renewal lag over the window, warmLag over the warm-up,
	// whose first renewals create the leases; puts is the server's
	// latency of lease updates over the window.
	lag, warmLag, puts []bucket
	// firstHalf and secondHalf split lag, to tell a backlog that drains
	// from one that grows.
	firstHalf, secondHalf     []bucket
	warmRenewed               float64
	agentErrors, serverErrors int
}

// simulatedNodes runs one agent with n simulated nodes against a fresh
// server, times their registration and observes their heartbeats.
func (r *nodeRunner) simulatedNodes(ctx context.Context, n int) (err error) {
	c := r.cfg
	r.log.printf("sim %d: starting arcturus server", n)
	server, admin, err := startChild(ctx, true)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, server.stop(r.log.printf)) }()
	ctx, cancel := server.bound(ctx)
	defer cancel()
	dir, err := os.MkdirTemp("", "arcturus-bench-sim-")
	if err != nil {
		return err
	}
	defer func() {
		if rmErr := os.RemoveAll(dir); rmErr != nil {
			err = errors.Join(err, rmErr)
		}
	}()
	ca, err := pki.LoadOrCreateCA(apiserver.TLSDir(filepath.Join(server.dir, "data")), "arcturus-ca")
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(dir, "node.kubeconfig")
	data, err := ca.Kubeconfig(admin.Host, string(tenancy.System), pki.ClientIdentity{
		User: "system:node:sim", Groups: []string{rbac.NodesGroup}, Tenant: string(tenancy.System),
	})
	if err == nil {
		err = os.WriteFile(kubeconfig, data, 0o600)
	}
	if err != nil {
		return fmt.Errorf("node kubeconfig: %w", err)
	}
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	logPath := filepath.Join(dir, "agent.log")
	if c.LogDir != "" {
		logPath = filepath.Join(c.LogDir, fmt.Sprintf("agent-sim-%d.log", n))
	}
	cs, err := kubernetes.NewForConfig(admin)
	if err != nil {
		return err
	}

	res := simResult{nodes: n}
	r.log.printf("sim %d: starting arcturus agent --simulate %d", n, n)
	start := time.Now()
	agent, err := startAgent(logPath, "127.0.0.1:"+strconv.Itoa(ports[1]), c.AgentVerbosity,
		"--kubeconfig", kubeconfig, "--simulate", strconv.Itoa(n), "--data-dir", filepath.Join(dir, "data"),
		"--port", strconv.Itoa(ports[0]))
	if err != nil {
		return err
	}
	defer func() {
		if agent != nil {
			err = errors.Join(err, agent.stop())
		}
	}()
	err = agent.waitRegistered(ctx, c.SimRegisterTimeout, func() {
		r.log.printf("sim %d: %d nodes registered after %s", n, countNodes(ctx, cs), seconds(time.Since(start)))
	})
	if err != nil {
		return err
	}
	res.register = time.Since(start)
	registered, err := agent.metrics(ctx)
	if err != nil {
		return err
	}
	r.log.printf("sim %d: all nodes registered after %s; warming up for %v", n, seconds(res.register), c.SimWarmup)
	sleepCtx(ctx, c.SimWarmup)

	serverProbe := &probe{client: cs.CoreV1().RESTClient()}
	before, err := agent.metrics(ctx)
	if err != nil {
		return err
	}
	serverBefore, err := serverProbe.metrics(ctx)
	if err != nil {
		return err
	}
	agentCPU, serverCPU, t0 := procCPU(agent.pid()), procCPU(server.pid()), time.Now()
	r.log.printf("sim %d: observing heartbeats for %v", n, c.SimWindow)
	every := min(5*time.Second, c.SimWindow)
	var mid []sample
	var lastLeases time.Time
	sampleLeases := func() error {
		ages, err := leaseAges(ctx, cs)
		if err != nil {
			return err
		}
		lastLeases, res.ages, res.leasesSeen = time.Now(), ages, len(ages)
		res.leaseSamples++
		expired := len(ages) - sort.Search(len(ages), func(i int) bool { return ages[i] > leaseDuration })
		res.expired = max(res.expired, expired)
		if len(ages) > 0 {
			res.oldest = max(res.oldest, ages[len(ages)-1])
		}
		return nil
	}
	for time.Since(t0) < c.SimWindow && ctx.Err() == nil {
		if time.Since(lastLeases) >= leaseSampleEvery {
			if err := sampleLeases(); err != nil {
				return err
			}
		}
		if mid == nil && time.Since(t0) >= c.SimWindow/2 {
			if mid, err = agent.metrics(ctx); err != nil {
				return err
			}
		}
		sleepCtx(ctx, min(every, c.SimWindow-time.Since(t0), max(c.SimWindow/2-time.Since(t0), time.Millisecond)))
		if v, err := rss(agent.pid()); err == nil {
			res.agentPeak, res.agentEnd = max(res.agentPeak, v), v
		}
		if v, err := rss(server.pid()); err == nil {
			res.serverPeak, res.serverEnd = max(res.serverPeak, v), v
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	after, err := agent.metrics(ctx)
	if err != nil {
		return err
	}
	serverAfter, err := serverProbe.metrics(ctx)
	if err != nil {
		return err
	}
	leasePuts := map[string]string{"resource": "leases", "verb": "PUT"}
	res.puts = histogramDelta(histogram(serverBefore, requestDuration, leasePuts), histogram(serverAfter, requestDuration, leasePuts))
	res.warmLag = histogramDelta(histogram(registered, renewalLag, nil), histogram(before, renewalLag, nil))
	if mid != nil {
		res.firstHalf = histogramDelta(histogram(before, renewalLag, nil), histogram(mid, renewalLag, nil))
		res.secondHalf = histogramDelta(histogram(mid, renewalLag, nil), histogram(after, renewalLag, nil))
	}
	res.silent = counter(serverAfter, silentNodesMetric, nil)
	res.window = time.Since(t0)
	res.agentCPU, res.serverCPU = procCPU(agent.pid())-agentCPU, procCPU(server.pid())-serverCPU
	ok := map[string]string{"result": "ok"}
	failed := map[string]string{"result": "error"}
	res.renewed = counter(after, renewalsMetric, ok) - counter(before, renewalsMetric, ok)
	res.renewErrors = counter(after, renewalsMetric, failed) - counter(before, renewalsMetric, failed)
	res.lag = histogramDelta(histogram(before, renewalLag, nil), histogram(after, renewalLag, nil))
	if _, ok := value(after, "process_resident_memory_bytes"); !ok {
		r.log.printf("sim %d: the agent's /metrics has no process_resident_memory_bytes; memory comes from /proc", n)
	}

	if err := sampleLeases(); err != nil {
		return err
	}
	res.nodesSeen = countNodes(ctx, cs)
	r.log.printf("sim %d: %.0f renewals/s, lag p50 %s p99 %s, %.0f errors, %d of %d leases expired; agent RSS %s, agent CPU %s, server CPU %s",
		n, res.renewed/res.window.Seconds(), lagQuantile(0.5, res.lag), lagQuantile(0.99, res.lag),
		res.renewErrors, res.expired, res.leasesSeen, mib(res.agentPeak), cores(res.agentCPU, res.window), cores(res.serverCPU, res.window))

	// Before the agent stops: requests it cancels on its way out count as
	// 504s (the server's timeout filter takes them for timeouts).
	if err := r.collectServerErrors(ctx, admin, fmt.Sprintf("%d simulated nodes", n)); err != nil {
		return err
	}
	stopErr := agent.stop()
	agent = nil
	if stopErr != nil {
		return stopErr
	}
	total, lines, err := logErrors(logPath, maxLoggedErrors)
	if err == nil {
		res.agentErrors = total
		r.log.printf("sim %d: agent log: %d error lines", n, total)
		for _, l := range lines {
			r.log.printf("  %s", l)
		}
	}
	if res.renewErrors > 0 {
		r.problem("sim %d: %.0f lease renewals failed", n, res.renewErrors)
	}
	if res.silent > 0 {
		r.problem("sim %d: the node lifecycle controller found %.0f nodes silent", n, res.silent)
	}
	if res.expired > 0 || res.leasesSeen < n || res.nodesSeen < n {
		r.problem("sim %d: %d nodes and %d leases in the API, %d leases expired", n, res.nodesSeen, res.leasesSeen, res.expired)
	}
	r.addSimResult(res)
	return nil
}

// leaseAges lists the node leases and returns the time since each was
// renewed, sorted; a lease never renewed counts as infinitely old.
func leaseAges(ctx context.Context, cs kubernetes.Interface) ([]time.Duration, error) {
	leases, err := cs.CoordinationV1().Leases(corev1.NamespaceNodeLease).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing leases: %w", err)
	}
	now := time.Now()
	ages := make([]time.Duration, 0, len(leases.Items))
	for _, l := range leases.Items {
		age := time.Duration(math.MaxInt64)
		if l.Spec.RenewTime != nil {
			age = now.Sub(l.Spec.RenewTime.Time)
		}
		ages = append(ages, age)
	}
	slices.Sort(ages)
	return ages, nil
}

// countNodes counts the Nodes in the API, or returns -1.
func countNodes(ctx context.Context, cs kubernetes.Interface) int {
	list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return -1
	}
	n := len(list.Items)
	if list.RemainingItemCount != nil {
		n += int(*list.RemainingItemCount)
	}
	return n
}

// lagString formats seconds as milliseconds, or as seconds from 10 s on.
func lagString(s float64) string {
	switch {
	case math.IsNaN(s):
		return "—"
	case s >= 10:
		return seconds(secondsDuration(s))
	}
	return ms(secondsDuration(s))
}

// lagQuantile formats quantile q of a histogram, as a lower bound when it
// lies beyond the last finite bucket.
func lagQuantile(q float64, h []bucket) string {
	v := histogramQuantile(q, h)
	if n := len(h); n >= 2 && math.IsInf(h[n-1].le, 1) && q*histogramCount(h) > h[n-2].count {
		return "> " + lagString(v)
	}
	return lagString(v)
}

// maxLag bounds the largest observation of a histogram.
func maxLag(h []bucket) string {
	top := histogramMax(h)
	if math.IsInf(top, 1) {
		return "> " + lagString(histogramQuantile(1, h))
	}
	return "≤ " + lagString(top)
}

// addSimResult prints the table of one size and adds its verdicts.
func (r *nodeRunner) addSimResult(res simResult) {
	c := r.cfg
	w := res.window
	expected := float64(res.nodes) / leaseRenewInterval.Seconds()
	rate := res.renewed / w.Seconds()
	late, bound := histogramAbove(res.lag, lateRenewal)
	p99 := histogramQuantile(0.99, res.lag)
	t := newTable(fmt.Sprintf("%d simulated nodes", res.nodes),
		fmt.Sprintf("One `arcturus agent --simulate %d` against a fresh server. Registration is from starting the agent until its /readyz reports every Node created with its status; heartbeats are then observed for %v after %v of warm-up. Lag is arcturus_agent_lease_renewal_lag_seconds (how late a renewal completed after it was due, %v after the node's previous renewal, as a kubelet schedules them), estimated within its exponential buckets as histogram_quantile does (> 32.8 s: beyond the last bucket). Lease ages are now − spec.renewTime in lists of all leases every %v. RSS is VmRSS, sampled every 5 s; CPU is from /proc/<pid>/stat; the server includes embedded etcd.",
			res.nodes, c.SimWindow, c.SimWarmup, leaseRenewInterval, leaseSampleEvery),
		"", "")
	t.add("Registration", fmt.Sprintf("%s (%.0f nodes/s)", seconds(res.register), float64(res.nodes)/res.register.Seconds()))
	t.add("Nodes / Leases in the API at the end", fmt.Sprintf("%d / %d", res.nodesSeen, res.leasesSeen))
	t.add("Lease renewals", fmt.Sprintf("%.0f/s (expected %.0f/s), %.0f errors", rate, expected, res.renewErrors))
	t.add("Renewal lag", fmt.Sprintf("p50 %s, p99 %s, max %s", lagQuantile(0.5, res.lag), lagQuantile(0.99, res.lag), maxLag(res.lag)))
	share := 0.0
	if n := histogramCount(res.lag); n > 0 {
		share = 100 * late / n
	}
	if res.firstHalf != nil {
		t.add("Renewal lag, first / second half of the window", fmt.Sprintf("p50 %s / %s, p99 %s / %s",
			lagQuantile(0.5, res.firstHalf), lagQuantile(0.5, res.secondHalf),
			lagQuantile(0.99, res.firstHalf), lagQuantile(0.99, res.secondHalf)))
	}
	t.add(fmt.Sprintf("Renewals more than %s late", lagString(bound)), fmt.Sprintf("%.0f (%.2f %%)", late, share))
	t.add(fmt.Sprintf("Renewal lag during the %v of warm-up (the first renewals create the leases)", c.SimWarmup),
		fmt.Sprintf("%.0f renewals, p50 %s, p99 %s, max %s", histogramCount(res.warmLag), lagQuantile(0.5, res.warmLag),
			lagQuantile(0.99, res.warmLag), maxLag(res.warmLag)))
	t.add("Server latency of lease updates (PUT)", fmt.Sprintf("p50 %s, p99 %s (apiserver_request_duration_seconds over the window)",
		lagQuantile(0.5, res.puts), lagQuantile(0.99, res.puts)))
	t.add("Time since each lease was renewed, at the end", fmt.Sprintf("p50 %s, p99 %s, max %s", seconds(percentile(res.ages, 0.5)), seconds(percentile(res.ages, 0.99)), seconds(percentile(res.ages, 1))))
	t.add(fmt.Sprintf("Leases older than %v (expired), in %d lists of all leases over the window", leaseDuration, res.leaseSamples),
		fmt.Sprintf("at most %d at once; oldest lease seen %s", res.expired, seconds(res.oldest)))
	t.add(fmt.Sprintf("Nodes found silent (Lease unrenewed for %v, conditions set Unknown) since the server started", leaseDuration),
		fmt.Sprintf("%.0f (%s)", res.silent, silentNodesMetric))
	t.add("Agent RSS", fmt.Sprintf("peak %s, at the end %s (%s per node)", mib(res.agentPeak), mib(res.agentEnd), kib(res.agentEnd/float64(res.nodes))))
	t.add("Agent CPU", fmt.Sprintf("%s over %s: %s", seconds(res.agentCPU), seconds(w), cores(res.agentCPU, w)))
	t.add("Server CPU", fmt.Sprintf("%s over %s: %s", seconds(res.serverCPU), seconds(w), cores(res.serverCPU, w)))
	t.add("Server RSS", fmt.Sprintf("peak %s, at the end %s", mib(res.serverPeak), mib(res.serverEnd)))
	t.add("Agent log error lines", strconv.Itoa(res.agentErrors))
	t.write(r.out)

	r.target(fmt.Sprintf("agent RSS < %.0f GiB with %d simulated nodes", float64(agentMemoryTarget)/(1<<30), res.nodes),
		"peak "+mib(res.agentPeak), res.agentPeak/agentMemoryTarget)
	if !math.IsNaN(p99) {
		r.targetMet(fmt.Sprintf("heartbeats on time with %d simulated nodes: every lease renewed within %v of its %v interval (renewal lag p99 < %v), at least %.0f %% of one renewal per node and interval", res.nodes, onTimeLag, leaseRenewInterval, onTimeLag, 100*onTimeRate),
			fmt.Sprintf("lag p99 %s, p50 %s; %.0f renewals/s for %.0f due", lagQuantile(0.99, res.lag), lagQuantile(0.5, res.lag), rate, expected),
			p99/onTimeLag.Seconds(), p99 < onTimeLag.Seconds() && rate >= onTimeRate*expected)
	}
	if res.leaseSamples > 0 {
		r.targetMet(fmt.Sprintf("no lease expires with %d simulated nodes: every lease renewed within %v", res.nodes, leaseDuration),
			fmt.Sprintf("oldest lease seen %s; %.0f renewals/s for %.0f due; %.0f nodes found silent since the server started", seconds(res.oldest), rate, expected, res.silent),
			float64(res.oldest)/float64(leaseDuration), res.oldest < leaseDuration && res.silent == 0)
	}
	r.cpu.add(fmt.Sprintf("%d simulated nodes, %v of heartbeats", res.nodes, c.SimWindow), seconds(w), seconds(res.serverCPU), seconds(res.agentCPU), "—", "—", "—")
}
