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

package cri

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

// Waiting reasons, as the kubelet reports them.
const (
	reasonCreating          = "ContainerCreating"
	reasonCrashLoopBackOff  = "CrashLoopBackOff"
	reasonErrImagePull      = "ErrImagePull"
	reasonImagePullBackOff  = "ImagePullBackOff"
	reasonErrImageNeverPull = "ErrImageNeverPull"
	reasonConfigError       = "CreateContainerConfigError"
	reasonCreateError       = "CreateContainerError"
	reasonPodInitializing   = "PodInitializing"
)

// SyncPod implements runtime.Runtime for container pods.
func (r *Runtime) SyncPod(ctx context.Context, pod *v1.Pod) (runtime.PodStatus, error) {
	sb, err := r.ensureSandbox(ctx, pod, false)
	if err != nil {
		r.event(pod, corev1.EventTypeWarning, "FailedCreatePodSandBox", err.Error())
		return runtime.PodStatus{}, err
	}
	byName, err := r.containers(ctx, pod.UID)
	if err != nil {
		return runtime.PodStatus{}, err
	}
	status := runtime.PodStatus{PodIPs: sb.IPs}
	s := &podSync{r: r, pod: pod, sandbox: sb, byName: byName}

	initDone := true
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		cs := s.syncContainer(ctx, c, initDone)
		status.InitContainers = append(status.InitContainers, cs)
		if t := cs.State.Terminated; t == nil || t.ExitCode != 0 {
			initDone = false
		}
	}
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		status.Containers = append(status.Containers, s.syncContainer(ctx, c, initDone))
	}
	r.pruneInstances(ctx, byName)
	return status, nil
}

// podSync is one sync of one pod.
type podSync struct {
	r       *Runtime
	pod     *v1.Pod
	sandbox sandbox
	byName  map[string][]*runtimeapi.Container
}

// syncContainer starts or restarts one container when it should, and
// returns its status. mayStart is false for containers that wait for init
// containers.
func (s *podSync) syncContainer(ctx context.Context, c *corev1.Container, mayStart bool) corev1.ContainerStatus {
	instances := s.byName[c.Name]
	waiting := func(reason, message string) corev1.ContainerStatus {
		st := corev1.ContainerStatus{Name: c.Name, Image: c.Image,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}}}
		if len(instances) > 0 {
			st = s.r.containerStatus(ctx, c, instances)
			st.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}}
		}
		return st
	}
	if !mayStart && len(instances) == 0 {
		return waiting(reasonPodInitializing, "")
	}

	var attempt uint32
	if len(instances) > 0 {
		latest := instances[0]
		switch latest.State {
		case runtimeapi.ContainerState_CONTAINER_RUNNING:
			return s.r.containerStatus(ctx, c, instances)
		case runtimeapi.ContainerState_CONTAINER_CREATED:
			// Created by an agent that stopped before starting it.
			if err := s.r.services.StartContainer(ctx, latest.Id); err != nil {
				s.r.event(s.pod, corev1.EventTypeWarning, "Failed", fmt.Sprintf("Error: %v", err))
			}
			return s.r.containerStatus(ctx, c, s.refresh(ctx, c.Name))
		}
		exit := s.r.exitCode(ctx, latest.Id)
		if !shouldRestart(s.pod.Spec.RestartPolicy, exit) || !mayStart {
			return s.r.containerStatus(ctx, c, instances)
		}
		key := backOffKey(s.pod.UID, c.Name)
		if s.r.backOff.IsInBackOffSinceUpdate(key, s.r.backOff.Clock.Now()) {
			delay := s.r.backOff.Get(key)
			msg := fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", delay, c.Name, s.pod.Name, s.pod.Namespace, s.pod.UID)
			s.r.event(s.pod, corev1.EventTypeWarning, "BackOff", "Back-off restarting failed container "+c.Name+" in pod "+s.pod.Name)
			st := s.r.containerStatus(ctx, c, instances)
			st.LastTerminationState = st.State
			st.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reasonCrashLoopBackOff, Message: msg}}
			st.Ready, st.Started = false, new(false)
			return st
		}
		s.r.backOff.Next(key, s.r.backOff.Clock.Now())
		attempt = latest.GetMetadata().GetAttempt() + 1
	}

	image, reason, err := s.r.ensureImage(ctx, s.pod, c)
	if err != nil {
		return waiting(reason, err.Error())
	}
	config, err := s.r.containerConfig(ctx, s.pod, c, attempt, image, s.sandbox.IPs)
	if err != nil {
		var ce configError
		if errors.As(err, &ce) {
			s.r.event(s.pod, corev1.EventTypeWarning, "Failed", "Error: "+err.Error())
			return waiting(reasonConfigError, err.Error())
		}
		return waiting(reasonCreateError, err.Error())
	}
	id, err := s.r.services.CreateContainer(ctx, s.sandbox.ID, config, s.sandbox.config)
	if err != nil {
		s.r.event(s.pod, corev1.EventTypeWarning, "Failed", "Error: "+err.Error())
		return waiting(reasonCreateError, err.Error())
	}
	s.r.event(s.pod, corev1.EventTypeNormal, "Created", "Created container "+c.Name)
	if err := s.r.services.StartContainer(ctx, id); err != nil {
		s.r.event(s.pod, corev1.EventTypeWarning, "Failed", "Error: "+err.Error())
	} else {
		s.r.event(s.pod, corev1.EventTypeNormal, "Started", "Started container "+c.Name)
	}
	return s.r.containerStatus(ctx, c, s.refresh(ctx, c.Name))
}

