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

package replicaset

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	apps "github.com/arcturus-cloud/arcturus/pkg/apis/apps/v1"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/controllerref"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/runner"
)

const (
	// burstReplicas bounds the pods one sync creates or deletes, so that
	// one replica set scaled by thousands does not hold a worker for
	// long, and others get their turn (Kubernetes' BurstReplicas).
	burstReplicas = 500
	// slowStartInitialBatchSize is the first burst of creations; each
	// successful burst doubles the next, so that a template every create
	// of which fails (quota, admission) costs a few requests, not
	// hundreds.
	slowStartInitialBatchSize = 1
)

// sync brings the replica set named by key to its desired number of pods
// and writes its status.
func (c *Controller) sync(ctx context.Context, key Key) (err error) {
	start := time.Now()
	defer func() {
		syncMetrics.Observe(start, err)
		// A write from a stale cache: normal, retried once the watch
		// has caught up, and not worth an error in the log.
		if apierrors.IsConflict(err) {
			err = fmt.Errorf("%w: %w", runner.ErrWaiting, err)
		}
	}()

	rs, ok := c.replicaSets.Get(key)
	if !ok {
		c.expectations.forget(key)
		return nil
	}
	if rs.Spec.Replicas == nil {
		// The server defaults it; be safe with what the cache holds.
		rs = rs.DeepCopy()
		rs.Spec.Replicas = ptr.To(apps.DefaultReplicas)
	}
	logger := klog.FromContext(ctx)
	needsSync := c.expectations.satisfied(key)
	selector, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		// Validation prevents it; retrying would not help.
		utilruntime.HandleErrorWithContext(ctx, err, "Bad selector", "replicaSet", key)
		return nil
	}

	all := c.pods.List(key.Tenant, key.Namespace)
	var active, terminating []*v1.Pod
	for _, pod := range all {
		switch {
		case podActive(pod):
			active = append(active, pod)
		case podTerminating(pod) && metav1.IsControlledBy(pod, rs) && selector.Matches(labels.Set(pod.Labels)):
			terminating = append(terminating, pod)
		}
	}
	pods, err := c.claimPods(ctx, key, rs, selector, active)
	if err != nil {
		return err
	}

	var manageErr error
	if needsSync && rs.DeletionTimestamp == nil {
		manageErr = c.manageReplicas(ctx, key, rs, pods)
	}
	status := calculateStatus(rs, pods, terminating, manageErr, time.Now())
	updated, err := c.updateStatus(ctx, key, rs.DeepCopy(), status)
	if err != nil {
		return err
	}
	logger.V(4).Info("Synced", "replicaSet", key, "replicas", updated.Status.Replicas, "ready", updated.Status.ReadyReplicas,
		"available", updated.Status.AvailableReplicas)
	// Ready pods become available minReadySeconds later, with no event to
	// tell: look again then.
	if manageErr == nil && updated.Spec.MinReadySeconds > 0 && updated.Status.ReadyReplicas == *updated.Spec.Replicas &&
		updated.Status.AvailableReplicas != *updated.Spec.Replicas {
		c.queue.AddAfter(key, time.Duration(updated.Spec.MinReadySeconds)*time.Second)
	}
	return manageErr
}

// claimPods adopts matching orphans, releases owned pods that no longer
// match, and returns the pods rs controls.
func (c *Controller) claimPods(ctx context.Context, key Key, rs *apps.ReplicaSet, selector labels.Selector, pods []*v1.Pod) ([]*v1.Pod, error) {
	m := &controllerref.Manager{
		Owner: rs, Kind: controllerKind, Selector: selector,
		CanAdopt: func(ctx context.Context) error {
			fresh, err := c.apps.GetReplicaSet(ctx, key.Tenant, key.Namespace, key.Name)
			if err != nil {
				return err
			}
			if fresh.UID != rs.UID {
				return fmt.Errorf("original ReplicaSet %s is gone: got uid %s, wanted %s", key, fresh.UID, rs.UID)
			}
			if fresh.DeletionTimestamp != nil {
				return fmt.Errorf("ReplicaSet %s has just been deleted at %v", key, fresh.DeletionTimestamp)
			}
			return nil
		},
		Patch: func(ctx context.Context, namespace, name string, patch []byte) error {
			return c.core.Request(http.MethodPatch, key.Tenant).Namespace(namespace).Resource("pods").Name(name).
				SetHeader("Content-Type", string(types.StrategicMergePatchType)).Body(patch).Do(ctx).Error()
		},
	}
	return controllerref.Claim(ctx, m, pods)
}

