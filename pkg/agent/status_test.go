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

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

func running() corev1.ContainerStatus {
	return corev1.ContainerStatus{Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
}

func exited(code int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}}}
}

func backingOff(lastCode int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{
		State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: lastCode}},
	}
}

func creating() corev1.ContainerStatus {
	return corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}
}

func TestContainerPhase(t *testing.T) {
	for _, tc := range []struct {
		name        string
		policy      corev1.RestartPolicy
		initialized bool
		statuses    []corev1.ContainerStatus
		want        corev1.PodPhase
	}{
		{"init containers not done", corev1.RestartPolicyAlways, false, []corev1.ContainerStatus{creating()}, corev1.PodPending},
		{"first start pending", corev1.RestartPolicyAlways, true, []corev1.ContainerStatus{running(), creating()}, corev1.PodPending},
		{"all running", corev1.RestartPolicyNever, true, []corev1.ContainerStatus{running(), running()}, corev1.PodRunning},
		{"one done one running", corev1.RestartPolicyNever, true, []corev1.ContainerStatus{exited(0), running()}, corev1.PodRunning},
		{"all succeeded, Never", corev1.RestartPolicyNever, true, []corev1.ContainerStatus{exited(0), exited(0)}, corev1.PodSucceeded},
		{"all succeeded, OnFailure", corev1.RestartPolicyOnFailure, true, []corev1.ContainerStatus{exited(0)}, corev1.PodSucceeded},
		{"all succeeded, Always restarts", corev1.RestartPolicyAlways, true, []corev1.ContainerStatus{exited(0)}, corev1.PodRunning},
		{"failed, Never", corev1.RestartPolicyNever, true, []corev1.ContainerStatus{exited(0), exited(1)}, corev1.PodFailed},
		{"failed, OnFailure restarts", corev1.RestartPolicyOnFailure, true, []corev1.ContainerStatus{exited(2)}, corev1.PodRunning},
		{"crash loop is Running", corev1.RestartPolicyAlways, true, []corev1.ContainerStatus{backingOff(1)}, corev1.PodRunning},
	} {
		if got := containerPhase(tc.policy, tc.initialized, tc.statuses); got != tc.want {
			t.Errorf("%s: phase %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestVMPhase(t *testing.T) {
	vmPod := func(policy corev1.RestartPolicy, power v1.VirtualMachinePowerState) *v1.Pod {
		return &v1.Pod{Spec: v1.PodSpec{
			PodSpec:        corev1.PodSpec{RestartPolicy: policy},
			VirtualMachine: &v1.VirtualMachineSpec{PowerState: power},
		}}
	}
	for _, tc := range []struct {
		name      string
		pod       *v1.Pod
		vm        *v1.VirtualMachineStatus
		want      corev1.PodPhase
		wantReady bool
	}{
		{"not started", vmPod(corev1.RestartPolicyAlways, v1.PowerStateRunning), nil, corev1.PodPending, false},
		{"running", vmPod(corev1.RestartPolicyAlways, v1.PowerStateRunning), &v1.VirtualMachineStatus{State: v1.VirtualMachineRunning, Ready: true}, corev1.PodRunning, true},
		{"paused", vmPod(corev1.RestartPolicyAlways, v1.PowerStatePaused), &v1.VirtualMachineStatus{State: v1.VirtualMachinePaused}, corev1.PodRunning, false},
		{"shut down on request stays Running", vmPod(corev1.RestartPolicyNever, v1.PowerStateShutdown), &v1.VirtualMachineStatus{State: v1.VirtualMachineStopped}, corev1.PodRunning, false},
		{"guest powered off, Never", vmPod(corev1.RestartPolicyNever, v1.PowerStateRunning), &v1.VirtualMachineStatus{State: v1.VirtualMachineStopped}, corev1.PodSucceeded, false},
		{"guest powered off, Always", vmPod(corev1.RestartPolicyAlways, v1.PowerStateRunning), &v1.VirtualMachineStatus{State: v1.VirtualMachineStopped}, corev1.PodRunning, false},
		{"crashed, Never", vmPod(corev1.RestartPolicyNever, v1.PowerStateRunning), &v1.VirtualMachineStatus{State: v1.VirtualMachineFailed}, corev1.PodFailed, false},
		{"crashed, OnFailure", vmPod(corev1.RestartPolicyOnFailure, v1.PowerStateRunning), &v1.VirtualMachineStatus{State: v1.VirtualMachineFailed}, corev1.PodRunning, false},
	} {
		phase, ready := vmPhase(tc.pod, tc.vm)
		if phase != tc.want || ready != tc.wantReady {
			t.Errorf("%s: phase %s ready %v, want %s %v", tc.name, phase, ready, tc.want, tc.wantReady)
		}
	}
}

func TestPodStatusKeepsTransitionTimes(t *testing.T) {
	pod := &v1.Pod{Spec: v1.PodSpec{PodSpec: corev1.PodSpec{
		RestartPolicy: corev1.RestartPolicyAlways, Containers: []corev1.Container{{Name: "a", Image: "i"}},
	}}}
	first := metav1.Unix(100, 0)
	observed := runtime.PodStatus{PodIPs: []string{"10.0.0.2"}, Containers: []corev1.ContainerStatus{{Name: "a", Ready: true,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}}
	pod.Status = podStatus(pod, observed, []string{"192.0.2.1"}, first)
	if pod.Status.Phase != corev1.PodRunning || pod.Status.PodIP != "10.0.0.2" || pod.Status.HostIP != "192.0.2.1" {
		t.Fatalf("status %+v", pod.Status)
	}
	again := podStatus(pod, observed, []string{"192.0.2.1"}, metav1.Unix(200, 0))
	if statusChanged(&pod.Status, &again) {
		t.Errorf("an unchanged pod's status changed:\n%+v\n%+v", pod.Status, again)
	}
	// A container the runtime has not made yet waits in ContainerCreating.
	fresh := podStatus(&v1.Pod{Spec: pod.Spec}, runtime.PodStatus{}, nil, first)
	if w := fresh.ContainerStatuses[0].State.Waiting; fresh.Phase != corev1.PodPending || w == nil || w.Reason != "ContainerCreating" {
		t.Errorf("fresh pod status %+v", fresh)
	}
}
