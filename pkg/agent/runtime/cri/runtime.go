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

// Package cri runs container pods through the Container Runtime Interface
// (containerd's CRI plugin): one sandbox per pod for its network and
// namespaces, one CRI container per container start, restarted by the
// pod's policy with the kubelet's back-off. The runtime keeps no state of
// its own beyond back-off timers: everything it needs after a restart is
// in CRI's labels.
package cri

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/flowcontrol"
	internalapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	remote "k8s.io/cri-client/pkg"
	"k8s.io/cri-client/pkg/logs"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

// Config wires a CRI runtime.
type Config struct {
	// Endpoint is the CRI socket ("unix:///run/containerd/containerd.sock"
	// or a path).
	Endpoint string
	// Dir holds per-pod logs and volumes: Dir/<uid>/.
	Dir string
	// Recorder receives pod Events; Objects resolves env references.
	Recorder runtime.Recorder
	Objects  runtime.Objects
}

// Back-off of restarts and pulls, as the kubelet's.
const (
	backOffInitial = 10 * time.Second
	backOffMax     = 5 * time.Minute
)

// Runtime is the CRI runtime.
type Runtime struct {
	cfg      Config
	services internalapi.RuntimeService
	images   internalapi.ImageManagerService
	backOff  *flowcontrol.Backoff
	version  string

	// pulling serializes pulls of one image.
	pullMu  sync.Mutex
	pulling map[string]*sync.Mutex
}

var (
	_ runtime.Runtime   = &Runtime{}
	_ runtime.Sandboxes = &Runtime{}
)

// New connects to the CRI endpoint.
func New(ctx context.Context, cfg Config) (*Runtime, error) {
	services, err := remote.NewRemoteRuntimeService(ctx, cfg.Endpoint, 2*time.Minute, nil, false)
	if err != nil {
		return nil, fmt.Errorf("connecting to CRI runtime at %s: %w", cfg.Endpoint, err)
	}
	images, err := remote.NewRemoteImageService(ctx, cfg.Endpoint, 2*time.Minute, nil, false)
	if err != nil {
		return nil, fmt.Errorf("connecting to CRI image service at %s: %w", cfg.Endpoint, err)
	}
	r := &Runtime{
		cfg: cfg, services: services, images: images,
		backOff: flowcontrol.NewBackOff(backOffInitial, backOffMax),
		pulling: map[string]*sync.Mutex{},
	}
	if v, err := services.Version(ctx, "v1"); err == nil {
		r.version = v.RuntimeName + "://" + v.RuntimeVersion
	}
	return r, nil
}

// Name implements runtime.Runtime.
func (*Runtime) Name() string { return "cri" }

// Version is the runtime's name and version, as nodes report it.
func (r *Runtime) Version() string { return r.version }

// Close releases the connections.
func (r *Runtime) Close(ctx context.Context) error {
	return errors.Join(r.services.Close(ctx), r.images.Close(ctx))
}

// Ready implements runtime.Runtime: the runtime and its pod network must
// both be ready.
func (r *Runtime) Ready(ctx context.Context) error {
	st, err := r.services.Status(ctx, false)
	if err != nil {
		return fmt.Errorf("CRI status: %w", err)
	}
	for _, c := range st.GetStatus().GetConditions() {
		if !c.Status {
			return fmt.Errorf("%s: %s %s", c.Type, c.Reason, c.Message)
		}
	}
	return nil
}

func (r *Runtime) podDir(uid types.UID) string    { return filepath.Join(r.cfg.Dir, string(uid)) }
func (r *Runtime) podLogDir(uid types.UID) string { return filepath.Join(r.podDir(uid), "logs") }

func uidFilter(uid types.UID) map[string]string { return map[string]string{labelPodUID: string(uid)} }

// sandboxes lists the sandboxes of a pod, newest first.
func (r *Runtime) sandboxes(ctx context.Context, uid types.UID) ([]*runtimeapi.PodSandbox, error) {
	list, err := r.services.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{LabelSelector: uidFilter(uid)})
	if err != nil {
		return nil, fmt.Errorf("listing sandboxes: %w", err)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].CreatedAt > list[j].CreatedAt })
	return list, nil
}

// containers lists the containers of a pod by name, newest first.
func (r *Runtime) containers(ctx context.Context, uid types.UID) (map[string][]*runtimeapi.Container, error) {
	list, err := r.services.ListContainers(ctx, &runtimeapi.ContainerFilter{LabelSelector: uidFilter(uid)})
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	byName := map[string][]*runtimeapi.Container{}
	for _, c := range list {
		name := c.GetMetadata().GetName()
		byName[name] = append(byName[name], c)
	}
	for _, cs := range byName {
		sort.Slice(cs, func(i, j int) bool {
			if a, b := cs[i].GetMetadata().GetAttempt(), cs[j].GetMetadata().GetAttempt(); a != b {
				return a > b
			}
			return cs[i].CreatedAt > cs[j].CreatedAt
		})
	}
	return byName, nil
}

