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

package deployment

import (
	"context"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	apps "github.com/arcturus-cloud/arcturus/pkg/apis/apps/v1"
)

// recreatePollInterval is how often a Recreate rollout looks for its old
// pods to be gone: their deletion reaches no watch of this controller.
const recreatePollInterval = time.Second

// rolloutRolling takes one step of a rolling update: scale the new replica
// set up as far as maxSurge allows, or else the old ones down as far as
// maxUnavailable allows; once complete, drop surplus history.
func (c *Controller) rolloutRolling(ctx context.Context, key Key, d *apps.Deployment, rsList []*apps.ReplicaSet) error {
	newRS, oldRSs, err := c.getAllReplicaSetsAndSyncRevision(ctx, key, d, rsList, true)
	if err != nil {
		return err
	}
	all := withNew(oldRSs, newRS)

	scaledUp, err := c.reconcileNewReplicaSet(ctx, key, all, newRS, d)
	if err != nil {
		return err
	}
	if scaledUp {
		return c.syncRolloutStatus(ctx, key, all, newRS, d)
	}
	scaledDown := false
	for _, r := range planOldScaleDown(d, all, active(oldRSs), newRS) {
		scaled, _, err := c.scaleReplicaSetIfNeeded(ctx, key, r.rs, r.to, d)
		if err != nil {
			return err
		}
		scaledDown = scaledDown || scaled
	}
	if scaledDown {
		return c.syncRolloutStatus(ctx, key, all, newRS, d)
	}
	if deploymentComplete(d, &d.Status) {
		if err := c.cleanupDeployment(ctx, key, oldRSs, d); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, key, all, newRS, d)
}

// reconcileNewReplicaSet scales the new replica set towards the
// deployment's size within the surge; it reports a scale-up.
func (c *Controller) reconcileNewReplicaSet(ctx context.Context, key Key, all []*apps.ReplicaSet, newRS *apps.ReplicaSet, d *apps.Deployment) (bool, error) {
	if *newRS.Spec.Replicas == *d.Spec.Replicas {
		return false, nil
	}
	if *newRS.Spec.Replicas > *d.Spec.Replicas {
		scaled, _, err := c.scaleReplicaSetIfNeeded(ctx, key, newRS, *d.Spec.Replicas, d)
		return scaled, err
	}
	size, err := newRSReplicas(d, all, newRS)
	if err != nil {
		return false, err
	}
	scaled, _, err := c.scaleReplicaSetIfNeeded(ctx, key, newRS, size, d)
	return scaled, err
}

// planOldScaleDown returns the old replica sets a rolling update may
// scale down now, and their new sizes. The pods that may go are those
// beyond the minimum available, not counting new pods not yet available
// (so that a broken new template cannot eat into availability). Unhealthy
// old pods go first, oldest replica sets first, since removing them costs
// no availability; then available old pods, as far as the available count
// stays at or above replicas - maxUnavailable.
func planOldScaleDown(d *apps.Deployment, all, oldRSs []*apps.ReplicaSet, newRS *apps.ReplicaSet) []resize {
	if replicaCount(oldRSs) == 0 {
		return nil
	}
	minAvailable := *d.Spec.Replicas - maxUnavailable(d)
	newUnavailable := *newRS.Spec.Replicas - newRS.Status.AvailableReplicas
	maxScaledDown := replicaCount(all) - minAvailable - newUnavailable
	if maxScaledDown <= 0 {
		return nil
	}
	olds := append([]*apps.ReplicaSet(nil), oldRSs...)
	sort.Sort(byCreation(olds))
	sizes := make([]int32, len(olds))
	for i, rs := range olds {
		sizes[i] = *rs.Spec.Replicas
	}

	var cleaned int32
	for i, rs := range olds {
		if cleaned >= maxScaledDown {
			break
		}
		if sizes[i] == 0 || sizes[i] == rs.Status.AvailableReplicas {
			continue
		}
		n := min(maxScaledDown-cleaned, sizes[i]-rs.Status.AvailableReplicas)
		if n < 0 {
			// Its status is behind its size (more available than
			// wanted): the counts cannot be trusted this time.
			return nil
		}
		sizes[i] -= n
		cleaned += n
	}

	if available := availableCount(withNew(olds, newRS)); available > minAvailable {
		budget := available - minAvailable
		var done int32
		for i := range olds {
			if done >= budget {
				break
			}
			if sizes[i] == 0 {
				continue
			}
			n := min(sizes[i], budget-done)
			sizes[i] -= n
			done += n
		}
	}

	var plan []resize
	for i, rs := range olds {
		if sizes[i] != *rs.Spec.Replicas {
			plan = append(plan, resize{rs: rs, to: sizes[i]})
		}
	}
	return plan
}

// rolloutRecreate takes one step of a Recreate rollout: scale every old
// replica set to zero, wait until their pods are gone, then create or
// scale up the new one.
func (c *Controller) rolloutRecreate(ctx context.Context, key Key, d *apps.Deployment, rsList []*apps.ReplicaSet) error {
	newRS, oldRSs, err := c.getAllReplicaSetsAndSyncRevision(ctx, key, d, rsList, false)
	if err != nil {
		return err
	}
	all := withNew(oldRSs, newRS)

	scaledDown := false
	for _, rs := range active(oldRSs) {
		scaled, _, err := c.scaleReplicaSetIfNeeded(ctx, key, rs, 0, d)
		if err != nil {
			return err
		}
		scaledDown = scaledDown || scaled
	}
	if scaledDown {
		return c.syncRolloutStatus(ctx, key, all, newRS, d)
	}
	running, err := c.oldPodsRunning(ctx, key, d, newRS, oldRSs, rsList)
	if err != nil {
		return err
	}
	if running {
		c.queue.AddAfter(key, recreatePollInterval)
		return c.syncRolloutStatus(ctx, key, all, newRS, d)
	}
	if newRS == nil {
		if newRS, oldRSs, err = c.getAllReplicaSetsAndSyncRevision(ctx, key, d, rsList, true); err != nil {
			return err
		}
		all = withNew(oldRSs, newRS)
	}
	if _, _, err := c.scaleReplicaSetIfNeeded(ctx, key, newRS, *d.Spec.Replicas, d); err != nil {
		return err
	}
	if deploymentComplete(d, &d.Status) {
		if err := c.cleanupDeployment(ctx, key, oldRSs, d); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, key, all, newRS, d)
}

// oldPodsRunning tells whether any pod of an old replica set is left that
// has not finished, counting pods being deleted, which the replica sets'
// counts leave out: Recreate promises that old and new pods never run
// together.
func (c *Controller) oldPodsRunning(ctx context.Context, key Key, d *apps.Deployment, newRS *apps.ReplicaSet, oldRSs, rsList []*apps.ReplicaSet) (bool, error) {
	if actualCount(oldRSs) > 0 {
		return true, nil
	}
	selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return false, err
	}
	pods, err := c.core.ListPods(ctx, key.Tenant, key.Namespace, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return false, err
	}
	owned := make(map[types.UID]bool, len(rsList))
	for _, rs := range rsList {
		owned[rs.UID] = true
	}
	for i := range pods.Items {
		pod := &pods.Items[i]
		ref := metav1.GetControllerOfNoCopy(pod)
		if ref == nil || !owned[ref.UID] || (newRS != nil && ref.UID == newRS.UID) {
			continue
		}
		if pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed {
			return true, nil
		}
	}
	return false, nil
}
