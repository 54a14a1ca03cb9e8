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

// Package runtime is the seam between the node agent and what runs a pod:
// containers through CRI, a virtual machine through QEMU, or nothing at all
// for simulated nodes. The agent owns the API side (watching pods, phases,
// conditions, status writes, deletion); a Runtime owns the node side.
package runtime

import (
	"context"
	"io"
	"net/url"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

// Runtime runs one kind of pod on this node. Every method is safe to call
// concurrently for different pods; the agent never calls two methods for the
// same pod at once.
type Runtime interface {
	// Name is a short name for logs and node conditions.
	Name() string
	// Ready returns nil when the runtime can run pods, or why it cannot.
	Ready(ctx context.Context) error
	// SyncPod moves the pod's state on this node one step toward its spec
	// (creating it, starting or restarting what exited when the restart
	// policy and back-off allow, applying a VM's powerState) and returns what
	// it observes. It must be idempotent: the agent calls it on every change
	// of the pod and periodically. Failures that belong to the pod (a missing
	// image, a command that does not exist) are reported in the returned
	// status with a reason and as an Event, not as an error; an error means
	// the runtime itself failed and the sync is retried with back-off.
	SyncPod(ctx context.Context, pod *v1.Pod) (PodStatus, error)
	// StopPod stops everything the pod runs, allowing grace for it to exit
	// (SIGTERM, then SIGKILL; ACPI power-off, then quit). What is stopped stays
	// inspectable until RemovePod.
	StopPod(ctx context.Context, pod *v1.Pod, grace time.Duration) error
	// RemovePod removes all that remains of the pod on this node: containers,
	// VM process, disk overlays, seeds, network. It is idempotent and works
	// from the UID alone, for pods whose API object is gone.
	RemovePod(ctx context.Context, uid types.UID) error
	// Pods lists the pods the runtime holds on this node, so that an agent
	// that restarts finds them again and removes the ones no longer wanted.
	Pods(ctx context.Context) ([]PodRef, error)
	// Logs writes the log of one container of the pod, or the serial console
	// of its VM, to w; with Follow it keeps writing until ctx ends or the
	// container or VM stops.
	Logs(ctx context.Context, pod *v1.Pod, container string, opts LogOptions, w io.Writer) error
}

// PodRef identifies a pod a runtime holds, across tenants.
type PodRef struct {
	UID       types.UID
	Tenant    string
	Namespace string
	Name      string
}

// PodStatus is what a runtime observes of a pod. The agent derives the
// phase and conditions from it.
type PodStatus struct {
	// PodIPs of the pod network, empty until the network is set up.
	PodIPs []string
	// InitContainers and Containers in spec order, for container pods.
	InitContainers []corev1.ContainerStatus
	Containers     []corev1.ContainerStatus
	// VirtualMachine is the state of a VM pod's VM.
	VirtualMachine *v1.VirtualMachineStatus
}

// LogOptions select part of a log, as kubectl logs does.
type LogOptions struct {
	Follow     bool
	Previous   bool
	Timestamps bool
	// TailLines, when positive, starts this many lines before the end.
	TailLines int64
	// LimitBytes, when positive, stops after this many bytes.
	LimitBytes int64
	// SinceTime, when set, skips lines logged before it.
	SinceTime *time.Time
}

// Recorder publishes Events about a pod, in the pod's tenant and namespace.
type Recorder interface {
	Event(pod *v1.Pod, eventType, reason, message string)
}

// Sandboxes give pods their place on the pod network: a network namespace
// whose eth0 carries the pod's addresses and default route. Containers get
// theirs from CRI directly; a VM pod asks for one and bridges its VM into it.
type Sandboxes interface {
	// EnsureSandbox returns the pod's ready sandbox, creating it if needed.
	EnsureSandbox(ctx context.Context, pod *v1.Pod) (Sandbox, error)
	// RemoveSandbox stops and removes the pod's sandbox and frees its
	// addresses. It is idempotent.
	RemoveSandbox(ctx context.Context, uid types.UID) error
}

// Sandbox is a pod's network namespace on the pod network.
type Sandbox struct {
	// ID of the sandbox in the runtime that made it.
	ID string
	// NetNS is the path of the network namespace (a bind mount under /run/netns or /proc).
	NetNS string
	// IPs of the pod, as configured on eth0 inside NetNS.
	IPs []string
}

// ImageFiles turn an image reference into a file on the node: the single
// regular file that the OCI image's layers hold (a VM disk, a kernel, an
// initrd), pulled according to policy. The returned path must be treated as
// read-only.
type ImageFiles interface {
	ImageFile(ctx context.Context, ref string, policy corev1.PullPolicy) (string, error)
}

// Objects reads the objects a pod refers to (environment from ConfigMaps
// and Secrets) from the pod's own tenant and namespace.
type Objects interface {
	ConfigMap(ctx context.Context, pod *v1.Pod, name string) (*corev1.ConfigMap, error)
	Secret(ctx context.Context, pod *v1.Pod, name string) (*corev1.Secret, error)
}

// Streamer is implemented by runtimes whose pods can be entered: exec,
// attach and port-forward. Each returns the URL of a streaming endpoint
// (SPDY upgrades, as CRI serves them) that the agent proxies the caller to.
type Streamer interface {
	Exec(ctx context.Context, pod *v1.Pod, container string, cmd []string, s Streams) (*url.URL, error)
	Attach(ctx context.Context, pod *v1.Pod, container string, s Streams) (*url.URL, error)
	PortForward(ctx context.Context, pod *v1.Pod, ports []int32) (*url.URL, error)
}

// Streams says which standard streams a session carries.
type Streams struct {
	Stdin, Stdout, Stderr, TTY bool
}
