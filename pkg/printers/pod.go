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
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	api "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

// nodeUnreachablePodReason is the status reason of pods on a lost node.
const nodeUnreachablePodReason = "NodeLost"

var (
	podSucceededConditions = []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue,
		Reason: string(corev1.PodSucceeded), Message: "The pod has completed successfully."}}
	podFailedConditions = []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue,
		Reason: string(corev1.PodFailed), Message: "The pod failed."}}
)

// NewPodTableConvertor prints pods: NAME READY STATUS RESTARTS AGE, and
// IP NODE NOMINATED NODE READINESS GATES when wide.
func NewPodTableConvertor() *TableConvertor {
	return newTableConvertor([]metav1.TableColumnDefinition{
		nameColumn,
		column("Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic."),
		column("Status", "string", 0, "The aggregate status of the containers in this pod."),
		column("Restarts", "string", 0, "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
		ageColumn,
		column("IP", "string", 1, corev1.PodStatus{}.SwaggerDoc()["podIP"]),
		column("Node", "string", 1, corev1.PodSpec{}.SwaggerDoc()["nodeName"]),
		column("Nominated Node", "string", 1, corev1.PodStatus{}.SwaggerDoc()["nominatedNodeName"]),
		column("Readiness Gates", "string", 1, corev1.PodSpec{}.SwaggerDoc()["readinessGates"]),
	}, podRow)
}

// podSummary is what the READY, STATUS and RESTARTS columns show.
type podSummary struct {
	ready, total int
	reason       string
	restarts     int
	lastRestart  metav1.Time
}

func podRow(pod *api.Pod) metav1.TableRow {
	reason := string(pod.Status.Phase)
	if pod.Status.Reason != "" {
		reason = pod.Status.Reason
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Reason == corev1.PodReasonSchedulingGated {
			reason = corev1.PodReasonSchedulingGated
		}
	}

	var s podSummary
	if pod.Spec.VirtualMachine != nil {
		s = summarizeVirtualMachine(pod, reason)
	} else {
		s = summarizeContainers(pod, reason)
	}

	if !pod.DeletionTimestamp.IsZero() {
		switch {
		case pod.Status.Reason == nodeUnreachablePodReason:
			s.reason = "Unknown"
		case !isTerminal(pod.Status.Phase):
			s.reason = "Terminating"
		}
	}

	restarts := strconv.Itoa(s.restarts)
	if s.restarts != 0 && !s.lastRestart.IsZero() {
		restarts = fmt.Sprintf("%d (%s ago)", s.restarts, age(s.lastRestart))
	}
	// Arcturus stores v1 pods as written, so a status may carry podIP alone.
	podIP := pod.Status.PodIP
	if len(pod.Status.PodIPs) > 0 {
		podIP = pod.Status.PodIPs[0].IP
	}
	row := cells(pod.Name, fmt.Sprintf("%d/%d", s.ready, s.total), s.reason, restarts, age(pod.CreationTimestamp),
		orNone(podIP), orNone(pod.Spec.NodeName), orNone(pod.Status.NominatedNodeName), readinessGates(pod))
	switch pod.Status.Phase {
	case corev1.PodSucceeded:
		row.Conditions = podSucceededConditions
	case corev1.PodFailed:
		row.Conditions = podFailedConditions
	}
	return row
}

func isTerminal(phase corev1.PodPhase) bool {
	return phase == corev1.PodSucceeded || phase == corev1.PodFailed
}

// summarizeVirtualMachine counts a VM pod's one VM as its one container.
// The status is the VM's reason, else its state when that says more than
// the pod's phase or reason does.
func summarizeVirtualMachine(pod *api.Pod, reason string) podSummary {
	s := podSummary{total: 1, reason: reason}
	vm := pod.Status.VirtualMachineStatus
	if vm == nil {
		return s
	}
	if vm.Ready {
		s.ready = 1
	}
	s.restarts = int(vm.RestartCount)
	switch {
	case vm.Reason != "":
		s.reason = vm.Reason
	case pod.Status.Reason == "" && vm.State != "" && vm.State != api.VirtualMachineRunning:
		s.reason = string(vm.State)
	}
	return s
}

// summarizeContainers computes the columns as kubectl does: the first init
// container not done yet explains the status (Init:1/2, Init:ErrImagePull);
// after initialization, the last container with a waiting or terminated
// reason does (CrashLoopBackOff, Completed, Error). Sidecars, init containers
// that restart always, count as containers once started.
func summarizeContainers(pod *api.Pod, reason string) podSummary {
	s := podSummary{total: len(pod.Spec.Containers), reason: reason}
	sidecars := map[string]bool{}
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars[c.Name] = true
			s.total++
		}
	}

	// Restarts of ordinary init containers count only while initializing.
	var sidecarRestarts int
	var lastSidecarRestart metav1.Time
	initializing := false
	for i, c := range pod.Status.InitContainerStatuses {
		s.restarts += int(c.RestartCount)
		s.lastRestart = later(s.lastRestart, c.LastTerminationState)
		if sidecars[c.Name] {
			sidecarRestarts += int(c.RestartCount)
			lastSidecarRestart = later(lastSidecarRestart, c.LastTerminationState)
		}
		switch {
		case c.State.Terminated != nil && c.State.Terminated.ExitCode == 0:
			continue
		case sidecars[c.Name] && c.Started != nil && *c.Started:
			if c.Ready {
				s.ready++
			}
			continue
		case c.State.Terminated != nil:
			s.reason = "Init:" + terminatedReason(c.State.Terminated)
		case c.State.Waiting != nil && c.State.Waiting.Reason != "" && c.State.Waiting.Reason != "PodInitializing":
			s.reason = "Init:" + c.State.Waiting.Reason
		default:
			s.reason = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
		}
		initializing = true
		break
	}
	if initializing && !hasCondition(pod, corev1.PodInitialized) {
		return s
	}

	s.restarts, s.lastRestart = sidecarRestarts, lastSidecarRestart
	hasRunning := false
	for i := len(pod.Status.ContainerStatuses) - 1; i >= 0; i-- {
		c := pod.Status.ContainerStatuses[i]
		s.restarts += int(c.RestartCount)
		s.lastRestart = later(s.lastRestart, c.LastTerminationState)
		switch {
		case c.State.Waiting != nil && c.State.Waiting.Reason != "":
			s.reason = c.State.Waiting.Reason
		case c.State.Terminated != nil:
			s.reason = terminatedReason(c.State.Terminated)
		case c.Ready && c.State.Running != nil:
			hasRunning = true
			s.ready++
		}
	}
	// A pod with a container still running is not Completed yet.
	if s.reason == "Completed" && hasRunning {
		s.reason = "NotReady"
		if hasCondition(pod, corev1.PodReady) {
			s.reason = "Running"
		}
	}
	return s
}

// terminatedReason names a termination: its reason, else its signal or exit code.
func terminatedReason(t *corev1.ContainerStateTerminated) string {
	switch {
	case t.Reason != "":
		return t.Reason
	case t.Signal != 0:
		return fmt.Sprintf("Signal:%d", t.Signal)
	}
	return fmt.Sprintf("ExitCode:%d", t.ExitCode)
}

// later returns the later of t and the end of a last termination, if any.
func later(t metav1.Time, last corev1.ContainerState) metav1.Time {
	if last.Terminated != nil && t.Before(&last.Terminated.FinishedAt) {
		return last.Terminated.FinishedAt
	}
	return t
}

func hasCondition(pod *api.Pod, condition corev1.PodConditionType) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == condition {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// readinessGates prints how many of the pod's readiness gates are true.
func readinessGates(pod *api.Pod) string {
	if len(pod.Spec.ReadinessGates) == 0 {
		return "<none>"
	}
	trueGates := 0
	for _, gate := range pod.Spec.ReadinessGates {
		if hasCondition(pod, gate.ConditionType) {
			trueGates++
		}
	}
	return fmt.Sprintf("%d/%d", trueGates, len(pod.Spec.ReadinessGates))
}
