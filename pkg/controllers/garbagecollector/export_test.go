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

package garbagecollector

import (
	"time"

	"k8s.io/client-go/rest"

	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/regionwatch"
)

// What the tests of package garbagecollector_test need. They cannot be in
// this package: they start an API server, whose controllers import it.

// NewForTest returns a collector discovering resources every period.
func NewForTest(base *rest.Config, feeds *regionwatch.Feeds, period time.Duration) (*Controller, error) {
	c, err := New(base, feeds)
	if err != nil {
		return nil, err
	}
	c.discoveryPeriod = period
	return c, nil
}

// Settled tells whether the collector's graph holds every watched
// resource's objects.
func (c *Controller) Settled() bool { return c.settled() }
