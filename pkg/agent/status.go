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
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

// podStatus derives the API status of pod from what its runtime observed,
// the way the kubelet does: the phase from the containers' states and the
// restart policy, and the conditions from the phase and readiness.
func podStatus(pod *v1.Pod, observed runtime.PodStatus, hostIPs []string, now metav1.Time) v1.PodStatus {
	status := *pod.Status.DeepCopy()
	if status.StartTime == nil {
		status.StartTime = &now
	}
	if len(hostIPs) > 0 {
		status.HostIP = hostIPs[0]
		status.HostIPs = nil
		for _, ip := range hostIPs {
			status.HostIPs = append(status.HostIPs, corev1.HostIP{IP: ip})
		}
	}
	if len(observed.PodIPs) > 0 {
		status.PodIP = observed.PodIPs[0]
		status.PodIPs = nil
		for _, ip := range observed.PodIPs {
			status.PodIPs = append(status.PodIPs, corev1.PodIP{IP: ip})
		}
	}
	status.Reason, status.Message = "", ""

	var ready, initialized bool
	if pod.Spec.VirtualMachine != nil {
		status.VirtualMachineStatus = observed.VirtualMachine
		status.Phase, ready = vmPhase(pod, observed.VirtualMachine)
		initialized = true
	} else {
		status.InitContainerStatuses = withDefaults(pod.Spec.InitContainers, observed.InitContainers, "PodInitializing")
		status.ContainerStatuses = withDefaults(pod.Spec.Containers, observed.Containers, "ContainerCreating")
		initialized = initContainersDone(pod.Spec.InitContainers, status.InitContainerStatuses)
		status.Phase = containerPhase(pod.Spec.RestartPolicy, initialized, status.ContainerStatuses)
		ready = initialized && allReady(status.ContainerStatuses)
	}
	if status.Phase == corev1.PodSucceeded || status.Phase == corev1.PodFailed {
		ready = false
	}

	setCondition(&status, corev1.PodReadyToStartContainers, len(observed.PodIPs) > 0, "", now)
	setCondition(&status, corev1.PodInitialized, initialized || status.Phase == corev1.PodSucceeded, reasonUnless(initialized, "ContainersNotInitialized"), now)
	setCondition(&status, corev1.ContainersReady, ready, reasonUnless(ready, "ContainersNotReady"), now)
	setCondition(&status, corev1.PodReady, ready, reasonUnless(ready, "ContainersNotReady"), now)
	return status
}

func reasonUnless(ok bool, reason string) string {
	if ok {
		return ""
	}
	return reason
}

// withDefaults returns a status for every container of the spec, in spec
// order: the observed one, or Waiting with reason while the runtime has
// not made the container yet.
func withDefaults(spec []corev1.Container, observed []corev1.ContainerStatus, reason string) []corev1.ContainerStatus {
	if len(spec) == 0 {
		return nil
	}
	byName := make(map[string]corev1.ContainerStatus, len(observed))
	for _, s := range observed {
		byName[s.Name] = s
	}
	out := make([]corev1.ContainerStatus, 0, len(spec))
	for _, c := range spec {
		s, ok := byName[c.Name]
		if !ok {
			s = corev1.ContainerStatus{
				Name:  c.Name,
				Image: c.Image,
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}},
			}
		}
		out = append(out, s)
	}
	return out
}

// initContainersDone reports whether every init container ran to success.
func initContainersDone(spec []corev1.Container, statuses []corev1.ContainerStatus) bool {
	for i := range spec {
		if i >= len(statuses) {
			return false
		}
		t := statuses[i].State.Terminated
		if t == nil || t.ExitCode != 0 {
			return false
		}
	}
	return true
}

func allReady(statuses []corev1.ContainerStatus) bool {
	for _, s := range statuses {
		if !s.Ready {
			return false
		}
	}
	return true
}

// containerPhase is the kubelet's getPhase: a container waiting for its
// first start keeps the pod Pending; one waiting to be restarted counts as
// stopped, so a crash-looping pod is Running while its policy restarts it.
func containerPhase(policy corev1.RestartPolicy, initialized bool, statuses []corev1.ContainerStatus) corev1.PodPhase {
	if !initialized {
		return corev1.PodPending
	}
	var waiting, running, stopped, succeeded int
	for _, s := range statuses {
		switch {
		case s.State.Running != nil:
			running++
		case s.State.Terminated != nil:
			stopped++
			if s.State.Terminated.ExitCode == 0 {
				succeeded++
			}
		case s.LastTerminationState.Terminated != nil:
			stopped++
			if s.LastTerminationState.Terminated.ExitCode == 0 {
				succeeded++
			}
		default:
			waiting++
		}
	}
	switch {
	case waiting > 0:
		return corev1.PodPending
	case running > 0:
		return corev1.PodRunning
	case stopped > 0:
		switch {
		case policy == corev1.RestartPolicyAlways:
			return corev1.PodRunning
		case stopped == succeeded:
			return corev1.PodSucceeded
		case policy == corev1.RestartPolicyNever:
			return corev1.PodFailed
		default:
			return corev1.PodRunning
		}
	default:
		return corev1.PodPending
	}
}

// vmPhase maps a VM's state to the pod phase. A VM asked to be shut down
// keeps its pod Running (not ready), so that it can be powered on again: a
// terminal phase is final. A guest that powers itself off completes the
// pod unless the restart policy starts it again.
func vmPhase(pod *v1.Pod, vm *v1.VirtualMachineStatus) (phase corev1.PodPhase, ready bool) {
	if vm == nil {
		return corev1.PodPending, false
	}
	wantOff := pod.Spec.VirtualMachine.PowerState == v1.PowerStateShutdown
	switch vm.State {
	case v1.VirtualMachineRunning, v1.VirtualMachinePaused:
		return corev1.PodRunning, vm.Ready
	case v1.VirtualMachineStopped, v1.VirtualMachineFailed:
		failed := vm.State == v1.VirtualMachineFailed
		switch {
		case wantOff && !failed:
			return corev1.PodRunning, false
		case pod.Spec.RestartPolicy == corev1.RestartPolicyAlways,
			pod.Spec.RestartPolicy == corev1.RestartPolicyOnFailure && failed:
			return corev1.PodRunning, false
		case failed:
			return corev1.PodFailed, false
		default:
			return corev1.PodSucceeded, false
		}
	default:
		return corev1.PodPending, false
	}
}

// setCondition sets a condition, moving its transition time only when its
// status changes.
func setCondition(status *v1.PodStatus, t corev1.PodConditionType, ok bool, reason string, now metav1.Time) {
	want := corev1.ConditionFalse
	if ok {
		want = corev1.ConditionTrue
	}
	for i := range status.Conditions {
		c := &status.Conditions[i]
		if c.Type != t {
			continue
		}
		if c.Status != want {
			c.LastTransitionTime = now
		}
		c.Status, c.Reason = want, reason
		return
	}
	status.Conditions = append(status.Conditions, corev1.PodCondition{
		Type: t, Status: want, Reason: reason, LastTransitionTime: now,
	})
}

// statusChanged tells whether a status update is worth a write.
func statusChanged(old, updated *v1.PodStatus) bool {
	return !apiequality.Semantic.DeepEqual(old, updated)
}

// rejectedStatus is the terminal status of a pod the node refuses to run.
func rejectedStatus(pod *v1.Pod, reason, message string, now metav1.Time) v1.PodStatus {
	status := *pod.Status.DeepCopy()
	status.Phase = corev1.PodFailed
	status.Reason, status.Message = reason, message
	if status.StartTime == nil {
		status.StartTime = &now
	}
	return status
}
