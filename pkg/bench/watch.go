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
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
)

// deliveryGrace is how long watchers may take, after the last create, to
// receive every event before the missing ones are counted.
const deliveryGrace = 30 * time.Second

var errWatchClosed = errors.New("watch closed before every event arrived")

// watchTest measures how fast the events of new objects reach watchers.
// Every watcher watches the same namespace; once all have started, drive
// runs create for objects 0 to objects-1, named prefix-<i>.
type watchTest struct {
	watchers, perConnection int
	objects                 int
	prefix                  string
	watch                   func(ctx context.Context, core corev1client.CoreV1Interface, opts metav1.ListOptions) (watch.Interface, error)
	create                  op
	drive                   func(ctx context.Context, create op) loadResult

	// Set while running.
	base    time.Time
	sentAt  []atomic.Int64 // when create i was sent, since base
	delays  recorder
	failure recorder // watches that failed
}

// watchResult is what a watchTest measured.
type watchResult struct {
	creates loadResult
	// established is the time all watch calls took to return.
	established time.Duration
	// delivery is the delay from sending a create to a watcher receiving
	// its ADDED event, over every watcher and event.
	delivery Summary
	// watchFailures are the watches that failed or ended early.
	watchFailures Summary
	// missing counts the events some watcher never received.
	missing int
	// lastEvent is when the last event arrived, since the first create
	// was sent.
	lastEvent time.Duration
}

// failed formats the failed creates and watches.
func (res watchResult) failed() string {
	return failed(Summary{Failures: slices.Concat(res.creates.Failures, res.watchFailures.Failures)})
}

// run starts the watchers on connections of their own, drives the creates
// once every watch call has returned, and waits for every event to arrive
// (for at most deliveryGrace after the last create).
func (t *watchTest) run(ctx context.Context, r *runner, name string) (watchResult, error) {
	conns := make([]*connection, (t.watchers+t.perConnection-1)/t.perConnection)
	for k := range conns {
		c, err := r.connect(fmt.Sprintf("%s-%d", name, k))
		if err != nil {
			return watchResult{}, err
		}
		defer c.close()
		conns[k] = c
	}
	cores := make([]corev1client.CoreV1Interface, t.watchers)
	for w := range cores {
		core, err := conns[w/t.perConnection].core(r.tenant)
		if err != nil {
			return watchResult{}, err
		}
		cores[w] = core
	}

	watchCtx, stopWatching := context.WithCancel(ctx)
	var started, finished sync.WaitGroup
	defer func() {
		stopWatching()
		finished.Wait()
	}()
	t.base = time.Now()
	t.sentAt = make([]atomic.Int64, t.objects)
	received := make([]int, t.watchers)
	last := make([]time.Duration, t.watchers)
	for w, core := range cores {
		started.Add(1)
		finished.Go(func() { received[w], last[w] = t.watchOne(watchCtx, core, started.Done) })
	}
	started.Wait()
	res := watchResult{established: time.Since(t.base)}
	if err := ctx.Err(); err != nil {
		return watchResult{}, err
	}

	first := time.Since(t.base)
	res.creates = t.drive(ctx, func(ctx context.Context, i int) error {
		t.sentAt[i].Store(int64(time.Since(t.base)))
		return t.create(ctx, i)
	})
	done := make(chan struct{})
	go func() {
		finished.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(deliveryGrace):
		stopWatching()
		<-done
	case <-ctx.Done():
		return watchResult{}, ctx.Err()
	}
	for w := range t.watchers {
		res.missing += t.objects - received[w]
		res.lastEvent = max(res.lastEvent, last[w]-first)
	}
	res.delivery, res.watchFailures = t.delays.summary(), t.failure.summary()
	return res, nil
}

// watchOne watches until it has received every object's ADDED event or ctx
// ends. It calls started once the watch call has returned, and returns how
// many objects it saw and when it saw the last, since base.
func (t *watchTest) watchOne(ctx context.Context, core corev1client.CoreV1Interface, started func()) (received int, last time.Duration) {
	w, err := t.watch(ctx, core, metav1.ListOptions{})
	started()
	if err != nil {
		t.failure.fail(err)
		return 0, 0
	}
	defer w.Stop()
	seen := make([]bool, t.objects)
	for received < t.objects {
		select {
		case <-ctx.Done():
			return received, last
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.failure.fail(errWatchClosed)
				return received, last
			}
			switch ev.Type {
			case watch.Error:
				t.failure.fail(apierrors.FromObject(ev.Object))
				return received, last
			case watch.Added:
				now := time.Since(t.base)
				i, ok := t.index(ev.Object)
				if !ok || seen[i] {
					continue
				}
				seen[i] = true
				received++
				last = now
				t.delays.observe(now - time.Duration(t.sentAt[i].Load()))
			}
		}
	}
	return received, last
}

// index is the number in the name of one of the test's objects.
func (t *watchTest) index(obj any) (int, bool) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return 0, false
	}
	suffix, ok := strings.CutPrefix(m.GetName(), t.prefix+"-")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(suffix)
	return i, err == nil && i >= 0 && i < t.objects
}