func (s *podSync) refresh(ctx context.Context, name string) []*runtimeapi.Container {
	byName, err := s.r.containers(ctx, s.pod.UID)
	if err != nil {
		return s.byName[name]
	}
	s.byName = byName
	return byName[name]
}

func shouldRestart(policy corev1.RestartPolicy, exitCode int32) bool {
	switch policy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return exitCode != 0
	default:
		return true
	}
}

func backOffKey(uid types.UID, container string) string { return string(uid) + "/" + container }

func (r *Runtime) exitCode(ctx context.Context, id string) int32 {
	st, err := r.services.ContainerStatus(ctx, id, false)
	if err != nil {
		return -1
	}
	return st.GetStatus().GetExitCode()
}

// containerStatus reports the newest instance of a container, with the
// one before it as its last termination state.
func (r *Runtime) containerStatus(ctx context.Context, c *corev1.Container, instances []*runtimeapi.Container) corev1.ContainerStatus {
	out := corev1.ContainerStatus{Name: c.Name, Image: c.Image, Started: new(false)}
	if len(instances) == 0 {
		out.State.Waiting = &corev1.ContainerStateWaiting{Reason: reasonCreating}
		return out
	}
	latest := instances[0]
	out.RestartCount = int32(latest.GetMetadata().GetAttempt())
	st, err := r.services.ContainerStatus(ctx, latest.Id, false)
	if err != nil {
		out.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerStatusUnknown", Message: err.Error()}
		return out
	}
	out.State = stateOf(st.GetStatus())
	out.ContainerID = "containerd://" + latest.Id
	out.ImageID = st.GetStatus().GetImageRef()
	running := out.State.Running != nil
	out.Ready, out.Started = running, &running
	if len(instances) > 1 {
		if prev, err := r.services.ContainerStatus(ctx, instances[1].Id, false); err == nil {
			out.LastTerminationState = stateOf(prev.GetStatus())
		}
	}
	return out
}

