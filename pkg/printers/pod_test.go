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

package printers

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/registry/rest"

	api "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

var _ rest.TableConvertor = &TableConvertor{}

func ago(d time.Duration) metav1.Time { return metav1.NewTime(time.Now().Add(-d)) }

func running(ready bool, restarts int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: "app", Ready: ready, RestartCount: restarts,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
}

func waiting(reason string, restarts int32, lastExit time.Duration) corev1.ContainerStatus {
	s := corev1.ContainerStatus{Name: "app", RestartCount: restarts,
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}
	if lastExit > 0 {
		s.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: ago(lastExit)}
	}
	return s
}

func terminated(reason string, exitCode int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: "app",
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: exitCode}}}
}

// pod builds a container pod with one init container per init status.
func pod(phase corev1.PodPhase, initStatuses []corev1.ContainerStatus, statuses ...corev1.ContainerStatus) *api.Pod {
	p := &api.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", CreationTimestamp: ago(3 * time.Hour)}}
	for i := range initStatuses {
		p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: initStatuses[i].Name})
	}
	for _, s := range statuses {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: s.Name})
	}
	if len(statuses) == 0 {
		p.Spec.Containers = []corev1.Container{{Name: "app"}}
	}
	p.Status.Phase = phase
	p.Status.InitContainerStatuses = initStatuses
	p.Status.ContainerStatuses = statuses
	return p
}

// vm builds a VM pod with the given VM status.
func vm(phase corev1.PodPhase, status *api.VirtualMachineStatus) *api.Pod {
	p := &api.Pod{ObjectMeta: metav1.ObjectMeta{Name: "vm1", Namespace: "default", CreationTimestamp: ago(2 * 24 * time.Hour)},
		Spec: api.PodSpec{VirtualMachine: &api.VirtualMachineSpec{Name: "vm", Image: "ubuntu"}}}
	p.Status.Phase = phase
	p.Status.VirtualMachineStatus = status
	return p
}

func withCondition(p *api.Pod, t corev1.PodConditionType, reason string) *api.Pod {
	p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason})
	return p
}

