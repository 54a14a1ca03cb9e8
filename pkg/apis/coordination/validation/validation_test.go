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

package validation

import (
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestValidateLease(t *testing.T) {
	i32 := func(v int32) *int32 { return &v }
	str := func(v string) *string { return &v }
	strategy := func(v coordinationv1.CoordinatedLeaseStrategy) *coordinationv1.CoordinatedLeaseStrategy { return &v }
	cases := []struct {
		name string
		spec coordinationv1.LeaseSpec
		want []string // fields in error
	}{
		{name: "node heartbeat", spec: coordinationv1.LeaseSpec{HolderIdentity: str("node-a"), LeaseDurationSeconds: i32(40)}},
		{name: "no duration", spec: coordinationv1.LeaseSpec{HolderIdentity: str("node-a")}},
		{name: "zero duration", spec: coordinationv1.LeaseSpec{LeaseDurationSeconds: i32(0)}, want: []string{"spec.leaseDurationSeconds"}},
		{name: "negative transitions", spec: coordinationv1.LeaseSpec{LeaseTransitions: i32(-1)}, want: []string{"spec.leaseTransitions"}},
		{name: "strategies", spec: coordinationv1.LeaseSpec{Strategy: strategy(coordinationv1.OldestEmulationVersion), PreferredHolder: str("a")}},
		{name: "custom strategy", spec: coordinationv1.LeaseSpec{Strategy: strategy("example.com/newest")}},
		{name: "unknown strategy", spec: coordinationv1.LeaseSpec{Strategy: strategy("Newest")}, want: []string{"spec.strategy"}},
		{name: "preferred holder without strategy", spec: coordinationv1.LeaseSpec{PreferredHolder: str("a")},
			want: []string{"spec.preferredHolder"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "node-a", Namespace: "kube-node-lease", ResourceVersion: "1"}, Spec: tc.spec}
			for _, errs := range []field.ErrorList{ValidateLease(lease), ValidateLeaseUpdate(lease, lease.DeepCopy())} {
				if len(errs) != len(tc.want) {
					t.Fatalf("got %v, want errors on %v", errs, tc.want)
				}
				for i, e := range errs {
					if e.Field != tc.want[i] {
						t.Errorf("error %d on %s, want %s: %v", i, e.Field, tc.want[i], e)
					}
				}
			}
		})
	}
}