// StopPod implements runtime.Runtime: every running container gets the
// grace period to exit after its stop signal, all at once, then the
// sandbox and its network go down.
func (r *Runtime) StopPod(ctx context.Context, pod *v1.Pod, grace time.Duration) error {
	byName, err := r.containers(ctx, pod.UID)
	if err != nil {
		return err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, instances := range byName {
		for _, c := range instances {
			if c.State != runtimeapi.ContainerState_CONTAINER_RUNNING && c.State != runtimeapi.ContainerState_CONTAINER_CREATED {
				continue
			}
			wg.Go(func() {
				if err := r.services.StopContainer(ctx, c.Id, int64(grace/time.Second)); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("stopping container %s: %w", c.GetMetadata().GetName(), err))
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	sandboxes, err := r.sandboxes(ctx, pod.UID)
	if err != nil {
		errs = append(errs, err)
	}
	for _, sb := range sandboxes {
		if sb.State == runtimeapi.PodSandboxState_SANDBOX_READY {
			if err := r.services.StopPodSandbox(ctx, sb.Id); err != nil {
				errs = append(errs, fmt.Errorf("stopping sandbox: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

// RemovePod implements runtime.Runtime and runtime.Sandboxes.
func (r *Runtime) RemovePod(ctx context.Context, uid types.UID) error {
	var errs []error
	sandboxes, err := r.sandboxes(ctx, uid)
	if err != nil {
		return err
	}
	for _, sb := range sandboxes {
		// Stopping first tears the network down and frees the pod's address.
		if err := r.services.StopPodSandbox(ctx, sb.Id); err != nil {
			errs = append(errs, fmt.Errorf("stopping sandbox: %w", err))
			continue
		}
		if err := r.services.RemovePodSandbox(ctx, sb.Id); err != nil {
			errs = append(errs, fmt.Errorf("removing sandbox: %w", err))
		}
	}
	// Containers whose sandbox went away some other way.
	byName, err := r.containers(ctx, uid)
	if err != nil {
		errs = append(errs, err)
	}
	for _, instances := range byName {
		for _, c := range instances {
			if err := r.services.RemoveContainer(ctx, c.Id); err != nil {
				errs = append(errs, fmt.Errorf("removing container: %w", err))
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := removePodCgroup(uid); err != nil {
		return fmt.Errorf("removing pod cgroup: %w", err)
	}
	if err := os.RemoveAll(r.podDir(uid)); err != nil {
		return fmt.Errorf("removing pod directory: %w", err)
	}
	return nil
}

// RemoveSandbox implements runtime.Sandboxes.
func (r *Runtime) RemoveSandbox(ctx context.Context, uid types.UID) error {
	return r.RemovePod(ctx, uid)
}

// Pods implements runtime.Runtime: every pod with a sandbox made by an
// Arcturus agent.
func (r *Runtime) Pods(ctx context.Context) ([]runtime.PodRef, error) {
	list, err := r.services.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{
		LabelSelector: map[string]string{labelManagedBy: managedBy},
	})
	if err != nil {
		return nil, fmt.Errorf("listing sandboxes: %w", err)
	}
	seen := map[types.UID]bool{}
	var out []runtime.PodRef
	for _, sb := range list {
		uid := types.UID(sb.Labels[labelPodUID])
		if uid == "" || seen[uid] {
			continue
		}
		seen[uid] = true
		out = append(out, runtime.PodRef{
			UID: uid, Tenant: sb.Labels[labelTenant], Namespace: sb.Labels[labelPodNamespace], Name: sb.Labels[labelPodName],
		})
	}
	return out, nil
}

// Logs implements runtime.Runtime by reading the CRI log files.
func (r *Runtime) Logs(ctx context.Context, pod *v1.Pod, container string, opts runtime.LogOptions, w io.Writer) error {
	byName, err := r.containers(ctx, pod.UID)
	if err != nil {
		return err
	}
	instances := byName[container]
	index := 0
	if opts.Previous {
		index = 1
	}
	if len(instances) <= index {
		if opts.Previous {
			return fmt.Errorf("previous terminated container %q in pod %q not found", container, pod.Name)
		}
		return fmt.Errorf("container %q in pod %q is waiting to start", container, pod.Name)
	}
	c := instances[index]
	status, err := r.services.ContainerStatus(ctx, c.Id, false)
	if err != nil {
		return fmt.Errorf("container status: %w", err)
	}
	lo := &logs.LogOptions{Follow: opts.Follow, Timestamp: opts.Timestamps}
	if opts.TailLines > 0 {
		lo.TailLines = &opts.TailLines
	}
	if opts.LimitBytes > 0 {
		lo.LimitBytes = &opts.LimitBytes
	}
	if opts.SinceTime != nil {
		lo.Since = *opts.SinceTime
	}
	return logs.ReadLogs(ctx, status.GetStatus().GetLogPath(), c.Id, lo, r.services, w, w)
}
