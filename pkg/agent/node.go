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
	"context"
	"fmt"
	"sync/atomic"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

// NodeSpec describes a node the agent registers and keeps alive.
type NodeSpec struct {
	Name string
	// Capacity of the node; allocatable is the same (no reservations yet).
	Capacity    corev1.ResourceList
	Labels      map[string]string
	Annotations map[string]string
	Addresses   []corev1.NodeAddress
	PodCIDR     string
	// DaemonPort is where the agent serves logs and exec for the API server.
	DaemonPort int32
	NodeInfo   corev1.NodeSystemInfo
}

// Timing of heartbeats, as the kubelet's defaults.
const (
	leaseDuration      = 40 * time.Second
	leaseRenewInterval = 10 * time.Second
	// leaseRetryInterval is how soon a failed renewal is tried again.
	leaseRetryInterval   = time.Second
	statusUpdateInterval = 10 * time.Second
	// statusReportInterval is how often an unchanged status is written
	// anyway; liveness itself is the Lease.
	statusReportInterval = 5 * time.Minute
)

// node is the agent's record of one of its nodes.
type node struct {
	spec NodeSpec
	// client writes the node's Node and Lease.
	client kubernetes.Interface
	uid    types.UID
	lease  *coordinationv1.Lease
	// reported is the status last written, and when.
	reported   corev1.NodeStatus
	reportedAt time.Time
	// overridden is set when the Node's conditions were changed by someone
	// else (the node lifecycle controller marks a silent node Unknown), so
	// that the next status update writes even if the agent's view did not
	// change.
	overridden atomic.Bool
}

func (n *node) desiredStatus(conditions []corev1.NodeCondition, runtimeVersion string) corev1.NodeStatus {
	info := n.spec.NodeInfo
	if runtimeVersion != "" {
		info.ContainerRuntimeVersion = runtimeVersion
	}
	return corev1.NodeStatus{
		Capacity:    n.spec.Capacity.DeepCopy(),
		Allocatable: n.spec.Capacity.DeepCopy(),
		Phase:       corev1.NodeRunning,
		Conditions:  conditions,
		Addresses:   n.spec.Addresses,
		DaemonEndpoints: corev1.NodeDaemonEndpoints{
			KubeletEndpoint: corev1.DaemonEndpoint{Port: n.spec.DaemonPort},
		},
		NodeInfo: info,
	}
}

// register creates the Node, or takes over an existing one (an agent
// restarting): labels and status are brought up to date, taints and
// unschedulable, which belong to administrators, are kept.
func (a *Agent) register(ctx context.Context, n *node) error {
	want := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: n.spec.Name, Labels: n.spec.Labels, Annotations: n.spec.Annotations},
		Spec:       corev1.NodeSpec{PodCIDR: n.spec.PodCIDR},
	}
	if n.spec.PodCIDR != "" {
		want.Spec.PodCIDRs = []string{n.spec.PodCIDR}
	}
	nodes := n.client.CoreV1().Nodes()
	created, err := nodes.Create(ctx, want, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		existing, getErr := nodes.Get(ctx, n.spec.Name, metav1.GetOptions{})
		if getErr != nil {
			return fmt.Errorf("reading node %s: %w", n.spec.Name, getErr)
		}
		if existing.Labels == nil {
			existing.Labels = map[string]string{}
		}
		if existing.Annotations == nil {
			existing.Annotations = map[string]string{}
		}
		changed := false
		for k, v := range n.spec.Labels {
			if existing.Labels[k] != v {
				existing.Labels[k], changed = v, true
			}
		}
		for k, v := range n.spec.Annotations {
			if existing.Annotations[k] != v {
				existing.Annotations[k], changed = v, true
			}
		}
		if existing.Spec.PodCIDR == "" && n.spec.PodCIDR != "" {
			existing.Spec.PodCIDR, existing.Spec.PodCIDRs, changed = want.Spec.PodCIDR, want.Spec.PodCIDRs, true
		}
		created = existing
		if changed {
			created, err = nodes.Update(ctx, existing, metav1.UpdateOptions{})
		} else {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("registering node %s: %w", n.spec.Name, err)
	}
	n.uid = created.UID
	if err := a.updateNodeStatus(ctx, n, created, true); err != nil {
		return err
	}
	if err := a.renewLease(ctx, n); err != nil {
		return err
	}
	a.beats.start(n.spec.Name, time.Now())
	return nil
}

