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
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// A command name with spaces and a parenthesis, as a process may
	// choose; fields from proc(5): ppid 4, utime 14, stime 15, cutime 16,
	// cstime 17, starttime 22, rss 24.
	line := "4242 (my (odd) proc) S 17 4242 4242 0 -1 4194560 500 0 0 0 250 130 0 0 20 0 9 0 987654 123456789 3000 18446744073709551615"
	p, err := parseStat(line, 4096)
	if err != nil {
		t.Fatal(err)
	}
	if p.pid != 4242 || p.ppid != 17 || p.comm != "my (odd) proc" || p.start != 987654 {
		t.Errorf("parsed %+v", p)
	}
	if p.cpu != 3800*time.Millisecond || p.children != 0 {
		t.Errorf("cpu %v, children %v, want 3.8s (380 ticks) and 0", p.cpu, p.children)
	}
	if p.rss != 3000*4096 {
		t.Errorf("rss %v, want %v", p.rss, 3000*4096)
	}
	for _, bad := range []string{"", "12 no parens", "12 (x) S 1 2"} {
		if _, err := parseStat(bad, 4096); err == nil {
			t.Errorf("parseStat(%q) succeeded", bad)
		}
	}
}

func TestParseStatChildren(t *testing.T) {
	p, err := parseStat("7 (containerd) S 1 7 7 0 -1 0 0 0 0 0 10 20 30 40 20 0 9 0 5 0 100", 4096)
	if err != nil {
		t.Fatal(err)
	}
	if p.cpu != 300*time.Millisecond || p.children != 700*time.Millisecond {
		t.Errorf("cpu %v, children %v", p.cpu, p.children)
	}
}

func TestCPUSinceCountsNewProcessesWhole(t *testing.T) {
	before := procSnapshot{groups: map[string][]proc{groupShims: {
		{pid: 1, start: 10, cpu: time.Second},
		{pid: 2, start: 20, cpu: time.Second}, // exits
	}}}
	after := procSnapshot{groups: map[string][]proc{groupShims: {
		{pid: 1, start: 10, cpu: 3 * time.Second},
		{pid: 3, start: 30, cpu: 2 * time.Second},        // new
		{pid: 2, start: 99, cpu: 500 * time.Millisecond}, // pid reused
	}}}
	if got, want := after.cpuSince(before, groupShims), 4500*time.Millisecond; got != want {
		t.Errorf("cpuSince = %v, want %v", got, want)
	}
	// Shims are charged with the runc processes they waited for; agents
	// are not (their children are QEMU, counted on its own).
	before.groups[groupAgent] = []proc{{pid: 9, start: 1, cpu: time.Second, children: time.Second}}
	after.groups[groupAgent] = []proc{{pid: 9, start: 1, cpu: 2 * time.Second, children: 5 * time.Second}}
	after.groups[groupShims][0].children = time.Second
	if got, want := after.cpuSince(before, groupShims), 5500*time.Millisecond; got != want {
		t.Errorf("shims with children = %v, want %v", got, want)
	}
	if got, want := after.cpuSince(before, groupAgent), time.Second; got != want {
		t.Errorf("agent = %v, want %v", got, want)
	}
}

func TestHistogram(t *testing.T) {
	// Two series of leases add up; the one of pods is left out.
	text := `# TYPE lag histogram
lag_bucket{resource="leases",verb="PUT",le="0.001"} 0
lag_bucket{resource="leases",verb="PUT",le="0.1"} 40
lag_bucket{resource="leases",verb="PUT",le="1"} 70
lag_bucket{resource="leases",verb="PUT",le="10"} 80
lag_bucket{resource="leases",verb="PUT",le="+Inf"} 80
lag_bucket{resource="leases",verb="POST",le="0.001"} 0
lag_bucket{resource="leases",verb="POST",le="0.1"} 10
lag_bucket{resource="leases",verb="POST",le="1"} 20
lag_bucket{resource="leases",verb="POST",le="10"} 20
lag_bucket{resource="leases",verb="POST",le="+Inf"} 20
lag_bucket{resource="pods",verb="GET",le="0.1"} 1000
lag_sum 30
lag_count 100
other_bucket{le="1"} 7
`
	h := histogram(parseMetrics([]byte(text)), "lag", map[string]string{"resource": "leases"})
	if len(h) != 5 || !math.IsInf(h[4].le, 1) {
		t.Fatalf("buckets %v", h)
	}
	for _, tc := range []struct{ q, want float64 }{
		{0.5, 0.1},     // the top of the second bucket
		{0.25, 0.0505}, // halfway through it: (0.001 .. 0.1], 25 of 50
		{0.7, 0.55},    // halfway through (0.1 .. 1]
		{0.99, 9.1},    // 9 of 10 into (1 .. 10]
		{1, 10},
	} {
		got := histogramQuantile(tc.q, h)
		if math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("quantile %v = %v, want %v", tc.q, got, tc.want)
		}
	}
	if above, bound := histogramAbove(h, 1.5); above != 10 || bound != 1 {
		t.Errorf("above 1.5: %v over %v, want 10 over 1", above, bound)
	}
	if m := histogramMax(h); m != 10 {
		t.Errorf("max %v, want 10", m)
	}

	// What was observed between two readings.
	later := []bucket{{0.001, 0}, {0.1, 50}, {1, 90}, {10, 100}, {math.Inf(1), 104}}
	d := histogramDelta(h, later)
	if histogramCount(d) != 4 || d[3].count != 0 {
		t.Errorf("delta %v", d)
	}
	// All four are beyond the last finite bound.
	if q := histogramQuantile(0.5, d); q != 10 {
		t.Errorf("quantile in +Inf = %v, want the last finite bound", q)
	}
	if m := histogramMax(d); !math.IsInf(m, 1) {
		t.Errorf("max %v, want +Inf", m)
	}
	if q := histogramQuantile(0.5, histogramDelta(h, h)); !math.IsNaN(q) {
		t.Errorf("quantile of nothing = %v, want NaN", q)
	}
}

