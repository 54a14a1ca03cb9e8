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
	"fmt"
	"sort"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	apps "github.com/arcturus-cloud/arcturus/pkg/apis/apps/v1"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/controllerref"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/runner"
)

// syncDeployment brings the deployment named by key one step closer to
// its desired state and writes its status.
func (c *Controller) syncDeployment(ctx context.Context, key Key) (err error) {
	start := time.Now()
	defer func() {
		syncMetrics.Observe(start, err)
		// A write from a stale cache: normal, retried once the watch
		// has caught up, and not worth an error in the log.
		if apierrors.IsConflict(err) {
			err = fmt.Errorf("%w: %w", runner.ErrWaiting, err)
		}
	}()

	cached, ok := c.deployments.Get(key)
	if !ok {
		klog.FromContext(ctx).V(4).Info("Deployment has been deleted", "deployment", key)
		return nil
	}
	d := cached.DeepCopy()
	if d.Spec.Replicas == nil {
		d.Spec.Replicas = ptr.To(apps.DefaultReplicas)
	}
	if d.Spec.Selector == nil || equality.Semantic.DeepEqual(d.Spec.Selector, &metav1.LabelSelector{}) {
		// Selecting everything would adopt every replica set of the
		// namespace; validation forbids it, so do nothing.
		klog.FromContext(ctx).Info("Deployment selects all pods; a non-empty selector is required", "deployment", key)
		c.recorder.Event(d, corev1.EventTypeWarning, reasonSelectingAll, "This deployment is selecting all pods. A non-empty selector is required.")
		if d.Status.ObservedGeneration < d.Generation {
			d.Status.ObservedGeneration = d.Generation
			return c.writeStatus(ctx, key, d)
		}
		return nil
	}

	rsList, err := c.claimReplicaSets(ctx, key, d)
	if err != nil {
		return err
	}
	if d.DeletionTimestamp != nil {
		return c.syncStatusOnly(ctx, key, d, rsList)
	}
	if err := c.checkPausedConditions(ctx, key, d); err != nil {
		return err
	}
	if d.Spec.Paused {
		return c.sync(ctx, key, d, rsList)
	}
	scaling, err := c.isScalingEvent(ctx, key, d, rsList)
	if err != nil {
		return err
	}
	if scaling {
		return c.sync(ctx, key, d, rsList)
	}
	switch d.Spec.Strategy.Type {
	case appsv1.RecreateDeploymentStrategyType:
		return c.rolloutRecreate(ctx, key, d, rsList)
	case appsv1.RollingUpdateDeploymentStrategyType:
		return c.rolloutRolling(ctx, key, d, rsList)
	}
	return fmt.Errorf("unexpected deployment strategy type: %s", d.Spec.Strategy.Type)
}

// writeStatus writes d's status and annotations through deployments/status
// and makes d what the server stored, so that later writes in the same
// sync do not conflict with this one.
func (c *Controller) writeStatus(ctx context.Context, key Key, d *apps.Deployment) error {
	out, err := c.apps.UpdateDeploymentStatus(ctx, key.Tenant, d)
	if err != nil {
		return err
	}
	*d = *out
	return nil
}

// claimReplicaSets returns the replica sets d controls, after adopting
// matching orphans and releasing those it no longer selects.
func (c *Controller) claimReplicaSets(ctx context.Context, key Key, d *apps.Deployment) ([]*apps.ReplicaSet, error) {
	selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("deployment %s has an invalid selector: %w", key, err)
	}
	m := &controllerref.Manager{
		Owner: d, Kind: controllerKind, Selector: selector,
		CanAdopt: func(ctx context.Context) error {
			fresh, err := c.apps.GetDeployment(ctx, key.Tenant, key.Namespace, key.Name)
			if err != nil {
				return err
			}
			if fresh.UID != d.UID {
				return fmt.Errorf("original Deployment %s is gone: got uid %s, wanted %s", key, fresh.UID, d.UID)
			}
			if fresh.DeletionTimestamp != nil {
				return fmt.Errorf("deployment %s has just been deleted at %v", key, fresh.DeletionTimestamp)
			}
			return nil
		},
		Patch: func(ctx context.Context, namespace, name string, patch []byte) error {
			_, err := c.apps.PatchReplicaSet(ctx, key.Tenant, namespace, name, types.StrategicMergePatchType, patch)
			return err
		},
	}
	return controllerref.Claim(ctx, m, c.replicaSets.List(key.Tenant, key.Namespace))
}

