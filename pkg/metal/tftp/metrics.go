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

package tftp

import (
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// Outcomes of a transfer: the outcome label of arcturus_tftp_transfers_total.
const (
	outcomeSuccess  = "success"
	outcomeNotFound = "not_found"
	outcomeDenied   = "denied" // write, path outside the root, not a regular file
	outcomeBusy     = "busy"
	outcomeTimeout  = "timeout"
	outcomeFailed   = "failed" // the client went away or aborted, or we shut down
)

var (
	transfers = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: "arcturus", Subsystem: "tftp", Name: "transfers_total",
		Help:           "TFTP requests by outcome (success, not_found, denied, busy, timeout, failed).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"outcome"})
	sentBytes = metrics.NewCounter(&metrics.CounterOpts{
		Namespace: "arcturus", Subsystem: "tftp", Name: "sent_bytes_total",
		Help:           "File bytes sent over TFTP, in completed and failed transfers.",
		StabilityLevel: metrics.ALPHA,
	})
	invalidPackets = metrics.NewCounter(&metrics.CounterOpts{
		Namespace: "arcturus", Subsystem: "tftp", Name: "invalid_packets_total",
		Help:           "Datagrams to the server port that were not a usable TFTP request.",
		StabilityLevel: metrics.ALPHA,
	})
)

func init() {
	legacyregistry.MustRegister(transfers, sentBytes, invalidPackets)
}