func TestLagQuantile(t *testing.T) {
	h := []bucket{{0.1, 10}, {32.768, 50}, {math.Inf(1), 100}}
	// 20 of the 40 between 0.1 and 32.768 s.
	if got := lagQuantile(0.3, h); got != "16.4 s" {
		t.Errorf("p30 = %q", got)
	}
	if got := lagQuantile(0.99, h); got != "> 32.8 s" {
		t.Errorf("p99 = %q, want a lower bound", got)
	}
	if got := lagQuantile(0.05, h); got != "50.0 ms" {
		t.Errorf("p5 = %q", got)
	}
	if got := lagQuantile(0.5, nil); got != "—" {
		t.Errorf("empty = %q", got)
	}
	if got := maxLag(h); got != "> 32.8 s" {
		t.Errorf("max = %q", got)
	}
}

func TestCounter(t *testing.T) {
	s := parseMetrics([]byte(`renewals_total{result="ok",node="a"} 5
renewals_total{result="ok",node="b"} 7
renewals_total{result="error",node="a"} 1
`))
	if got := counter(s, "renewals_total", map[string]string{"result": "ok"}); got != 12 {
		t.Errorf("ok = %v, want 12", got)
	}
	if got := counter(s, "renewals_total", nil); got != 13 {
		t.Errorf("all = %v, want 13", got)
	}
}

func TestNodeConfigValidate(t *testing.T) {
	if err := NewNodeConfig().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	c := NewNodeConfig()
	c.Pods, c.DensityPods, c.VMs, c.PodCIDR, c.PodBridge = 0, 0, 0, "nonsense", ""
	if err := c.Validate(); err != nil {
		t.Errorf("the real node's settings matter only when it runs: %v", err)
	}
	c = NewNodeConfig()
	c.PodBridge = "a-name-longer-than-15"
	c.SimNodes = []int{-1}
	c.PodConcurrency = 0
	err := c.Validate()
	for _, want := range []string{"--pod-bridge", "--sim-nodes", "--pod-concurrency"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want an error about %s", err, want)
		}
	}
}

func TestParseMasqueradeRules(t *testing.T) {
	out := `-P POSTROUTING ACCEPT
-A POSTROUTING -s 10.88.0.60/32 -m comment --comment "name: \"arcturus\" id: \"9b10\"" -j CNI-bbc94964ec65418288f324a0
-A POSTROUTING -s 10.210.0.17/32 -m comment --comment "name: \"arcturus\" id: \"57c400f7\"" -j CNI-c3a3102803ce9099319b0763
-A POSTROUTING -s 10.210.0.18/32 -j MASQUERADE
`
	rules := parseMasqueradeRules(out, netip.MustParsePrefix("10.210.0.0/16"))
	if len(rules) != 1 {
		t.Fatalf("rules %v, want the one of 10.210.0.17", rules)
	}
	want := []string{"POSTROUTING", "-s", "10.210.0.17/32", "-m", "comment", "--comment", `name: "arcturus" id: "57c400f7"`, "-j", "CNI-c3a3102803ce9099319b0763"}
	if r := rules[0]; r.chain != "CNI-c3a3102803ce9099319b0763" || strings.Join(r.spec, "|") != strings.Join(want, "|") {
		t.Errorf("rule %q", r)
	}
}
