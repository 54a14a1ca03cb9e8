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

package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// podWatch watches the pods of one namespace of a tenant, as the Arcturus
// superset Pod so that VM status is seen too, and notes when each tracked
// pod was first seen running and when it was gone.
type podWatch struct {
	core   *client.Core
	tenant tenancy.Name
	ns     string
	// fieldSelector, when set, limits the pods listed and watched.
	fieldSelector string
	cancel        context.CancelFunc
	done          chan struct{}

	// seen, when set, is given every pod the watch or a relist delivers,
	// tracked or not, with when it arrived.
	seen func(pod *v1.Pod, at time.Time)

	mu   sync.Mutex
	pods map[string]*podTrack
	// restarts counts the watches that ended and were started again.
	restarts int
}

// podTrack is what the watch saw of one pod.
type podTrack struct {
	// settled is closed when the pod is first seen running, finished or
	// gone; runningAt is when it was seen running.
	settled   chan struct{}
	runningAt time.Time
	// gone is closed when the pod is deleted, at goneAt.
	gone   chan struct{}
	goneAt time.Time
	last   *v1.Pod
}

// startPodWatch lists the namespace and watches it from there.
func startPodWatch(ctx context.Context, core *client.Core, tenant tenancy.Name, ns string) (*podWatch, error) {
	return watchPods(ctx, core, tenant, ns, "", nil)
}

// watchPods is startPodWatch of the pods that fieldSelector, when not
// empty, selects, which also hands every pod it sees to seen, when not
// nil, from the watch's goroutine.
func watchPods(ctx context.Context, core *client.Core, tenant tenancy.Name, ns, fieldSelector string, seen func(*v1.Pod, time.Time)) (*podWatch, error) {
	list, err := core.ListPods(ctx, tenant, ns, metav1.ListOptions{FieldSelector: fieldSelector})
	if err != nil {
		return nil, fmt.Errorf("listing pods to watch: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &podWatch{core: core, tenant: tenant, ns: ns, fieldSelector: fieldSelector, cancel: cancel, done: make(chan struct{}),
		pods: map[string]*podTrack{}, seen: seen}
	go w.loop(ctx, list.ResourceVersion)
	return w, nil
}

func (w *podWatch) stop() {
	w.cancel()
	<-w.done
}

// track starts tracking the pod named name, which must not exist yet.
func (w *podWatch) track(name string) *podTrack {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := &podTrack{settled: make(chan struct{}), gone: make(chan struct{})}
	w.pods[name] = t
	return t
}

func (w *podWatch) loop(ctx context.Context, rv string) {
	defer close(w.done)
	for ctx.Err() == nil {
		wi, err := w.core.WatchPods(ctx, w.tenant, w.ns, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true, FieldSelector: w.fieldSelector})
		if err != nil {
			if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
				rv = w.relist(ctx, rv)
			}
			sleepCtx(ctx, time.Second)
			continue
		}
		for ev := range wi.ResultChan() {
			now := time.Now()
			switch ev.Type {
			case watch.Error:
				if status := apierrors.FromObject(ev.Object); apierrors.IsResourceExpired(status) || apierrors.IsGone(status) {
					rv = w.relist(ctx, rv)
				}
			case watch.Bookmark:
				if m, err := meta.Accessor(ev.Object); err == nil {
					rv = m.GetResourceVersion()
				}
			default:
				pod, ok := ev.Object.(*v1.Pod)
				if !ok {
					continue
				}
				rv = pod.ResourceVersion
				w.observe(pod, ev.Type == watch.Deleted, now)
			}
		}
		wi.Stop()
		w.mu.Lock()
		w.restarts++
		w.mu.Unlock()
	}
}

