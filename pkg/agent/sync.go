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
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

// Reasons of pods the node refuses.
const (
	ReasonVMUnsupported = "VirtualMachinesUnsupported"
)

// syncPod brings one pod's state on its node toward its object and writes
// back its status. It returns how soon the pod should be synced again.
func (a *Agent) syncPod(ctx context.Context, uid types.UID) (time.Duration, error) {
	bp, ok := a.pods.get(uid)
	if !ok {
		return 0, a.forget(ctx, uid)
	}
	pod := bp.pod
	ctx = klog.NewContext(ctx, klog.FromContext(ctx).WithValues("pod", klog.KObj(pod), "tenant", bp.tenant(), "uid", uid))

	if pod.DeletionTimestamp != nil {
		a.terminate(ctx, bp)
		return 0, nil
	}
	if terminal(pod.Status.Phase) {
		a.release(uid)
		return 0, nil
	}
	now := metav1.Now()
	if reason, message, ok := a.admit(pod); !ok {
		a.recorder.Event(pod, corev1.EventTypeWarning, reason, message)
		return 0, a.writeStatus(ctx, bp, rejectedStatus(pod, reason, message, now))
	}
	rt := a.runtimeFor(pod)
	observed, err := rt.SyncPod(ctx, pod)
	if err != nil {
		return 0, fmt.Errorf("%s runtime: %w", rt.Name(), err)
	}
	status := podStatus(pod, observed, a.hostIPs(pod.Spec.NodeName), now)
	if statusChanged(&pod.Status, &status) {
		if err := a.writeStatus(ctx, bp, status); err != nil {
			return 0, err
		}
	}
	if terminal(status.Phase) {
		a.release(uid)
		return 0, nil
	}
	return a.cfg.ResyncPeriod, nil
}

func terminal(phase corev1.PodPhase) bool {
	return phase == corev1.PodSucceeded || phase == corev1.PodFailed
}

func (a *Agent) runtimeFor(pod *v1.Pod) runtime.Runtime {
	if pod.Spec.VirtualMachine != nil {
		return a.rt.VMs
	}
	return a.rt.Containers
}

func (a *Agent) hostIPs(nodeName string) []string {
	n, ok := a.nodes[nodeName]
	if !ok {
		return nil
	}
	var ips []string
	for _, addr := range n.spec.Addresses {
		if addr.Type == corev1.NodeInternalIP {
			ips = append(ips, addr.Address)
		}
	}
	return ips
}

func (a *Agent) writeStatus(ctx context.Context, bp boundPod, status v1.PodStatus) error {
	updated := bp.pod.DeepCopy()
	updated.Status = status
	written, err := bp.partition.UpdatePodStatus(ctx, bp.tenant(), updated)
	if err != nil {
		return fmt.Errorf("writing pod status: %w", err)
	}
	// Later syncs start from what was written, not from the stale copy
	// the watch has not replaced yet.
	a.pods.mu.Lock()
	if cur, ok := a.pods.pods[written.UID]; ok && cur.pod.ResourceVersion == bp.pod.ResourceVersion {
		a.pods.pods[written.UID] = boundPod{pod: written, partition: bp.partition}
	}
	a.pods.mu.Unlock()
	klog.FromContext(ctx).V(4).Info("Pod status written", "phase", status.Phase)
	return nil
}

