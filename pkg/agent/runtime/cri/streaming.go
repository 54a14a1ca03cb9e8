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
	"fmt"
	"net/url"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

var _ runtime.Streamer = &Runtime{}

// runningContainer is the ID of the running instance of a container.
func (r *Runtime) runningContainer(ctx context.Context, pod *v1.Pod, name string) (string, error) {
	byName, err := r.containers(ctx, pod.UID)
	if err != nil {
		return "", err
	}
	for _, c := range byName[name] {
		if c.State == runtimeapi.ContainerState_CONTAINER_RUNNING {
			return c.Id, nil
		}
	}
	return "", fmt.Errorf("container %s of pod %s is not running", name, pod.Name)
}

// Exec implements runtime.Streamer.
func (r *Runtime) Exec(ctx context.Context, pod *v1.Pod, container string, cmd []string, s runtime.Streams) (*url.URL, error) {
	id, err := r.runningContainer(ctx, pod, container)
	if err != nil {
		return nil, err
	}
	resp, err := r.services.Exec(ctx, &runtimeapi.ExecRequest{
		ContainerId: id, Cmd: cmd, Tty: s.TTY, Stdin: s.Stdin, Stdout: s.Stdout, Stderr: s.Stderr && !s.TTY,
	})
	if err != nil {
		return nil, fmt.Errorf("exec in %s: %w", container, err)
	}
	return url.Parse(resp.Url)
}

// Attach implements runtime.Streamer.
func (r *Runtime) Attach(ctx context.Context, pod *v1.Pod, container string, s runtime.Streams) (*url.URL, error) {
	id, err := r.runningContainer(ctx, pod, container)
	if err != nil {
		return nil, err
	}
	resp, err := r.services.Attach(ctx, &runtimeapi.AttachRequest{
		ContainerId: id, Tty: s.TTY, Stdin: s.Stdin, Stdout: s.Stdout, Stderr: s.Stderr && !s.TTY,
	})
	if err != nil {
		return nil, fmt.Errorf("attach to %s: %w", container, err)
	}
	return url.Parse(resp.Url)
}

// PortForward implements runtime.Streamer.
func (r *Runtime) PortForward(ctx context.Context, pod *v1.Pod, ports []int32) (*url.URL, error) {
	list, err := r.sandboxes(ctx, pod.UID)
	if err != nil {
		return nil, err
	}
	for _, sb := range list {
		if sb.State == runtimeapi.PodSandboxState_SANDBOX_READY {
			resp, err := r.services.PortForward(ctx, &runtimeapi.PortForwardRequest{PodSandboxId: sb.Id, Port: ports})
			if err != nil {
				return nil, fmt.Errorf("port-forward: %w", err)
			}
			return url.Parse(resp.Url)
		}
	}
	return nil, fmt.Errorf("pod %s has no running sandbox", pod.Name)
}
