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
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestPercentile(t *testing.T) {
	var sorted []time.Duration
	for i := 1; i <= 200; i++ {
		sorted = append(sorted, time.Duration(i))
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 100}, {0.99, 198}, {1, 200}, {0.001, 1}} {
		if got := percentile(sorted, tc.p); got != tc.want {
			t.Errorf("percentile(1..200, %v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile(nil) = %v, want 0", got)
	}
}

func TestRecorder(t *testing.T) {
	r := &recorder{}
	for i := 1; i <= 100; i++ {
		r.observe(time.Duration(i) * time.Millisecond)
	}
	notFound := apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, "x")
	r.fail(fmt.Errorf("wrapped: %w", notFound))
	r.fail(notFound)
	r.fail(context.DeadlineExceeded)
	s := r.summary()
	if s.Count != 100 || s.P50 != 50*time.Millisecond || s.P99 != 99*time.Millisecond || s.Max != 100*time.Millisecond {
		t.Errorf("summary = %+v", s)
	}
	if s.Failed() != 3 || s.Failures[0].Class != "404 NotFound" || s.Failures[0].Count != 2 || s.Failures[1].Class != "client timeout" {
		t.Errorf("failures = %+v", s.Failures)
	}
}

func TestParseSample(t *testing.T) {
	for _, tc := range []struct {
		line   string
		name   string
		labels map[string]string
		value  float64
	}{
		{"go_memstats_heap_inuse_bytes 3.1588352e+07", "go_memstats_heap_inuse_bytes", map[string]string{}, 3.1588352e+07},
		{`apiserver_request_total{code="500",resource="pods",subresource=""} 4`, "apiserver_request_total",
			map[string]string{"code": "500", "resource": "pods", "subresource": ""}, 4},
		{`m{a="x,\"y\"}",b="z\\"} 1 1700000000`, "m", map[string]string{"a": `x,"y"}`, "b": `z\`}, 1},
	} {
		s, ok := parseSample(tc.line)
		if !ok || s.name != tc.name || s.value != tc.value || fmt.Sprint(s.labels) != fmt.Sprint(tc.labels) {
			t.Errorf("parseSample(%q) = %+v, %v", tc.line, s, ok)
		}
	}
	for _, bad := range []string{"{a=\"b\"} 1", `m{a=b} 1`, "m", "m{a=\"b\"}", "m x"} {
		if s, ok := parseSample(bad); ok {
			t.Errorf("parseSample(%q) = %+v, want failure", bad, s)
		}
	}
}

func TestPaced(t *testing.T) {
	res := paced(context.Background(), 200, 40, func(ctx context.Context, i int) error {
		if i == 3 {
			return errors.New("boom")
		}
		return nil
	})
	if res.Count != 39 || res.Failed() != 1 {
		t.Errorf("paced: %d ok, %d failed; want 39 and 1", res.Count, res.Failed())
	}
	// 40 operations at 200/s take 195 ms.
	if res.Elapsed < 190*time.Millisecond || res.Elapsed > 2*time.Second {
		t.Errorf("paced took %v, want about 195ms", res.Elapsed)
	}
}
