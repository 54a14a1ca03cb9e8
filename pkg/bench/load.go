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
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// recorder collects the latencies and failures of concurrent operations.
type recorder struct {
	mu        sync.Mutex
	latencies []time.Duration
	failures  map[string]*Failure
}

// Failure is one class of failed operations.
type Failure struct {
	// Class is the HTTP status and reason, or the kind of client error.
	Class   string
	Count   int
	Example string
}

// Summary describes a set of timed operations.
type Summary struct {
	// Count is the number of operations that succeeded; the percentiles are
	// over them.
	Count         int
	P50, P99, Max time.Duration
	// Failures are the failed operations by class, most frequent first.
	Failures []Failure
}

// Failed is the number of failed operations.
func (s Summary) Failed() int {
	n := 0
	for _, f := range s.Failures {
		n += f.Count
	}
	return n
}

func (r *recorder) observe(d time.Duration) {
	r.mu.Lock()
	r.latencies = append(r.latencies, d)
	r.mu.Unlock()
}

func (r *recorder) fail(err error) {
	class := classify(err)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failures == nil {
		r.failures = map[string]*Failure{}
	}
	f, ok := r.failures[class]
	if !ok {
		f = &Failure{Class: class, Example: err.Error()}
		r.failures[class] = f
	}
	f.Count++
}

// record observes the time since start, or the failure err.
func (r *recorder) record(start time.Time, err error) {
	if err != nil {
		r.fail(err)
		return
	}
	r.observe(time.Since(start))
}

func (r *recorder) summary() Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	sorted := slices.Clone(r.latencies)
	slices.Sort(sorted)
	s := Summary{Count: len(sorted), P50: percentile(sorted, 0.50), P99: percentile(sorted, 0.99)}
	if len(sorted) > 0 {
		s.Max = sorted[len(sorted)-1]
	}
	for _, f := range r.failures {
		s.Failures = append(s.Failures, *f)
	}
	slices.SortFunc(s.Failures, func(a, b Failure) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Class, b.Class))
	})
	return s
}

// percentile is the nearest-rank percentile p (0 < p <= 1) of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// classify names the class of a failed request: its HTTP status and reason,
// or what went wrong on the client's side.
func classify(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		s := status.Status()
		return fmt.Sprintf("%d %s", s.Code, s.Reason)
	}
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "client timeout"
	case errors.Is(err, errWatchClosed):
		return "watch closed early"
	case errors.Is(err, errWrongCount):
		return "wrong item count"
	default:
		return "client or transport error"
	}
}

// op is one measured operation; i numbers it from 0.
type op func(ctx context.Context, i int) error

// loadResult is what a load generator measured.
type loadResult struct {
	Summary
	Elapsed time.Duration
	// Late counts paced operations that started lateAfter or more after
	// their slot.
	Late int
}

// Rate is the number of successful operations per second.
func (r loadResult) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Count) / r.Elapsed.Seconds()
}

// closedLoop runs n operations on workers goroutines, each starting its next
// operation when the previous one returns. progress, when not nil, is called
// after every operation with the number done so far. It stops early when ctx
// ends.
func closedLoop(ctx context.Context, workers, n int, do op, progress func(done int)) loadResult {
	rec := &recorder{}
	var next, done atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range min(workers, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t := time.Now()
				rec.record(t, do(ctx, i))
				if progress != nil {
					progress(int(done.Add(1)))
				}
			}
		})
	}
	wg.Wait()
	return loadResult{Summary: rec.summary(), Elapsed: time.Since(start)}
}

const (
	// lateAfter is how far behind its slot a paced operation may start
	// before it counts as late.
	lateAfter = 10 * time.Millisecond
	// maxInFlight bounds the outstanding operations of a paced run; when
	// reached, further operations wait and so start late.
	maxInFlight = 1000
)

// paced starts n operations at a fixed rate per second whatever the time
// earlier ones take (an open loop), so slow responses cannot slow the
// offered load down. Latencies are from each operation's actual start.
func paced(ctx context.Context, rate float64, n int, do op) loadResult {
	interval := time.Duration(float64(time.Second) / rate)
	rec := &recorder{}
	slots := make(chan struct{}, maxInFlight)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var wg sync.WaitGroup
	late := 0
	start := time.Now()
schedule:
	for i := range n {
		slot := start.Add(time.Duration(i) * interval)
		if wait := time.Until(slot); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				break schedule
			case <-timer.C:
			}
		}
		select {
		case <-ctx.Done():
			break schedule
		case slots <- struct{}{}:
		}
		if time.Since(slot) >= lateAfter {
			late++
		}
		wg.Go(func() {
			defer func() { <-slots }()
			t := time.Now()
			rec.record(t, do(ctx, i))
		})
	}
	wg.Wait()
	return loadResult{Summary: rec.summary(), Elapsed: time.Since(start), Late: late}
}