// manageReplicas creates or deletes pods so that rs has spec.replicas of
// them, at most burstReplicas per call.
func (c *Controller) manageReplicas(ctx context.Context, key Key, rs *apps.ReplicaSet, pods []*v1.Pod) error {
	logger := klog.FromContext(ctx)
	diff := len(pods) - int(*rs.Spec.Replicas)
	switch {
	case diff < 0:
		n := min(-diff, burstReplicas)
		// Expect the creations before making them: the watch may report
		// a pod before its create call returns.
		c.expectations.expectCreations(key, n)
		logger.V(2).Info("Too few replicas", "replicaSet", key, "need", *rs.Spec.Replicas, "creating", n)
		created, err := slowStartBatch(n, slowStartInitialBatchSize, func() error { return c.createPod(ctx, key, rs) })
		// Creations not made will never be observed.
		for range n - created {
			c.expectations.creationObserved(key)
		}
		return err
	case diff > 0:
		n := min(diff, burstReplicas)
		victims := podsToDelete(pods, c.relatedPods(key, rs), n, time.Now())
		uids := make([]types.UID, len(victims))
		for i, pod := range victims {
			uids[i] = pod.UID
		}
		c.expectations.expectDeletions(key, uids)
		logger.V(2).Info("Too many replicas", "replicaSet", key, "need", *rs.Spec.Replicas, "deleting", n)
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for _, pod := range victims {
			wg.Go(func() {
				if err := c.deletePodOf(ctx, key, rs, pod); err != nil {
					// The watch will not show a deletion that failed,
					// nor again one it already showed.
					c.expectations.deletionObserved(key, pod.UID)
					if !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
						errs <- fmt.Errorf("deleting pod %s of ReplicaSet %s: %w", pod.Name, key, err)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		return <-errs
	}
	return nil
}

// slowStartBatch calls fn count times, in parallel batches that start at
// initial and double after each batch that fully succeeds; it stops at the
// first batch with a failure and returns the successes and that failure.
func slowStartBatch(count, initial int, fn func() error) (int, error) {
	remaining, successes := count, 0
	for batch := min(remaining, initial); batch > 0; batch = min(2*batch, remaining) {
		errs := make(chan error, batch)
		var wg sync.WaitGroup
		for range batch {
			wg.Go(func() {
				if err := fn(); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		successes += batch - len(errs)
		if len(errs) > 0 {
			return successes, <-errs
		}
		remaining -= batch
	}
	return successes, nil
}

func (c *Controller) createPod(ctx context.Context, key Key, rs *apps.ReplicaSet) error {
	pod := newPod(rs)
	if len(pod.Labels) == 0 {
		return errors.New("unable to create pods, no labels")
	}
	out := &v1.Pod{}
	err := c.core.Request(http.MethodPost, key.Tenant).Namespace(rs.Namespace).Resource("pods").Body(pod).Do(ctx).Into(out)
	podOperations.WithLabelValues("create", runner.Result(err)).Inc()
	switch {
	case err == nil:
		klog.FromContext(ctx).V(4).Info("Created pod", "replicaSet", key, "pod", out.Name)
		c.recorder.Event(rs, corev1.EventTypeNormal, reasonSuccessfulCreate, "Created pod: "+out.Name)
		return nil
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		// Every create will fail until the namespace is gone, which
		// takes its events with it.
		return nil
	default:
		// A quota or admission refusal shows on the replica set here and
		// in its ReplicaFailure condition.
		c.recorder.Event(rs, corev1.EventTypeWarning, reasonFailedCreate, "Error creating: "+err.Error())
		return fmt.Errorf("creating pod of ReplicaSet %s: %w", key, err)
	}
}

// deletePodOf deletes one of rs's pods, and only that one: a pod created
// again under its name fails the UID precondition with a Conflict.
func (c *Controller) deletePodOf(ctx context.Context, key Key, rs *apps.ReplicaSet, pod *v1.Pod) error {
	uid := pod.UID
	err := c.core.DeletePod(ctx, key.Tenant, pod.Namespace, pod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	podOperations.WithLabelValues("delete", runner.Result(err)).Inc()
	switch {
	case err == nil:
		klog.FromContext(ctx).V(4).Info("Deleted pod", "replicaSet", key, "pod", pod.Name)
		c.recorder.Event(rs, corev1.EventTypeNormal, reasonSuccessfulDelete, "Deleted pod: "+pod.Name)
	case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
		// Gone already (a Conflict: another pod has its name now).
	default:
		c.recorder.Event(rs, corev1.EventTypeWarning, reasonFailedDelete, "Error deleting: "+err.Error())
	}
	return err
}

// relatedPods are the pods of every replica set with the same controller
// as rs (its deployment's other revisions), for spreading what is left
// when scaling down. A replica set without a controller has none.
func (c *Controller) relatedPods(key Key, rs *apps.ReplicaSet) []*v1.Pod {
	owner := metav1.GetControllerOfNoCopy(rs)
	if owner == nil {
		return nil
	}
	var selectors []labels.Selector
	for _, other := range c.replicaSets.List(key.Tenant, key.Namespace) {
		if ref := metav1.GetControllerOfNoCopy(other); ref == nil || ref.UID != owner.UID {
			continue
		}
		if sel, err := metav1.LabelSelectorAsSelector(other.Spec.Selector); err == nil && !sel.Empty() {
			selectors = append(selectors, sel)
		}
	}
	var related []*v1.Pod
	for _, pod := range c.pods.List(key.Tenant, key.Namespace) {
		for _, sel := range selectors {
			if sel.Matches(labels.Set(pod.Labels)) {
				related = append(related, pod)
				break
			}
		}
	}
	return related
}
