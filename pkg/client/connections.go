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

package client

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"k8s.io/client-go/rest"
)

// HTTPClients returns n HTTP clients for config, each with a connection
// of its own to the server.
//
// client-go gives every client of equal configs one cached transport,
// and so one HTTP/2 connection. All of a process's requests then pass
// through the single frame reader and writer of that connection at both
// ends. An agent for thousands of simulated nodes got less from the
// server, and cost it more, than with its lease renewals over a few
// connections; the scheduler's bindings did not gain, so measure before
// spreading (docs/benchmarks.md, "One connection or several").
func HTTPClients(config *rest.Config, n int) ([]*http.Client, error) {
	clients := make([]*http.Client, n)
	for i := range clients {
		c := rest.CopyConfig(config)
		if c.Dial == nil {
			// A dial function of its own keeps client-go from sharing its
			// cached transport; these are client-go's dialer's settings.
			c.Dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		}
		hc, err := rest.HTTPClientFor(c)
		if err != nil {
			return nil, fmt.Errorf("building HTTP client %d of %d: %w", i+1, n, err)
		}
		clients[i] = hc
	}
	return clients, nil
}