// updateNodeStatus writes the node's status when it changed or has not
// been written for statusReportInterval. current, if given, is the Node as
// last read.
func (a *Agent) updateNodeStatus(ctx context.Context, n *node, current *corev1.Node, force bool) error {
	conditions := a.nodeConditions(ctx, n)
	var version string
	if v, ok := a.rt.Containers.(interface{ Version() string }); ok {
		version = v.Version()
	}
	desired := n.desiredStatus(conditions, version)
	if !force && !n.overridden.Load() && time.Since(n.reportedAt) < statusReportInterval && sameStatus(n.reported, desired) {
		return nil
	}
	nodes := n.client.CoreV1().Nodes()
	if current == nil {
		var err error
		if current, err = nodes.Get(ctx, n.spec.Name, metav1.GetOptions{}); err != nil {
			return fmt.Errorf("reading node %s: %w", n.spec.Name, err)
		}
	}
	now := metav1.Now()
	for i := range desired.Conditions {
		c := &desired.Conditions[i]
		c.LastHeartbeatTime = now
		c.LastTransitionTime = now
		for _, old := range current.Status.Conditions {
			if old.Type == c.Type && old.Status == c.Status {
				c.LastTransitionTime = old.LastTransitionTime
			}
		}
	}
	updated := current.DeepCopy()
	updated.Status = desired
	updated.Status.Images = current.Status.Images
	if _, err := nodes.UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("updating status of node %s: %w", n.spec.Name, err)
	}
	n.reported, n.reportedAt = desired, time.Now()
	n.overridden.Store(false)
	return nil
}

// noticeNode looks at a Node as the API server has it: a condition the
// agent posts that reads Unknown was set by the node lifecycle controller
// while the agent was unheard, and must be corrected, as the kubelet does
// by comparing with the Node it reads.
func (a *Agent) noticeNode(obj any) {
	node, ok := obj.(*corev1.Node)
	if !ok {
		return
	}
	n, ours := a.nodes[node.Name]
	if !ours {
		return
	}
	for _, c := range node.Status.Conditions {
		switch c.Type {
		case corev1.NodeReady, v1.NodeContainerRuntimeReady, v1.NodeVMRuntimeReady:
			if c.Status == corev1.ConditionUnknown {
				n.overridden.Store(true)
				return
			}
		}
	}
}

// sameStatus compares statuses without heartbeat and transition times.
// Every node runs it every statusUpdateInterval, so it compares the
// conditions field by field rather than deep-copying both statuses to
// blank their times.
func sameStatus(a, b corev1.NodeStatus) bool {
	if len(a.Conditions) != len(b.Conditions) {
		return false
	}
	for i, x := range a.Conditions {
		y := b.Conditions[i]
		if x.Type != y.Type || x.Status != y.Status || x.Reason != y.Reason || x.Message != y.Message {
			return false
		}
	}
	a.Conditions, b.Conditions = nil, nil
	return apiequality.Semantic.DeepEqual(a, b)
}

func (a *Agent) nodeConditions(ctx context.Context, n *node) []corev1.NodeCondition {
	containers := a.rt.Containers.Ready(ctx)
	var vms error = fmt.Errorf("this node runs no virtual machines")
	if a.rt.VMs != nil {
		vms = a.rt.VMs.Ready(ctx)
	}
	cond := func(t corev1.NodeConditionType, err error, okReason, okMessage, badReason string) corev1.NodeCondition {
		if err == nil {
			return corev1.NodeCondition{Type: t, Status: corev1.ConditionTrue, Reason: okReason, Message: okMessage}
		}
		return corev1.NodeCondition{Type: t, Status: corev1.ConditionFalse, Reason: badReason, Message: err.Error()}
	}
	return []corev1.NodeCondition{
		cond(corev1.NodeReady, containers, "AgentReady", "arcturus agent is posting ready status", "ContainerRuntimeNotReady"),
		cond(v1.NodeContainerRuntimeReady, containers, "RuntimeReady", a.rt.Containers.Name()+" is ready", "RuntimeNotReady"),
		cond(v1.NodeVMRuntimeReady, vms, "RuntimeReady", "virtual machines can run", "RuntimeNotReady"),
	}
}

// renewLease renews the node's Lease in kube-node-lease, creating it on
// first use. The Lease is owned by the Node, so that it goes with it.
func (a *Agent) renewLease(ctx context.Context, n *node) error {
	leases := n.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	if n.lease == nil {
		// Create first: a node's first renewal, at its registration, is
		// the common case, and for it the lease does not exist yet.
		created, err := leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{
				Name: n.spec.Name, Namespace: corev1.NamespaceNodeLease,
				OwnerReferences: []metav1.OwnerReference{{
					APIVersion: "v1", Kind: "Node", Name: n.spec.Name, UID: n.uid,
				}},
			},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity:       ptr.To(n.spec.Name),
				LeaseDurationSeconds: ptr.To(int32(leaseDuration / time.Second)),
				RenewTime:            &now,
			},
		}, metav1.CreateOptions{})
		if err == nil {
			n.lease = created
			return nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating lease of node %s: %w", n.spec.Name, err)
		}
		if n.lease, err = leases.Get(ctx, n.spec.Name, metav1.GetOptions{}); err != nil {
			return fmt.Errorf("reading lease of node %s: %w", n.spec.Name, err)
		}
	}
	lease := n.lease.DeepCopy()
	lease.Spec.HolderIdentity = ptr.To(n.spec.Name)
	lease.Spec.LeaseDurationSeconds = ptr.To(int32(leaseDuration / time.Second))
	lease.Spec.RenewTime = &now
	updated, err := leases.Update(ctx, lease, metav1.UpdateOptions{})
	if err != nil {
		// Read it afresh next time: it changed, or was deleted.
		n.lease = nil
		return fmt.Errorf("renewing lease of node %s: %w", n.spec.Name, err)
	}
	n.lease = updated
	return nil
}