// withNew is old followed by newRS (which may be nil), in a new slice.
func withNew(old []*apps.ReplicaSet, newRS *apps.ReplicaSet) []*apps.ReplicaSet {
	out := make([]*apps.ReplicaSet, 0, len(old)+1)
	return append(append(out, old...), newRS)
}

// getAllReplicaSetsAndSyncRevision returns d's new replica set (created if
// create is set and it does not exist yet) and its old ones; the new one's
// revision is made the highest, and d's revision the new one's.
func (c *Controller) getAllReplicaSetsAndSyncRevision(ctx context.Context, key Key, d *apps.Deployment, rsList []*apps.ReplicaSet, create bool) (*apps.ReplicaSet, []*apps.ReplicaSet, error) {
	old := findOldReplicaSets(d, rsList)
	newRS, err := c.getNewReplicaSet(ctx, key, d, rsList, old, create)
	if err != nil {
		return nil, nil, err
	}
	return newRS, old, nil
}

// getNewReplicaSet returns the replica set of d's current template, its
// annotations brought up to date; or creates it, named after the template
// hash, sized for the strategy; or returns nil if it does not exist and
// create is false. A same-named replica set of another template (a hash
// collision) raises status.collisionCount, which changes the next hash.
func (c *Controller) getNewReplicaSet(ctx context.Context, key Key, d *apps.Deployment, rsList, oldRSs []*apps.ReplicaSet, create bool) (*apps.ReplicaSet, error) {
	logger := klog.FromContext(ctx)
	existing := findNewReplicaSet(d, rsList)
	newRevision := strconv.FormatInt(maxRevision(oldRSs)+1, 10)

	if existing != nil {
		rs := existing.DeepCopy()
		annotationsChanged := setNewReplicaSetAnnotations(d, rs, newRevision, true)
		if annotationsChanged || rs.Spec.MinReadySeconds != d.Spec.MinReadySeconds {
			rs.Spec.MinReadySeconds = d.Spec.MinReadySeconds
			updated, err := c.apps.UpdateReplicaSet(ctx, key.Tenant, rs)
			replicaSetOperations.WithLabelValues("update", runner.Result(err)).Inc()
			if err != nil {
				return nil, err
			}
			return updated, nil
		}
		// The replica set's revision is the reliable one: the
		// deployment's may have failed to be written.
		needsUpdate := setDeploymentRevision(d, rs.Annotations[revisionAnnotation])
		if hasProgressDeadline(d) && getCondition(d.Status, appsv1.DeploymentProgressing) == nil {
			setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, reasonFoundNewRS,
				fmt.Sprintf("Found new replica set %q", rs.Name), c.now()))
			needsUpdate = true
		}
		if needsUpdate {
			if err := c.writeStatus(ctx, key, d); err != nil {
				return nil, err
			}
		}
		return rs, nil
	}
	if !create {
		return nil, nil
	}

	template := *d.Spec.Template.DeepCopy()
	hash := computeHash(&template, d.Status.CollisionCount)
	template.Labels = cloneAndAddLabel(d.Spec.Template.Labels, appsv1.DefaultDeploymentUniqueLabelKey, hash)
	newRS := &apps.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			// Deterministic, so that a create repeated after a lost
			// answer finds its own replica set.
			Name:            d.Name + "-" + hash,
			Namespace:       d.Namespace,
			OwnerReferences: []metav1.OwnerReference{controllerref.New(d, controllerKind)},
			Labels:          template.Labels,
		},
		Spec: apps.ReplicaSetSpec{
			Replicas:        ptr.To[int32](0),
			MinReadySeconds: d.Spec.MinReadySeconds,
			Selector:        cloneSelectorAndAddLabel(d.Spec.Selector, appsv1.DefaultDeploymentUniqueLabelKey, hash),
			Template:        template,
		},
	}
	size, err := newRSReplicas(d, withNew(oldRSs, newRS), newRS)
	if err != nil {
		return nil, err
	}
	*newRS.Spec.Replicas = size
	setNewReplicaSetAnnotations(d, newRS, newRevision, false)

	created, err := c.apps.CreateReplicaSet(ctx, key.Tenant, newRS)
	replicaSetOperations.WithLabelValues("create", runner.Result(err)).Inc()
	alreadyExists := false
	switch {
	case apierrors.IsAlreadyExists(err):
		alreadyExists = true
		rs, getErr := c.apps.GetReplicaSet(ctx, key.Tenant, d.Namespace, newRS.Name)
		if getErr != nil {
			return nil, getErr
		}
		// Ours, of this template: a create whose answer was lost, or a
		// cache behind.
		if ref := metav1.GetControllerOfNoCopy(rs); ref != nil && ref.UID == d.UID && equalIgnoreHash(&d.Spec.Template, &rs.Spec.Template) {
			created, err = rs, nil
			break
		}
		if d.Status.CollisionCount == nil {
			d.Status.CollisionCount = ptr.To[int32](0)
		}
		before := *d.Status.CollisionCount
		*d.Status.CollisionCount++
		if statusErr := c.writeStatus(ctx, key, d); statusErr == nil {
			logger.V(2).Info("Found a hash collision for deployment - bumping collisionCount to resolve it",
				"deployment", key, "oldCollisionCount", before, "newCollisionCount", *d.Status.CollisionCount)
		}
		return nil, err
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return nil, err
	case err != nil:
		msg := fmt.Sprintf("Failed to create new replica set %q: %v", newRS.Name, err)
		if hasProgressDeadline(d) {
			setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, reasonFailedRSCreate, msg, c.now()))
			// The create's failure is the one to report.
			_ = c.writeStatus(ctx, key, d)
		}
		logger.Info("Failed to create new replica set", "deployment", key, "replicaSet", newRS.Name, "err", err)
		c.recorder.Event(d, corev1.EventTypeWarning, reasonFailedRSCreate, msg)
		return nil, err
	}
	if !alreadyExists {
		logger.V(2).Info("Created new replica set", "deployment", key, "replicaSet", created.Name, "replicas", size)
		if size > 0 {
			c.recorder.Event(d, corev1.EventTypeNormal, reasonScalingReplicaSet,
				fmt.Sprintf("Scaled up replica set %s from 0 to %d", created.Name, size))
		}
	}

	needsUpdate := setDeploymentRevision(d, newRevision)
	if !alreadyExists && hasProgressDeadline(d) {
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, reasonNewReplicaSet,
			fmt.Sprintf("Created new replica set %q", created.Name), c.now()))
		needsUpdate = true
	}
	if needsUpdate {
		if err := c.writeStatus(ctx, key, d); err != nil {
			return created, err
		}
	}
	return created, nil
}