func stateOf(st *runtimeapi.ContainerStatus) corev1.ContainerState {
	switch st.GetState() {
	case runtimeapi.ContainerState_CONTAINER_RUNNING:
		return corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: nanoTime(st.StartedAt)}}
	case runtimeapi.ContainerState_CONTAINER_EXITED:
		reason := st.GetReason()
		if reason == "" {
			reason = "Error"
			if st.GetExitCode() == 0 {
				reason = "Completed"
			}
		}
		return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: st.GetExitCode(), Reason: reason, Message: st.GetMessage(),
			StartedAt: nanoTime(st.StartedAt), FinishedAt: nanoTime(st.FinishedAt),
			ContainerID: "containerd://" + st.GetId(),
		}}
	case runtimeapi.ContainerState_CONTAINER_CREATED:
		return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reasonCreating}}
	default:
		return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerStatusUnknown"}}
	}
}

func nanoTime(ns int64) metav1.Time {
	if ns == 0 {
		return metav1.Time{}
	}
	return metav1.NewTime(time.Unix(0, ns))
}

// pruneInstances removes exited instances older than the two newest of
// each container: the newest is the container, the one before it what
// `kubectl logs --previous` reads.
func (r *Runtime) pruneInstances(ctx context.Context, byName map[string][]*runtimeapi.Container) {
	for _, instances := range byName {
		for _, c := range instances[min(2, len(instances)):] {
			if c.State == runtimeapi.ContainerState_CONTAINER_EXITED {
				if err := r.services.RemoveContainer(ctx, c.Id); err != nil {
					klog.FromContext(ctx).V(2).Info("Removing old container failed", "container", c.Id, "err", err)
				}
			}
		}
	}
}

// ensureImage makes the container's image present per its pull policy. It
// returns the image reference to create the container from, or a waiting
// reason and error.
func (r *Runtime) ensureImage(ctx context.Context, pod *v1.Pod, c *corev1.Container) (string, string, error) {
	spec := &runtimeapi.ImageSpec{Image: c.Image, UserSpecifiedImage: c.Image}
	key := "pull/" + string(pod.UID) + "/" + c.Image
	if c.ImagePullPolicy != corev1.PullAlways {
		st, err := r.images.ImageStatus(ctx, spec, false)
		if err != nil {
			return "", reasonErrImagePull, fmt.Errorf("image status of %s: %w", c.Image, err)
		}
		if st.GetImage() != nil {
			r.backOff.Reset(key)
			return st.GetImage().GetId(), "", nil
		}
		if c.ImagePullPolicy == corev1.PullNever {
			msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", c.Image)
			r.event(pod, corev1.EventTypeWarning, reasonErrImageNeverPull, msg)
			return "", reasonErrImageNeverPull, errors.New(msg)
		}
	}
	if r.backOff.IsInBackOffSinceUpdate(key, r.backOff.Clock.Now()) {
		msg := fmt.Sprintf("Back-off pulling image %q", c.Image)
		r.event(pod, corev1.EventTypeNormal, "BackOff", msg)
		return "", reasonImagePullBackOff, errors.New(msg)
	}
	r.event(pod, corev1.EventTypeNormal, "Pulling", fmt.Sprintf("Pulling image %q", c.Image))
	start := time.Now()
	ref, err := r.pull(ctx, spec)
	if err != nil {
		r.backOff.Next(key, r.backOff.Clock.Now())
		msg := fmt.Sprintf("Failed to pull image %q: %v", c.Image, err)
		r.event(pod, corev1.EventTypeWarning, "Failed", msg)
		return "", reasonErrImagePull, errors.New(msg)
	}
	r.backOff.Reset(key)
	r.event(pod, corev1.EventTypeNormal, "Pulled", fmt.Sprintf("Successfully pulled image %q in %s", c.Image, time.Since(start).Round(time.Millisecond)))
	return ref, "", nil
}

// pull pulls an image once even when many pods want it at the same time.
func (r *Runtime) pull(ctx context.Context, spec *runtimeapi.ImageSpec) (string, error) {
	r.pullMu.Lock()
	mu, ok := r.pulling[spec.Image]
	if !ok {
		mu = new(sync.Mutex)
		r.pulling[spec.Image] = mu
	}
	r.pullMu.Unlock()
	mu.Lock()
	defer mu.Unlock()
	return r.images.PullImage(ctx, spec, nil, nil)
}