// admit decides once per pod whether its node can run it: the node must
// have a runtime for it and room for what it requests next to the pods it
// already admitted. Pods that already ran (an agent restarting) are taken
// as they are.
func (a *Agent) admit(pod *v1.Pod) (reason, message string, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.admitted[pod.UID]; ok {
		return "", "", true
	}
	if pod.Spec.VirtualMachine != nil && a.rt.VMs == nil {
		return ReasonVMUnsupported, "Pod was rejected: this node runs no virtual machines", false
	}
	requests := pod.Requests()
	requests[corev1.ResourcePods] = *resource.NewQuantity(1, resource.DecimalSI)
	nodeName := pod.Spec.NodeName
	used := a.usage[nodeName]
	if pod.Status.Phase != corev1.PodRunning {
		capacity := a.nodes[nodeName].spec.Capacity
		var short []string
		for _, name := range slices.Sorted(maps.Keys(capacity)) {
			want, have := requests[name], used[name]
			if want.IsZero() {
				continue
			}
			total := have.DeepCopy()
			total.Add(want)
			if limit := capacity[name]; total.Cmp(limit) > 0 {
				short = append(short, fmt.Sprintf("%s, requested: %s, used: %s, capacity: %s",
					name, want.String(), have.String(), limit.String()))
				if reason == "" {
					reason = "OutOf" + string(name)
				}
			}
		}
		if len(short) > 0 {
			return reason, "Pod was rejected: Node didn't have enough resource: " + strings.Join(short, "; "), false
		}
	}
	if used == nil {
		used = corev1.ResourceList{}
		a.usage[nodeName] = used
	}
	for name, q := range requests {
		sum := used[name]
		sum.Add(q)
		used[name] = sum
	}
	a.admitted[pod.UID] = admission{node: nodeName, requests: requests}
	return "", "", true
}

// admission is what an admitted pod takes of its node.
type admission struct {
	node     string
	requests corev1.ResourceList
}

// release gives back what an admitted pod took of its node.
func (a *Agent) release(uid types.UID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	adm, ok := a.admitted[uid]
	if !ok {
		return
	}
	delete(a.admitted, uid)
	used := a.usage[adm.node]
	for name, q := range adm.requests {
		sum := used[name]
		sum.Sub(q)
		used[name] = sum
	}
}

// terminate stops a pod being deleted, in the background because its
// grace period may be long, then deletes its object for good and removes
// what is left of it. The pod is synced again when its object goes away.
func (a *Agent) terminate(ctx context.Context, bp boundPod) {
	pod := bp.pod
	a.mu.Lock()
	if a.terminating[pod.UID] {
		a.mu.Unlock()
		return
	}
	a.terminating[pod.UID] = true
	a.mu.Unlock()

	a.wg.Go(func() {
		defer func() {
			a.mu.Lock()
			delete(a.terminating, pod.UID)
			a.mu.Unlock()
		}()
		logger := klog.FromContext(ctx)
		grace := time.Duration(ptr.Deref(pod.DeletionGracePeriodSeconds, corev1.DefaultTerminationGracePeriodSeconds)) * time.Second
		rt := a.runtimeFor(pod)
		if rt != nil {
			if err := rt.StopPod(ctx, pod, grace); err != nil {
				utilruntime.HandleErrorWithContext(ctx, err, "Stopping pod failed; retrying")
				a.queue.AddRateLimited(pod.UID)
				return
			}
		}
		// Everything of the pod goes before its object does, so that a
		// deletion that returned has freed the node.
		if rt != nil {
			if err := rt.RemovePod(ctx, pod.UID); err != nil {
				utilruntime.HandleErrorWithContext(ctx, err, "Removing pod failed; retrying")
				a.queue.AddRateLimited(pod.UID)
				return
			}
		}
		// Pods stop in parallel, each within its grace period, but their
		// final deletions go a worker's worth at a time: a thousand at once
		// would only be refused by the API server's in-flight limit.
		a.deleting <- struct{}{}
		err := bp.partition.DeletePod(ctx, bp.tenant(), pod.Namespace, pod.Name, metav1.DeleteOptions{
			GracePeriodSeconds: ptr.To[int64](0),
			Preconditions:      &metav1.Preconditions{UID: ptr.To(pod.UID)},
		})
		<-a.deleting
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			utilruntime.HandleErrorWithContext(ctx, err, "Deleting stopped pod failed; retrying")
			a.queue.AddRateLimited(pod.UID)
			return
		}
		a.release(pod.UID)
		logger.V(2).Info("Pod terminated", "grace", grace)
	})
}

// forget removes what the runtimes hold of a pod whose object is gone.
func (a *Agent) forget(ctx context.Context, uid types.UID) error {
	a.mu.Lock()
	busy := a.terminating[uid]
	a.mu.Unlock()
	if busy {
		return nil
	}
	var errs []error
	for _, rt := range a.runtimes() {
		if err := rt.RemovePod(ctx, uid); err != nil {
			errs = append(errs, fmt.Errorf("%s runtime: %w", rt.Name(), err))
		}
	}
	a.release(uid)
	return errors.Join(errs...)
}
