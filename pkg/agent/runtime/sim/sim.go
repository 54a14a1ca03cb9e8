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

// Package sim is a runtime that runs nothing: its pods are Running as soon
// as they are synced and stop when told. It lets one process stand in for
// thousands of nodes in scale tests and benchmarks of everything above the
// node.
package sim

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// podNetwork is where simulated pods get their addresses: the shared
// address space of RFC 6598, which no real pod network here uses.
var podNetwork = netip.MustParsePrefix("100.64.0.0/10")

// Runtime is the simulated runtime.
type Runtime struct {
	mu     sync.Mutex
	pods   map[types.UID]*pod
	nextIP uint32
}

type pod struct {
	ref     runtime.PodRef
	ip      string
	started metav1.Time
	stopped *metav1.Time
}

var _ runtime.Runtime = &Runtime{}

// New returns an empty simulated runtime.
func New() *Runtime { return &Runtime{pods: map[types.UID]*pod{}} }

// Name implements runtime.Runtime.
func (*Runtime) Name() string { return "simulated" }

// Ready implements runtime.Runtime: a simulated runtime is always ready.
func (*Runtime) Ready(context.Context) error { return nil }

// SyncPod implements runtime.Runtime: everything the pod asks for runs at once.
func (r *Runtime) SyncPod(_ context.Context, p *v1.Pod) (runtime.PodStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sp, ok := r.pods[p.UID]
	if !ok {
		sp = &pod{
			ref: runtime.PodRef{UID: p.UID, Tenant: string(tenancy.OfObject(p.Annotations)), Namespace: p.Namespace, Name: p.Name},
			ip:  r.allocateIP(), started: metav1.Now(),
		}
		r.pods[p.UID] = sp
	}
	return sp.status(p), nil
}

func (r *Runtime) allocateIP() string {
	base := podNetwork.Addr().As4()
	n := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	size := uint32(1) << (32 - podNetwork.Bits())
	r.nextIP = (r.nextIP + 1) % size
	n += r.nextIP
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}).String()
}

func (sp *pod) status(p *v1.Pod) runtime.PodStatus {
	status := runtime.PodStatus{PodIPs: []string{sp.ip}}
	if vm := p.Spec.VirtualMachine; vm != nil {
		name := vm.Name
		if name == "" {
			name = "vm"
		}
		vs := &v1.VirtualMachineStatus{Name: name, State: v1.VirtualMachineRunning, PowerState: v1.PowerStateRunning, Accelerator: "simulated", Ready: true}
		switch {
		case sp.stopped != nil || vm.PowerState == v1.PowerStateShutdown:
			vs.State, vs.PowerState, vs.Ready = v1.VirtualMachineStopped, v1.PowerStateShutdown, false
		case vm.PowerState == v1.PowerStatePaused:
			vs.State, vs.PowerState, vs.Ready = v1.VirtualMachinePaused, v1.PowerStatePaused, false
		}
		status.VirtualMachine = vs
		return status
	}
	for i, c := range p.Spec.Containers {
		cs := corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: "sim://" + c.Image,
			ContainerID: fmt.Sprintf("sim://%s/%d", p.UID, i),
			Started:     new(true), Ready: sp.stopped == nil,
		}
		if sp.stopped != nil {
			cs.State.Terminated = &corev1.ContainerStateTerminated{Reason: "Completed", StartedAt: sp.started, FinishedAt: *sp.stopped}
		} else {
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: sp.started}
		}
		status.Containers = append(status.Containers, cs)
	}
	return status
}

// StopPod implements runtime.Runtime: the pod's containers end at once.
func (r *Runtime) StopPod(_ context.Context, p *v1.Pod, _ time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if sp, ok := r.pods[p.UID]; ok && sp.stopped == nil {
		now := metav1.Now()
		sp.stopped = &now
	}
	return nil
}

// RemovePod implements runtime.Runtime.
func (r *Runtime) RemovePod(_ context.Context, uid types.UID) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.pods, uid)
	return nil
}

// Pods implements runtime.Runtime.
func (r *Runtime) Pods(context.Context) ([]runtime.PodRef, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]runtime.PodRef, 0, len(r.pods))
	for _, sp := range r.pods {
		out = append(out, sp.ref)
	}
	return out, nil
}

// Logs implements runtime.Runtime: simulated containers print one line.
func (r *Runtime) Logs(_ context.Context, p *v1.Pod, container string, _ runtime.LogOptions, w io.Writer) error {
	_, err := fmt.Fprintf(w, "simulated %s of pod %s/%s\n", container, p.Namespace, p.Name)
	return err
}
