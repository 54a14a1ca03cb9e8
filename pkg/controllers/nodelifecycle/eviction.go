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

package nodelifecycle

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// Event reason of taint-based eviction, as Kubernetes'.
const ReasonTaintManagerEviction = "TaintManagerEviction"

// evictionTime is when a pod with tolerations must leave a node with the
// given NoExecute taints: at once for a taint it does not tolerate, else
// when the shortest toleration runs out, counted from each taint's start.
// ok is false when the pod tolerates every taint forever.
//
// Of several tolerations of one taint the longest counts, as any of them
// lets the pod stay (Kubernetes takes the first that matches).
func evictionTime(taints []startedTaint, tolerations []corev1.Toleration) (at time.Time, ok bool) {
	for _, st := range taints {
		matched, forever := false, false
		var longest int64
		for i := range tolerations {
			t := &tolerations[i]
			if !t.ToleratesTaint(klog.Background(), &st.taint, false) {
				continue
			}
			if t.TolerationSeconds == nil {
				forever = true
				break
			}
			if !matched || *t.TolerationSeconds > longest {
				longest = *t.TolerationSeconds
			}
			matched = true
		}
		var due time.Time
		switch {
		case forever:
			continue
		case !matched:
			due = st.since
		default:
			due = st.since.Add(time.Duration(max(longest, 0)) * time.Second)
		}
		if !ok || due.Before(at) {
			at, ok = due, true
		}
	}
	return at, ok
}

// evictionStep is what the eviction worker does next for a pod.
type evictionStep int

const (
	stepNothing evictionStep = iota
	stepWait
	stepEvict
	stepCancel
)

// decide looks at a pod against its node's taints, records a scheduled
// eviction, and says what to do now.
func (s *state) decide(uid types.UID, now time.Time) (step evictionStep, pod podRecord, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.pods[uid]
	_, scheduled := s.scheduled[uid]
	if rec == nil || rec.gone {
		delete(s.scheduled, uid)
		return stepNothing, podRecord{}, time.Time{}
	}
	n := s.nodes[rec.nodeName]
	if n == nil {
		// The pod garbage collector deletes pods of nodes that are gone.
		delete(s.scheduled, uid)
		return stepNothing, *rec, time.Time{}
	}
	at, ok := evictionTime(n.noExecute, rec.tolerations)
	switch {
	case !ok:
		delete(s.scheduled, uid)
		if scheduled {
			return stepCancel, *rec, time.Time{}
		}
		return stepNothing, *rec, time.Time{}
	case !at.After(now):
		return stepEvict, *rec, at
	default:
		s.scheduled[uid] = at
		return stepWait, *rec, at
	}
}

// evicted notes that a pod's deletion was accepted, so that it is not
// deleted (nor an event recorded) again before the watch says so.
func (s *state) evicted(uid types.UID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.scheduled, uid)
	if rec := s.pods[uid]; rec != nil {
		rec.gone = true
	}
}

// evictionWorker deletes pods whose tolerations ran out until the queue
// shuts down. The queue holds a pod's UID again at its eviction time.
func (c *Controller) evictionWorker(ctx context.Context, s *state, queue workqueue.TypedRateLimitingInterface[types.UID]) {
	for {
		uid, quit := queue.Get()
		if quit {
			return
		}
		if err := c.processPod(ctx, s, queue, uid); err != nil {
			if ctx.Err() == nil {
				utilruntime.HandleErrorWithContext(ctx, err, "Evicting pod failed; retrying", "uid", uid)
				queue.AddRateLimited(uid)
			}
		} else {
			queue.Forget(uid)
		}
		queue.Done(uid)
	}
}

func (c *Controller) processPod(ctx context.Context, s *state, queue workqueue.TypedDelayingInterface[types.UID], uid types.UID) error {
	now := c.clock.Now()
	step, pod, at := s.decide(uid, now)
	logger := klog.FromContext(ctx).WithValues("pod", klog.KRef(pod.namespace, pod.name), "tenant", pod.tenant, "node", pod.nodeName)
	switch step {
	case stepWait:
		// The queue keeps the earliest of repeated delays; a later time
		// found when it fires is queued again then.
		logger.V(4).Info("Eviction scheduled", "at", at)
		queue.AddAfter(uid, at.Sub(now))
	case stepCancel:
		logger.V(2).Info("Eviction cancelled")
		c.recorder.Event(pod.pod(), corev1.EventTypeNormal, ReasonTaintManagerEviction,
			fmt.Sprintf("Cancelling deletion of Pod %s", &pod))
	case stepEvict:
		// Graceful deletion: the pod's agent stops it with its grace
		// period if it can still be reached. The UID guards against a new
		// pod of the same name.
		err := c.core.DeletePod(ctx, pod.tenant, pod.namespace, pod.name, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &pod.uid},
		})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			s.evicted(uid)
			return nil
		}
		if err != nil {
			return fmt.Errorf("deleting pod %s of tenant %s: %w", &pod, pod.tenant, err)
		}
		s.evicted(uid)
		evictions.Inc()
		logger.Info("Evicted pod from a tainted node", "due", at, "late", now.Sub(at).Round(time.Millisecond))
		c.recorder.Event(pod.pod(), corev1.EventTypeNormal, ReasonTaintManagerEviction,
			fmt.Sprintf("Marking for deletion Pod %s", &pod))
	}
	return nil
}
