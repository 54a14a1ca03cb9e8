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

package runner

import (
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/component-base/metrics/testutil"
)

func TestSyncMetrics(t *testing.T) {
	m := NewSyncMetrics("test_controller", "Widget", "its writes")
	start := time.Now()
	m.Observe(start, nil)
	m.Observe(start, nil)
	m.Observe(start, errors.New("boom"))

	want := `
# HELP arcturus_test_controller_syncs_total [ALPHA] Widget syncs by result (ok, error).
# TYPE arcturus_test_controller_syncs_total counter
arcturus_test_controller_syncs_total{result="error"} 1
arcturus_test_controller_syncs_total{result="ok"} 2
`
	if err := testutil.GatherAndCompare(legacyregistry.DefaultGatherer, strings.NewReader(want), "arcturus_test_controller_syncs_total"); err != nil {
		t.Error(err)
	}
	count, err := testutil.GetHistogramMetricCount(m.duration.ObserverMetric)
	if err != nil {
		t.Fatal(err)
	}
	if count != 3 {
		t.Errorf("sync duration observed %d times, want 3", count)
	}
}