func TestPodRows(t *testing.T) {
	initDone := corev1.ContainerStatus{Name: "init", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed"}}}
	initRunning := corev1.ContainerStatus{Name: "migrate", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	sidecar := corev1.ContainerStatus{Name: "proxy", Ready: true, Started: new(bool), RestartCount: 2,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	*sidecar.Started = true

	cases := []struct {
		name                    string
		pod                     *api.Pod
		ready, status, restarts string
		completed               string // the row condition's reason, if any
	}{
		{name: "running", pod: withCondition(pod(corev1.PodRunning, nil, running(true, 0)), corev1.PodReady, ""),
			ready: "1/1", status: "Running", restarts: "0"},
		{name: "creating", pod: pod(corev1.PodPending, nil, waiting("ContainerCreating", 0, 0)),
			ready: "0/1", status: "ContainerCreating", restarts: "0"},
		{name: "crash loop", pod: pod(corev1.PodRunning, nil, waiting("CrashLoopBackOff", 5, 2*time.Minute)),
			ready: "0/1", status: "CrashLoopBackOff", restarts: "5 (2m ago)"},
		{name: "completed", pod: pod(corev1.PodSucceeded, nil, terminated("Completed", 0)),
			ready: "0/1", status: "Completed", restarts: "0", completed: "Succeeded"},
		{name: "failed without reason", pod: pod(corev1.PodFailed, nil, terminated("", 137)),
			ready: "0/1", status: "ExitCode:137", restarts: "0", completed: "Failed"},
		{name: "terminating", pod: func() *api.Pod {
			p := pod(corev1.PodRunning, nil, running(true, 1))
			p.DeletionTimestamp = &metav1.Time{Time: time.Now()}
			return p
		}(), ready: "1/1", status: "Terminating", restarts: "1"},
		{name: "on a lost node", pod: func() *api.Pod {
			p := pod(corev1.PodRunning, nil, running(true, 0))
			p.DeletionTimestamp = &metav1.Time{Time: time.Now()}
			p.Status.Reason = "NodeLost"
			return p
		}(), ready: "1/1", status: "Unknown", restarts: "0"},
		{name: "initializing", pod: pod(corev1.PodPending, []corev1.ContainerStatus{initDone, initRunning}, waiting("PodInitializing", 0, 0)),
			ready: "0/1", status: "Init:1/2", restarts: "0"},
		{name: "init crash loop", pod: pod(corev1.PodPending, []corev1.ContainerStatus{func() corev1.ContainerStatus {
			s := waiting("CrashLoopBackOff", 3, time.Minute)
			s.Name = "migrate"
			return s
		}()}, waiting("PodInitializing", 0, 0)), ready: "0/1", status: "Init:CrashLoopBackOff", restarts: "3 (60s ago)"},
		{name: "init failed", pod: pod(corev1.PodPending, []corev1.ContainerStatus{{Name: "migrate",
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2}}}}),
			ready: "0/1", status: "Init:ExitCode:2", restarts: "0"},
		{name: "sidecar counts as a container", pod: func() *api.Pod {
			p := withCondition(pod(corev1.PodRunning, []corev1.ContainerStatus{sidecar}, running(true, 1)), corev1.PodReady, "")
			always := corev1.ContainerRestartPolicyAlways
			p.Spec.InitContainers[0].RestartPolicy = &always
			return p
		}(), ready: "2/2", status: "Running", restarts: "3"},
		{name: "completed container beside a running one", pod: func() *api.Pod {
			done := terminated("Completed", 0)
			done.Name = "job"
			return pod(corev1.PodRunning, nil, done, running(true, 0))
		}(), ready: "1/2", status: "NotReady", restarts: "0"},
		{name: "scheduling gated", pod: withCondition(pod(corev1.PodPending, nil), corev1.PodScheduled, corev1.PodReasonSchedulingGated),
			ready: "0/1", status: "SchedulingGated", restarts: "0"},
		{name: "evicted", pod: func() *api.Pod {
			p := pod(corev1.PodFailed, nil)
			p.Status.Reason = "Evicted"
			return p
		}(), ready: "0/1", status: "Evicted", restarts: "0", completed: "Failed"},

		{name: "VM running", pod: vm(corev1.PodRunning, &api.VirtualMachineStatus{Name: "vm", State: api.VirtualMachineRunning, Ready: true}),
			ready: "1/1", status: "Running", restarts: "0"},
		{name: "VM not reported yet", pod: vm(corev1.PodPending, nil), ready: "0/1", status: "Pending", restarts: "0"},
		{name: "VM creating", pod: vm(corev1.PodPending, &api.VirtualMachineStatus{Name: "vm", State: api.VirtualMachineCreating}),
			ready: "0/1", status: "Creating", restarts: "0"},
		{name: "VM paused", pod: vm(corev1.PodRunning, &api.VirtualMachineStatus{Name: "vm", State: api.VirtualMachinePaused, RestartCount: 1}),
			ready: "0/1", status: "Paused", restarts: "1"},
		{name: "VM crash loop", pod: vm(corev1.PodRunning, &api.VirtualMachineStatus{Name: "vm", State: api.VirtualMachineFailed,
			Reason: "CrashLoopBackOff", RestartCount: 4}), ready: "0/1", status: "CrashLoopBackOff", restarts: "4"},
		{name: "VM terminating", pod: func() *api.Pod {
			p := vm(corev1.PodRunning, &api.VirtualMachineStatus{Name: "vm", State: api.VirtualMachineRunning, Ready: true})
			p.DeletionTimestamp = &metav1.Time{Time: time.Now()}
			return p
		}(), ready: "1/1", status: "Terminating", restarts: "0"},
	}
	convertor := NewPodTableConvertor()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			table, err := convertor.ConvertToTable(context.Background(), tc.pod, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(table.Rows) != 1 {
				t.Fatalf("got %d rows, want 1", len(table.Rows))
			}
			row := table.Rows[0]
			got := []any{row.Cells[1], row.Cells[2], row.Cells[3]}
			if want := []any{tc.ready, tc.status, tc.restarts}; !slices.Equal(got, want) {
				t.Errorf("READY STATUS RESTARTS = %v, want %v", got, want)
			}
			completed := ""
			if len(row.Conditions) == 1 && row.Conditions[0].Type == metav1.RowCompleted {
				completed = row.Conditions[0].Reason
			}
			if completed != tc.completed {
				t.Errorf("completed condition %q, want %q", completed, tc.completed)
			}
			if row.Object.Object != tc.pod {
				t.Errorf("row object is %v, want the pod", row.Object.Object)
			}
		})
	}
}

func TestPodWideColumns(t *testing.T) {
	p := withCondition(pod(corev1.PodRunning, nil, running(true, 0)), "example.com/lb-ready", "")
	p.Spec.NodeName = "node-a"
	p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "example.com/lb-ready"}, {ConditionType: "example.com/dns-ready"}}
	p.Status.PodIPs = []corev1.PodIP{{IP: "10.244.1.7"}, {IP: "fd00::7"}}
	p.Status.NominatedNodeName = "node-b"

	table, err := NewPodTableConvertor().ConvertToTable(context.Background(), p, &metav1.TableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names, wide []string
	for _, c := range table.ColumnDefinitions {
		names = append(names, c.Name)
		if c.Priority == 1 {
			wide = append(wide, c.Name)
		}
	}
	wantNames := []string{"Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("columns %v, want %v", names, wantNames)
	}
	if !slices.Equal(wide, wantNames[5:]) {
		t.Errorf("wide columns %v, want %v", wide, wantNames[5:])
	}
	want := []any{"web", "1/1", "Running", "0", "3h", "10.244.1.7", "node-a", "node-b", "1/2"}
	if !slices.Equal(table.Rows[0].Cells, want) {
		t.Errorf("cells %v, want %v", table.Rows[0].Cells, want)
	}

	p.Status.PodIPs = nil
	p.Status.PodIP = "10.244.1.8"
	table, err = NewPodTableConvertor().ConvertToTable(context.Background(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := table.Rows[0].Cells[5]; got != "10.244.1.8" {
		t.Errorf("IP of a pod with podIP alone is %v, want 10.244.1.8", got)
	}

	bare := pod(corev1.PodPending, nil)
	table, err = NewPodTableConvertor().ConvertToTable(context.Background(), bare, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := table.Rows[0].Cells[5:]; !slices.Equal(got, []any{"<none>", "<none>", "<none>", "<none>"}) {
		t.Errorf("wide cells of an unscheduled pod %v, want <none>s", got)
	}
}