// checkPausedConditions records a pause or a resume in the Progressing
// condition, so that the time paused does not count against the progress
// deadline.
func (c *Controller) checkPausedConditions(ctx context.Context, key Key, d *apps.Deployment) error {
	if !hasProgressDeadline(d) {
		return nil
	}
	cond := getCondition(d.Status, appsv1.DeploymentProgressing)
	if cond != nil && cond.Reason == reasonTimedOut {
		// A reported lack of progress stays.
		return nil
	}
	paused := cond != nil && cond.Reason == reasonPaused
	switch {
	case d.Spec.Paused && !paused:
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, reasonPaused, "Deployment is paused", c.now()))
	case !d.Spec.Paused && paused:
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, reasonResumed, "Deployment is resumed", c.now()))
	default:
		return nil
	}
	return c.writeStatus(ctx, key, d)
}

// isScalingEvent tells whether d's size differs from what its active
// replica sets were last sized for: then it is scaled, not rolled out.
func (c *Controller) isScalingEvent(ctx context.Context, key Key, d *apps.Deployment, rsList []*apps.ReplicaSet) (bool, error) {
	newRS, oldRSs, err := c.getAllReplicaSetsAndSyncRevision(ctx, key, d, rsList, false)
	if err != nil {
		return false, err
	}
	for _, rs := range active(withNew(oldRSs, newRS)) {
		if desired, ok := intAnnotation(rs, desiredReplicasAnnotation); ok && desired != *d.Spec.Replicas {
			return true, nil
		}
	}
	return false, nil
}

// syncStatusOnly writes the status of a deployment being deleted.
func (c *Controller) syncStatusOnly(ctx context.Context, key Key, d *apps.Deployment, rsList []*apps.ReplicaSet) error {
	newRS, oldRSs, err := c.getAllReplicaSetsAndSyncRevision(ctx, key, d, rsList, false)
	if err != nil {
		return err
	}
	return c.syncDeploymentStatus(ctx, key, withNew(oldRSs, newRS), newRS, d)
}