// relist catches up after the watch fell too far behind: tracked pods
// missing from the list are gone.
func (w *podWatch) relist(ctx context.Context, rv string) string {
	list, err := w.core.ListPods(ctx, w.tenant, w.ns, metav1.ListOptions{FieldSelector: w.fieldSelector})
	if err != nil {
		return rv
	}
	now := time.Now()
	present := map[string]bool{}
	for i := range list.Items {
		present[list.Items[i].Name] = true
		w.observe(&list.Items[i], false, now)
	}
	w.mu.Lock()
	var missing []string
	for name, t := range w.pods {
		if !present[name] && t.last != nil {
			missing = append(missing, name)
		}
	}
	w.mu.Unlock()
	for _, name := range missing {
		w.observe(&v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}}, true, now)
	}
	return list.ResourceVersion
}

func (w *podWatch) observe(pod *v1.Pod, deleted bool, now time.Time) {
	if w.seen != nil && !deleted {
		w.seen(pod, now)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.pods[pod.Name]
	if t == nil {
		return
	}
	if !deleted {
		t.last = pod
	}
	settled := deleted || terminalPhase(pod.Status.Phase)
	if podRunning(pod) {
		if t.runningAt.IsZero() {
			t.runningAt = now
		}
		settled = true
	}
	if settled && !isClosed(t.settled) {
		close(t.settled)
	}
	if deleted && !isClosed(t.gone) {
		t.goneAt = now
		close(t.gone)
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// waitRunning waits for a tracked pod to be seen running and returns when
// it was.
func (w *podWatch) waitRunning(ctx context.Context, t *podTrack, timeout time.Duration) (time.Time, error) {
	if err := w.await(ctx, t, t.settled, "Running", timeout); err != nil {
		return time.Time{}, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if t.runningAt.IsZero() {
		return time.Time{}, fmt.Errorf("pod ended before running: %s", describePod(t.last))
	}
	return t.runningAt, nil
}

// waitGone waits for a tracked pod to be deleted and returns when it was.
func (w *podWatch) waitGone(ctx context.Context, t *podTrack, timeout time.Duration) (time.Time, error) {
	if err := w.await(ctx, t, t.gone, "gone", timeout); err != nil {
		return time.Time{}, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return t.goneAt, nil
}

// await waits until done is closed, saying what the pod was not yet when
// timeout passes first.
func (w *podWatch) await(ctx context.Context, t *podTrack, done <-chan struct{}, what string, timeout time.Duration) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		w.mu.Lock()
		defer w.mu.Unlock()
		return fmt.Errorf("%w: not %s within %v: %s", context.DeadlineExceeded, what, timeout, describePod(t.last))
	case <-done:
		return nil
	}
}

// podRunning reports whether a pod runs: phase Running and, for a VM pod,
// its VM running.
func podRunning(p *v1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning {
		return false
	}
	if p.Spec.VirtualMachine != nil {
		vs := p.Status.VirtualMachineStatus
		return vs != nil && vs.State == v1.VirtualMachineRunning
	}
	return true
}

func terminalPhase(p corev1.PodPhase) bool { return p == corev1.PodSucceeded || p == corev1.PodFailed }

// describePod summarises why a pod is where it is.
func describePod(p *v1.Pod) string {
	if p == nil {
		return "never seen"
	}
	parts := []string{"phase " + string(p.Status.Phase)}
	if p.Status.Reason != "" {
		parts = append(parts, p.Status.Reason+": "+p.Status.Message)
	}
	for _, c := range p.Status.ContainerStatuses {
		if w := c.State.Waiting; w != nil {
			parts = append(parts, fmt.Sprintf("container %s waiting: %s %s", c.Name, w.Reason, w.Message))
		}
		if t := c.State.Terminated; t != nil {
			parts = append(parts, fmt.Sprintf("container %s terminated: %s %s", c.Name, t.Reason, t.Message))
		}
	}
	if vs := p.Status.VirtualMachineStatus; vs != nil {
		parts = append(parts, fmt.Sprintf("VM %s %s %s", vs.State, vs.Reason, vs.Message))
	}
	return strings.Join(parts, "; ")
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
