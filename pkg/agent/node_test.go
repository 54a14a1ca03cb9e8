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

package agent

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func reportedStatus(at time.Time) corev1.NodeStatus {
	t := metav1.NewTime(at)
	return corev1.NodeStatus{
		Capacity: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("4"),
			corev1.ResourceMemory: resource.MustParse("32Gi"),
			corev1.ResourcePods:   resource.MustParse("110"),
		},
		Allocatable: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("4"),
			corev1.ResourceMemory: resource.MustParse("32Gi"),
			corev1.ResourcePods:   resource.MustParse("110"),
		},
		Conditions: []corev1.NodeCondition{
			{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "AgentReady", LastHeartbeatTime: t, LastTransitionTime: t},
			{Type: "VmRuntimeReady", Status: corev1.ConditionTrue, Reason: "RuntimeReady", LastHeartbeatTime: t, LastTransitionTime: t},
		},
		Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "198.18.0.1"}},
		NodeInfo:  corev1.NodeSystemInfo{OperatingSystem: "linux", Architecture: "amd64", ContainerRuntimeVersion: "simulated://1"},
	}
}

func TestSameStatus(t *testing.T) {
	now := time.Now()
	base := reportedStatus(now)
	for _, tc := range []struct {
		name   string
		change func(*corev1.NodeStatus)
		same   bool
	}{
		{"identical", func(*corev1.NodeStatus) {}, true},
		{"only the times differ", func(s *corev1.NodeStatus) {
			for i := range s.Conditions {
				s.Conditions[i].LastHeartbeatTime = metav1.NewTime(now.Add(time.Minute))
				s.Conditions[i].LastTransitionTime = metav1.NewTime(now.Add(time.Minute))
			}
		}, true},
		{"a quantity written differently", func(s *corev1.NodeStatus) {
			s.Capacity[corev1.ResourceMemory] = resource.MustParse("32768Mi")
		}, true},
		{"a condition's status", func(s *corev1.NodeStatus) { s.Conditions[1].Status = corev1.ConditionFalse }, false},
		{"a condition's message", func(s *corev1.NodeStatus) { s.Conditions[0].Message = "runtime is down" }, false},
		{"a condition fewer", func(s *corev1.NodeStatus) { s.Conditions = s.Conditions[:1] }, false},
		{"allocatable", func(s *corev1.NodeStatus) { s.Allocatable[corev1.ResourcePods] = resource.MustParse("100") }, false},
		{"an address", func(s *corev1.NodeStatus) { s.Addresses[0].Address = "198.18.0.2" }, false},
		{"the runtime version", func(s *corev1.NodeStatus) { s.NodeInfo.ContainerRuntimeVersion = "simulated://2" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			other := reportedStatus(now)
			tc.change(&other)
			if got := sameStatus(base, other); got != tc.same {
				t.Errorf("sameStatus = %v, want %v", got, tc.same)
			}
			if got := sameStatus(other, base); got != tc.same {
				t.Errorf("sameStatus reversed = %v, want %v", got, tc.same)
			}
		})
	}
	if len(base.Conditions) != 2 || base.Conditions[0].LastHeartbeatTime.IsZero() {
		t.Fatal("sameStatus changed the status it was given")
	}
}

// BenchmarkSameStatus is the check every simulated node makes every
// statusUpdateInterval: 1,000 a second at 10,000 nodes.
func BenchmarkSameStatus(b *testing.B) {
	x, y := reportedStatus(time.Now()), reportedStatus(time.Now().Add(time.Second))
	b.ReportAllocs()
	for b.Loop() {
		if !sameStatus(x, y) {
			b.Fatal("statuses differ")
		}
	}
}