// sync scales a deployment that is scaled or paused, without rolling out.
func (c *Controller) sync(ctx context.Context, key Key, d *apps.Deployment, rsList []*apps.ReplicaSet) error {
	newRS, oldRSs, err := c.getAllReplicaSetsAndSyncRevision(ctx, key, d, rsList, false)
	if err != nil {
		return err
	}
	if err := c.scale(ctx, key, d, newRS, oldRSs); err != nil {
		return err
	}
	if d.Spec.Paused {
		if err := c.cleanupDeployment(ctx, key, oldRSs, d); err != nil {
			return err
		}
	}
	return c.syncDeploymentStatus(ctx, key, withNew(oldRSs, newRS), newRS, d)
}

// scale sizes d's replica sets for its replicas: all of them to the only
// active (or the newest) replica set, none left to old ones once the new
// one is saturated, and otherwise, during a rolling update, the difference
// spread proportionally (proportionalScale).
func (c *Controller) scale(ctx context.Context, key Key, d *apps.Deployment, newRS *apps.ReplicaSet, oldRSs []*apps.ReplicaSet) error {
	if rs := findActiveOrLatest(newRS, oldRSs); rs != nil {
		if *rs.Spec.Replicas == *d.Spec.Replicas {
			return nil
		}
		_, _, err := c.scaleReplicaSetIfNeeded(ctx, key, rs, *d.Spec.Replicas, d)
		return err
	}
	if isSaturated(d, newRS) {
		for _, old := range active(oldRSs) {
			if _, _, err := c.scaleReplicaSetIfNeeded(ctx, key, old, 0, d); err != nil {
				return err
			}
		}
		return nil
	}
	if !isRollingUpdate(d) {
		return nil
	}
	// Every active replica set gets the deployment's new size in its
	// annotations, even if its own size stays.
	for _, r := range proportionalScale(d, newRS, oldRSs) {
		if _, _, err := c.scaleReplicaSet(ctx, key, r.rs, r.to, d); err != nil {
			return err
		}
	}
	return nil
}

// resize is a replica set and the size it is to have.
type resize struct {
	rs *apps.ReplicaSet
	to int32
}

// proportionalScale spreads what a scaling event adds to or removes from
// the active replica sets in proportion to their sizes: scaling up, larger
// and then newer replica sets first; scaling down, larger and then older
// first; what rounding leaves over goes to the first. The total comes to
// the deployment's replicas plus its surge.
func proportionalScale(d *apps.Deployment, newRS *apps.ReplicaSet, oldRSs []*apps.ReplicaSet) []resize {
	all := active(withNew(oldRSs, newRS))
	var allowed int32
	if *d.Spec.Replicas > 0 {
		allowed = *d.Spec.Replicas + maxSurge(d)
	}
	toAdd := allowed - replicaCount(all)
	switch {
	case toAdd > 0:
		sort.Sort(bySizeNewer(all))
	case toAdd < 0:
		sort.Sort(bySizeOlder(all))
	}
	out := make([]resize, len(all))
	var added int32
	for i, rs := range all {
		out[i] = resize{rs: rs, to: *rs.Spec.Replicas}
		if toAdd != 0 {
			p := getProportion(rs, d, toAdd, added)
			out[i].to += p
			added += p
		}
	}
	if toAdd != 0 && len(out) > 0 {
		out[0].to = max(0, out[0].to+toAdd-added)
	}
	return out
}

// scaleReplicaSetIfNeeded scales rs to size unless it has that size.
func (c *Controller) scaleReplicaSetIfNeeded(ctx context.Context, key Key, rs *apps.ReplicaSet, size int32, d *apps.Deployment) (bool, *apps.ReplicaSet, error) {
	if *rs.Spec.Replicas == size {
		return false, rs, nil
	}
	return c.scaleReplicaSet(ctx, key, rs, size, d)
}

