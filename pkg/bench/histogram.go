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
	"math"
	"slices"
	"strconv"
)

// bucket is one cumulative bucket of a Prometheus histogram: count
// observations were at most le.
type bucket struct {
	le, count float64
}

// histogram is the buckets of the histogram name (its name_bucket
// samples) whose labels include every label of want, summed over the
// series that match, by increasing bound, the last one +Inf.
func histogram(samples []sample, name string, want map[string]string) []bucket {
	counts := map[float64]float64{}
	for _, s := range samples {
		if s.name != name+"_bucket" || !hasLabels(s, want) {
			continue
		}
		le, err := strconv.ParseFloat(s.labels["le"], 64)
		if err != nil {
			continue
		}
		counts[le] += s.value
	}
	out := make([]bucket, 0, len(counts))
	for le, n := range counts {
		out = append(out, bucket{le: le, count: n})
	}
	slices.SortFunc(out, func(a, b bucket) int { return cmp.Compare(a.le, b.le) })
	return out
}

func hasLabels(s sample, want map[string]string) bool {
	for k, v := range want {
		if s.labels[k] != v {
			return false
		}
	}
	return true
}

// histogramDelta is what was observed between two readings of the same
// histogram.
func histogramDelta(before, after []bucket) []bucket {
	prev := map[float64]float64{}
	for _, b := range before {
		prev[b.le] = b.count
	}
	out := make([]bucket, len(after))
	for i, b := range after {
		out[i] = bucket{le: b.le, count: b.count - prev[b.le]}
	}
	return out
}

// histogramCount is the number of observations.
func histogramCount(h []bucket) float64 {
	if len(h) == 0 {
		return 0
	}
	return h[len(h)-1].count
}

// histogramQuantile estimates quantile q (0 < q <= 1) as Prometheus'
// histogram_quantile does: linearly within the bucket holding it, from 0
// for the first bucket. A quantile in the +Inf bucket is the largest
// finite bound. It is NaN without observations.
func histogramQuantile(q float64, h []bucket) float64 {
	total := histogramCount(h)
	if total <= 0 {
		return math.NaN()
	}
	rank := q * total
	lower, below := 0.0, 0.0
	for _, b := range h {
		if b.count >= rank {
			if math.IsInf(b.le, 1) {
				return lower
			}
			in := b.count - below
			if in <= 0 {
				return b.le
			}
			return lower + (b.le-lower)*(rank-below)/in
		}
		lower, below = b.le, b.count
	}
	return lower
}

// histogramAbove is the number of observations above the largest bucket
// bound that is at most threshold, and that bound: a count of observations
// known to exceed it.
func histogramAbove(h []bucket, threshold float64) (count, bound float64) {
	below := 0.0
	for _, b := range h {
		if b.le > threshold {
			break
		}
		below, bound = b.count, b.le
	}
	return histogramCount(h) - below, bound
}

// histogramMax is the upper bound of the highest bucket with observations:
// every observation was at most that (+Inf when the last bucket has some).
func histogramMax(h []bucket) float64 {
	below := 0.0
	top := 0.0
	for _, b := range h {
		if b.count > below {
			top = b.le
		}
		below = b.count
	}
	return top
}

// counter sums the samples named name whose labels include every label of
// want.
func counter(samples []sample, name string, want map[string]string) float64 {
	total := 0.0
	for _, s := range samples {
		if s.name == name && hasLabels(s, want) {
			total += s.value
		}
	}
	return total
}
