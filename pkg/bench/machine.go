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
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// procField is the value of the first "key: value" line of a /proc file
// whose key is key, or "unknown".
func procField(path, key string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	for line := range strings.Lines(string(data)) {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// memTotal is the machine's memory, from /proc/meminfo.
func memTotal() string {
	v := procField("/proc/meminfo", "MemTotal")
	kb, err := strconv.ParseFloat(strings.TrimSuffix(v, " kB"), 64)
	if err != nil {
		return v
	}
	return fmt.Sprintf("%.1f GiB", kb/(1<<20))
}

// loadAverage is the 1, 5 and 15 minute load averages.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	fields := strings.Fields(string(data))
	if len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], " ")
}

// addEnvironment adds when and on what a bench runs to its environment
// table, and how fast the machine was at the start; sharing says what
// shares the machine.
func addEnvironment(t *table, sharing string) {
	t.add("Date", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	t.add("Machine", fmt.Sprintf("%d CPUs (%s), %s memory; %s",
		runtime.NumCPU(), procField("/proc/cpuinfo", "model name"), memTotal(), sharing))
	t.add("Load average at start", loadAverage())
	t.add("Speed probe at start", speedProbe())
}

// atEnd is what the machine was like when a bench ended.
func atEnd() string {
	return fmt.Sprintf("Load average at end: %s. Speed probe at end: %s.", loadAverage(), speedProbe())
}

// probePod is the object the speed probe works on: a pod of the size a
// server and its clients handle all day.
var probePod = &corev1.Pod{
	ObjectMeta: metav1.ObjectMeta{
		Name: "probe", Namespace: "default", UID: "0b6f6d4e-4ad4-4c5e-9d39-1f0b3c3b8a11", ResourceVersion: "123456",
		Labels:      map[string]string{"app": "probe", "tier": "web", "pod-template-hash": "5d8f7c9b6"},
		Annotations: map[string]string{"kubectl.kubernetes.io/restartedAt": "2026-11-22T12:00:00Z"},
		OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "probe-5d8f7c9b6", UID: "7c1e2b3a-0000-4000-8000-000000000001",
		}},
	},
	Spec: corev1.PodSpec{NodeName: "node-00001", Containers: []corev1.Container{{
		Name: "web", Image: "local/busybox:1", Command: []string{"sh", "-c", "sleep 3600"},
		Env: []corev1.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: "2"}},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("500Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("500Mi")},
		},
	}}},
	Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.88.0.12", Conditions: []corev1.PodCondition{
		{Type: corev1.PodReady, Status: corev1.ConditionTrue}, {Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
	}},
}

// speedProbe times a fixed piece of the work an API server does all day
// (a pod encoded, decoded and deep-copied, on one goroutine): the median
// of seven rounds, per pod. This VM's speed moves by half within minutes,
// with or without steal, so the figures of a run are read against it.
func speedProbe() string {
	const rounds, perRound = 7, 1000
	times := make([]time.Duration, 0, rounds)
	for range rounds + 1 { // the first round warms up, and is dropped
		start := time.Now()
		for range perRound {
			data, err := probePod.Marshal()
			if err != nil {
				return "failed: " + err.Error()
			}
			var decoded corev1.Pod
			if err := decoded.Unmarshal(data); err != nil {
				return "failed: " + err.Error()
			}
			_ = decoded.DeepCopy()
		}
		times = append(times, time.Since(start)/perRound)
	}
	times = times[1:]
	slices.Sort(times)
	return fmt.Sprintf("%.1f µs per pod encoded, decoded and copied (median of %d; lower is faster)",
		float64(times[rounds/2])/float64(time.Microsecond), rounds)
}

// header prints what was measured, where and when.
func (r *runner) header(server string) {
	t := newTable("Environment", "", "", "")
	addEnvironment(t, "the bench's clients run on it too")
	t.add("Go", runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH)
	t.add("Server", server)
	t.add("Clients", fmt.Sprintf("client-go, QPS %g, burst %d per client set, protobuf for built-in kinds (client-go's default)", r.cfg.QPS, r.cfg.Burst))
	t.write(r.out)
}