// scaleReplicaSet sets rs's size and records d's size on it; it reports
// whether the size changed and returns the replica set as written.
func (c *Controller) scaleReplicaSet(ctx context.Context, key Key, rs *apps.ReplicaSet, size int32, d *apps.Deployment) (bool, *apps.ReplicaSet, error) {
	resized := *rs.Spec.Replicas != size
	maxReplicas := *d.Spec.Replicas + maxSurge(d)
	if !resized && !replicasAnnotationsNeedUpdate(rs, *d.Spec.Replicas, maxReplicas) {
		return false, rs, nil
	}
	from := *rs.Spec.Replicas
	scaled := rs.DeepCopy()
	*scaled.Spec.Replicas = size
	setReplicasAnnotations(scaled, *d.Spec.Replicas, maxReplicas)
	updated, err := c.apps.UpdateReplicaSet(ctx, key.Tenant, scaled)
	replicaSetOperations.WithLabelValues("update", runner.Result(err)).Inc()
	if err != nil {
		return false, rs, err
	}
	if resized {
		direction := "down"
		if size > from {
			direction = "up"
		}
		klog.FromContext(ctx).V(2).Info("Scaled replica set", "deployment", key, "replicaSet", rs.Name,
			"direction", direction, "from", from, "to", size)
		c.recorder.Event(d, corev1.EventTypeNormal, reasonScalingReplicaSet,
			fmt.Sprintf("Scaled %s replica set %s from %d to %d", direction, rs.Name, from, size))
	}
	return resized, updated, nil
}

// cleanupDeployment deletes the oldest replica sets beyond
// revisionHistoryLimit, of those that are scaled down, have no pods left
// and whose size their controller has seen.
func (c *Controller) cleanupDeployment(ctx context.Context, key Key, oldRSs []*apps.ReplicaSet, d *apps.Deployment) error {
	if !hasRevisionHistoryLimit(d) {
		return nil
	}
	var alive []*apps.ReplicaSet
	for _, rs := range oldRSs {
		if rs != nil && rs.DeletionTimestamp == nil {
			alive = append(alive, rs)
		}
	}
	diff := len(alive) - int(*d.Spec.RevisionHistoryLimit)
	if diff <= 0 {
		return nil
	}
	sort.Sort(byRevision(alive))
	for _, rs := range alive[:diff] {
		if rs.Status.Replicas != 0 || *rs.Spec.Replicas != 0 || rs.Generation > rs.Status.ObservedGeneration {
			continue
		}
		uid := rs.UID
		err := c.apps.DeleteReplicaSet(ctx, key.Tenant, rs.Namespace, rs.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		replicaSetOperations.WithLabelValues("delete", runner.Result(err)).Inc()
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return err
		}
		klog.FromContext(ctx).V(4).Info("Deleted old replica set", "deployment", key, "replicaSet", rs.Name)
	}
	return nil
}

// calculateStatus is d's status from its replica sets: their pods, the
// new one's as updated, and the Available condition, true while no more
// than maxUnavailable of the desired pods are unavailable.
func calculateStatus(all []*apps.ReplicaSet, newRS *apps.ReplicaSet, d *apps.Deployment, now time.Time) appsv1.DeploymentStatus {
	available := availableCount(all)
	status := appsv1.DeploymentStatus{
		ObservedGeneration:  d.Generation,
		Replicas:            actualCount(all),
		UpdatedReplicas:     actualCount([]*apps.ReplicaSet{newRS}),
		ReadyReplicas:       readyCount(all),
		AvailableReplicas:   available,
		UnavailableReplicas: max(0, replicaCount(all)-available),
		TerminatingReplicas: terminatingCount(all),
		CollisionCount:      d.Status.CollisionCount,
		Conditions:          append([]appsv1.DeploymentCondition(nil), d.Status.Conditions...),
	}
	if available >= *d.Spec.Replicas-maxUnavailable(d) {
		setCondition(&status, newCondition(appsv1.DeploymentAvailable, corev1.ConditionTrue, reasonMinimumAvailable,
			"Deployment has minimum availability.", now))
	} else {
		setCondition(&status, newCondition(appsv1.DeploymentAvailable, corev1.ConditionFalse, reasonMinimumUnavailable,
			"Deployment does not have minimum availability.", now))
	}
	return status
}

// syncDeploymentStatus writes d's status if it changed.
func (c *Controller) syncDeploymentStatus(ctx context.Context, key Key, all []*apps.ReplicaSet, newRS *apps.ReplicaSet, d *apps.Deployment) error {
	status := calculateStatus(all, newRS, d, c.now())
	if equality.Semantic.DeepEqual(d.Status, status) {
		return nil
	}
	d.Status = status
	return c.writeStatus(ctx, key, d)
}

