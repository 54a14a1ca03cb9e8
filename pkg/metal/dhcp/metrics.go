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

package dhcp

import (
	"strings"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

var (
	requests = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: "arcturus", Subsystem: "dhcp", Name: "requests_total",
		Help:           "DHCP requests by message type and outcome (offer, ack, nak, ignored, refused, exhausted, released, declined).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"type", "outcome"})
	malformedPackets = metrics.NewCounter(&metrics.CounterOpts{
		Namespace: "arcturus", Subsystem: "dhcp", Name: "malformed_packets_total",
		Help:           "Datagrams dropped for not being a well-formed DHCP request.",
		StabilityLevel: metrics.ALPHA,
	})
	leasesInUse = metrics.NewGauge(&metrics.GaugeOpts{
		Namespace: "arcturus", Subsystem: "dhcp", Name: "leases",
		Help:           "Addresses bound to a client by a lease unexpired at the last request (full mode).",
		StabilityLevel: metrics.ALPHA,
	})
)

func init() {
	legacyregistry.MustRegister(requests, malformedPackets, leasesInUse)
}

// typeLabel bounds the type label to the message types DHCP defines.
func typeLabel(t dhcpv4.MessageType) string {
	if t < dhcpv4.MessageTypeDiscover || t > dhcpv4.MessageTypeInform {
		return "other"
	}
	return strings.ToLower(t.String())
}
