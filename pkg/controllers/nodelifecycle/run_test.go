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

package nodelifecycle

import (
	"context"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/controllertest"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/regionwatch"
)

// TestRunStops checks that Run returns when its context ends and leaves
// no goroutine behind.
func TestRunStops(t *testing.T) {
	controllertest.CheckRunStops(t, func(url string, feeds *regionwatch.Feeds) (func(context.Context), error) {
		c, err := New(Config{Base: &rest.Config{Host: url}, Pods: feeds.Pods, NodeMonitorPeriod: 10 * time.Millisecond})
		if err != nil {
			return nil, err
		}
		return c.Run, nil
	})
}