// syncRolloutStatus writes d's status during a rollout, with the
// Progressing condition: NewReplicaSetAvailable once complete,
// ReplicaSetUpdated while pods move, ProgressDeadlineExceeded when none
// moved for progressDeadlineSeconds; and the ReplicaFailure of its replica
// sets (a quota refusal, say).
func (c *Controller) syncRolloutStatus(ctx context.Context, key Key, all []*apps.ReplicaSet, newRS *apps.ReplicaSet, d *apps.Deployment) error {
	now := c.now()
	status := calculateStatus(all, newRS, d, now)
	if !hasProgressDeadline(d) {
		removeCondition(&status, appsv1.DeploymentProgressing)
	}
	// A finished rollout is not estimated again on every resync.
	cur := getCondition(d.Status, appsv1.DeploymentProgressing)
	complete := status.Replicas == status.UpdatedReplicas && cur != nil && cur.Reason == reasonNewRSAvailable
	if hasProgressDeadline(d) && !complete {
		switch {
		case deploymentComplete(d, &status):
			msg := fmt.Sprintf("Deployment %q has successfully progressed.", d.Name)
			if newRS != nil {
				msg = fmt.Sprintf("ReplicaSet %q has successfully progressed.", newRS.Name)
			}
			setCondition(&status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, reasonNewRSAvailable, msg, now))
		case deploymentProgressing(d, &status):
			msg := fmt.Sprintf("Deployment %q is progressing.", d.Name)
			if newRS != nil {
				msg = fmt.Sprintf("ReplicaSet %q is progressing.", newRS.Name)
			}
			cond := newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, reasonReplicaSetUpdated, msg, now)
			// Progress refreshes lastUpdateTime even if the reason stays,
			// which setCondition would not do.
			if cur != nil {
				if cur.Status == corev1.ConditionTrue {
					cond.LastTransitionTime = cur.LastTransitionTime
				}
				removeCondition(&status, appsv1.DeploymentProgressing)
			}
			setCondition(&status, cond)
		case deploymentTimedOut(d, &status, now):
			msg := fmt.Sprintf("Deployment %q has timed out progressing.", d.Name)
			if newRS != nil {
				msg = fmt.Sprintf("ReplicaSet %q has timed out progressing.", newRS.Name)
			}
			setCondition(&status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, reasonTimedOut, msg, now))
		}
	}
	if failures := replicaFailures(all, newRS); len(failures) > 0 {
		setCondition(&status, failures[0])
	} else {
		removeCondition(&status, appsv1.DeploymentReplicaFailure)
	}
	if equality.Semantic.DeepEqual(d.Status, status) {
		c.requeueStuckDeployment(key, d, status, now)
		return nil
	}
	d.Status = status
	return c.writeStatus(ctx, key, d)
}

// replicaFailures are the ReplicaFailure conditions of the new replica
// set, or else of any replica set, as deployment conditions.
func replicaFailures(all []*apps.ReplicaSet, newRS *apps.ReplicaSet) []appsv1.DeploymentCondition {
	convert := func(rss []*apps.ReplicaSet) []appsv1.DeploymentCondition {
		var out []appsv1.DeploymentCondition
		for _, rs := range rss {
			if rs == nil {
				continue
			}
			for _, c := range rs.Status.Conditions {
				if c.Type == appsv1.ReplicaSetReplicaFailure {
					out = append(out, appsv1.DeploymentCondition{
						Type: appsv1.DeploymentConditionType(c.Type), Status: c.Status,
						LastTransitionTime: c.LastTransitionTime, LastUpdateTime: c.LastTransitionTime,
						Reason: c.Reason, Message: c.Message,
					})
				}
			}
		}
		return out
	}
	if out := convert([]*apps.ReplicaSet{newRS}); len(out) > 0 {
		return out
	}
	return convert(all)
}

// requeueStuckDeployment looks at a rollout again when its progress
// deadline passes, since nothing else would.
func (c *Controller) requeueStuckDeployment(key Key, d *apps.Deployment, status appsv1.DeploymentStatus, now time.Time) {
	cur := getCondition(d.Status, appsv1.DeploymentProgressing)
	if !hasProgressDeadline(d) || cur == nil || deploymentComplete(d, &status) || cur.Reason == reasonTimedOut {
		return
	}
	after := cur.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second).Sub(now)
	if after < time.Second {
		c.queue.AddRateLimited(key)
		return
	}
	c.queue.AddAfter(key, after+time.Second)
}