// sandbox is a pod's ready sandbox.
type sandbox struct {
	runtime.Sandbox
	config *runtimeapi.PodSandboxConfig
}

// EnsureSandbox implements runtime.Sandboxes, for VM pods.
func (r *Runtime) EnsureSandbox(ctx context.Context, pod *v1.Pod) (runtime.Sandbox, error) {
	sb, err := r.ensureSandbox(ctx, pod, true)
	return sb.Sandbox, err
}

// ensureSandbox returns the pod's ready sandbox, making a new one when
// there is none or the last one died (a node reboot): then every container
// of the old one is stopped, as the kubelet does.
// withNetNS also finds its network namespace, which takes CRI's verbose
// status: only VMs need it.
func (r *Runtime) ensureSandbox(ctx context.Context, pod *v1.Pod, withNetNS bool) (sandbox, error) {
	list, err := r.sandboxes(ctx, pod.UID)
	if err != nil {
		return sandbox{}, err
	}
	var attempt uint32
	if len(list) > 0 {
		latest := list[0]
		if latest.State == runtimeapi.PodSandboxState_SANDBOX_READY {
			return r.describeSandbox(ctx, latest.Id, r.sandboxConfig(pod, latest.GetMetadata().GetAttempt()), withNetNS)
		}
		attempt = latest.GetMetadata().GetAttempt() + 1
		if err := r.StopPod(ctx, pod, 0); err != nil {
			return sandbox{}, fmt.Errorf("stopping the containers of a dead sandbox: %w", err)
		}
		// Dead sandboxes hold their names and addresses until removed.
		for _, sb := range list {
			if err := r.services.RemovePodSandbox(ctx, sb.Id); err != nil {
				return sandbox{}, fmt.Errorf("removing a dead sandbox: %w", err)
			}
		}
	}
	cfg := r.sandboxConfig(pod, attempt)
	id, err := r.services.RunPodSandbox(ctx, cfg, "")
	if err != nil {
		return sandbox{}, fmt.Errorf("creating pod sandbox: %w", err)
	}
	klog.FromContext(ctx).V(2).Info("Pod sandbox created", "sandbox", id)
	return r.describeSandbox(ctx, id, cfg, withNetNS)
}

func (r *Runtime) describeSandbox(ctx context.Context, id string, cfg *runtimeapi.PodSandboxConfig, withNetNS bool) (sandbox, error) {
	st, err := r.services.PodSandboxStatus(ctx, id, withNetNS)
	if err != nil {
		return sandbox{}, fmt.Errorf("sandbox status: %w", err)
	}
	sb := sandbox{Sandbox: runtime.Sandbox{ID: id}, config: cfg}
	if net := st.GetStatus().GetNetwork(); net != nil && net.Ip != "" {
		sb.IPs = append(sb.IPs, net.Ip)
		for _, ip := range net.AdditionalIps {
			sb.IPs = append(sb.IPs, ip.Ip)
		}
	}
	if withNetNS {
		sb.NetNS = netnsOf(st.GetInfo())
	}
	return sb, nil
}

// netnsOf finds the network namespace path in containerd's verbose
// sandbox info (the OCI runtime spec of the pause container).
func netnsOf(info map[string]string) string {
	var parsed struct {
		RuntimeSpec struct {
			Linux struct {
				Namespaces []struct {
					Type string `json:"type"`
					Path string `json:"path"`
				} `json:"namespaces"`
			} `json:"linux"`
		} `json:"runtimeSpec"`
	}
	if err := json.Unmarshal([]byte(info["info"]), &parsed); err != nil {
		return ""
	}
	for _, ns := range parsed.RuntimeSpec.Linux.Namespaces {
		if ns.Type == "network" {
			return ns.Path
		}
	}
	return ""
}

func (r *Runtime) event(pod *v1.Pod, eventType, reason, message string) {
	if r.cfg.Recorder != nil {
		r.cfg.Recorder.Event(pod, eventType, reason, message)
	}
}
