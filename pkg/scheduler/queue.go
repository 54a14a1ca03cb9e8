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

package scheduler

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// Back-off of a pod whose attempt failed, as kube-scheduler's defaults.
const (
	initialBackoff = time.Second
	maxBackoff     = 10 * time.Second
	// unschedulableFlush is how long a pod waits for a cluster event
	// before it is tried again anyway, in case the event that would have
	// helped it was missed.
	unschedulableFlush = 5 * time.Minute
)

// clusterEvent says what changed in the cluster, so that only the pods it
// may help are tried again.
type clusterEvent uint8

const (
	// nodeChanged: a node appeared, or changed in what filters look at.
	nodeChanged clusterEvent = 1 << iota
	// podRemoved: an assigned pod went away or finished, freeing room.
	podRemoved
	// podAssigned: a pod landed on a node, which may satisfy affinity.
	podAssigned
)

// entry is a pending pod in the queue.
type entry struct {
	pod      *podInfo
	attempts int
	// added is when the pod entered the queue for the first time; the
	// scheduling latency metric counts from here.
	added time.Time
	// queued orders pods of one tenant and priority: first come first.
	queued time.Time
	// readyAt is when a backing-off pod may be tried again.
	readyAt time.Time
	// failedOn are the events that may make an unschedulable pod fit.
	failedOn clusterEvent
	index    int
}

// queue holds pending pods. Active pods are served round-robin by tenant,
// so that one tenant's flood of pods waits behind itself, not in front of
// everyone else; within a tenant, higher priority first, then oldest.
// Pods that failed wait out a back-off; pods that fit nowhere wait for a
// cluster event that may help them.
type queue struct {
	mu   sync.Mutex
	cond *sync.Cond

	active map[tenancy.Name]*entryHeap
	// ring lists tenants with active pods; next is the one served next.
	ring []tenancy.Name
	next int

	backoff       *entryHeap
	unschedulable map[types.UID]*entry
	// where says which part of the queue holds a pending pod.
	where map[types.UID]*entry
	// inFlight are pods being scheduled; updates to them wait here until
	// the attempt ends.
	inFlight map[types.UID]*inFlight
	closed   bool
}

type inFlight struct {
	entry   *entry
	latest  *podInfo
	deleted bool
	events  clusterEvent
}

func newQueue() *queue {
	q := &queue{
		active:        map[tenancy.Name]*entryHeap{},
		backoff:       &entryHeap{less: byReadyAt},
		unschedulable: map[types.UID]*entry{},
		where:         map[types.UID]*entry{},
		inFlight:      map[types.UID]*inFlight{},
	}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// add queues a new or changed pending pod.
func (q *queue) add(p *podInfo) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if f, ok := q.inFlight[p.uid]; ok {
		f.latest = p
		return
	}
	if e, ok := q.where[p.uid]; ok {
		e.pod = p
		if _, waiting := q.unschedulable[p.uid]; waiting {
			// Its spec or labels changed: worth another try.
			delete(q.unschedulable, p.uid)
			q.pushActive(e)
		} else if e.index >= 0 && e.readyAt.IsZero() {
			heap.Fix(q.active[p.tenant], e.index)
		}
		return
	}
	now := time.Now()
	e := &entry{pod: p, added: now, queued: now}
	q.where[p.uid] = e
	q.pushActive(e)
}

// remove drops a pod that was deleted or bound by someone else.
func (q *queue) remove(uid types.UID) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if f, ok := q.inFlight[uid]; ok {
		f.deleted = true
		return
	}
	e, ok := q.where[uid]
	if !ok {
		return
	}
	delete(q.where, uid)
	switch {
	case q.unschedulable[uid] == e:
		delete(q.unschedulable, uid)
	case !e.readyAt.IsZero():
		heap.Remove(q.backoff, e.index)
	default:
		h := q.active[e.pod.tenant]
		heap.Remove(h, e.index)
		if h.Len() == 0 {
			q.dropTenant(e.pod.tenant)
		}
	}
}

// pop blocks until a pod is active, and marks it in flight. It gives up
// when ctx ends, as when this replica stops leading.
func (q *queue) pop(ctx context.Context) (*entry, bool) {
	stop := context.AfterFunc(ctx, func() {
		q.mu.Lock()
		q.cond.Broadcast()
		q.mu.Unlock()
	})
	defer stop()
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.ring) == 0 {
		if q.closed || ctx.Err() != nil {
			return nil, false
		}
		q.cond.Wait()
	}
	if q.next >= len(q.ring) {
		q.next = 0
	}
	tenant := q.ring[q.next]
	h := q.active[tenant]
	e := heap.Pop(h).(*entry)
	if h.Len() == 0 {
		q.dropTenant(tenant)
	} else {
		q.next++
	}
	delete(q.where, e.pod.uid)
	e.attempts++
	q.inFlight[e.pod.uid] = &inFlight{entry: e}
	return e, true
}

// done ends the attempt on a pod that was bound (or is gone).
func (q *queue) done(uid types.UID) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.inFlight, uid)
}

// retry ends a failed attempt. An unschedulable pod (failedOn set) waits
// for a cluster event of that kind, unless one came during the attempt; a
// pod that failed for another reason backs off.
func (q *queue) retry(e *entry, failedOn clusterEvent) {
	q.mu.Lock()
	defer q.mu.Unlock()
	f := q.inFlight[e.pod.uid]
	delete(q.inFlight, e.pod.uid)
	if f == nil || f.deleted {
		return
	}
	if f.latest != nil {
		e.pod = f.latest
	}
	e.failedOn = failedOn
	q.where[e.pod.uid] = e
	if failedOn != 0 && f.events&failedOn == 0 && f.latest == nil {
		e.queued = time.Now()
		q.unschedulable[e.pod.uid] = e
		return
	}
	q.pushBackoff(e)
}

// requeueAfterBind puts back a pod whose binding failed, with back-off.
func (q *queue) requeueAfterBind(e *entry) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.where[e.pod.uid]; ok {
		return
	}
	q.where[e.pod.uid] = e
	q.pushBackoff(e)
}

// onEvent moves the unschedulable pods that ev may help into back-off
// (from which they become active once their back-off has passed).
func (q *queue) onEvent(ev clusterEvent) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, f := range q.inFlight {
		f.events |= ev
	}
	for uid, e := range q.unschedulable {
		if e.failedOn&ev != 0 {
			delete(q.unschedulable, uid)
			q.pushBackoff(e)
		}
	}
}

// flush makes active the backed-off pods whose time has come, and retries
// pods that have waited too long for an event.
func (q *queue) flush(now time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.backoff.Len() > 0 && !q.backoff.items[0].readyAt.After(now) {
		e := heap.Pop(q.backoff).(*entry)
		e.readyAt = time.Time{}
		q.pushActive(e)
	}
	for uid, e := range q.unschedulable {
		if now.Sub(e.queued) > unschedulableFlush {
			delete(q.unschedulable, uid)
			q.pushActive(e)
		}
	}
}

// run flushes the back-off queue until ctx ends, then wakes every pop.
func (q *queue) run(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			q.mu.Lock()
			q.closed = true
			q.cond.Broadcast()
			q.mu.Unlock()
			return
		case now := <-t.C:
			q.flush(now)
		}
	}
}

// lengths reports how many pods are active, backing off and unschedulable.
func (q *queue) lengths() (active, backoff, unschedulable int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, h := range q.active {
		active += h.Len()
	}
	return active, q.backoff.Len(), len(q.unschedulable)
}

func (q *queue) pushActive(e *entry) {
	e.readyAt = time.Time{}
	h, ok := q.active[e.pod.tenant]
	if !ok {
		h = &entryHeap{less: byPriority}
		q.active[e.pod.tenant] = h
		q.ring = append(q.ring, e.pod.tenant)
	}
	heap.Push(h, e)
	q.cond.Signal()
}

func (q *queue) pushBackoff(e *entry) {
	d := initialBackoff
	for i := 1; i < e.attempts && d < maxBackoff; i++ {
		d *= 2
	}
	e.readyAt = time.Now().Add(min(d, maxBackoff))
	heap.Push(q.backoff, e)
}

func (q *queue) dropTenant(t tenancy.Name) {
	delete(q.active, t)
	for i, name := range q.ring {
		if name == t {
			q.ring = append(q.ring[:i], q.ring[i+1:]...)
			if q.next > i {
				q.next--
			}
			return
		}
	}
}

// entryHeap is a heap of queue entries that keeps each entry's index, so
// that an entry can be removed or re-sorted in place.
type entryHeap struct {
	items []*entry
	less  func(a, b *entry) bool
}

// byPriority orders one tenant's active pods: priority, then arrival.
func byPriority(a, b *entry) bool {
	if a.pod.priority != b.pod.priority {
		return a.pod.priority > b.pod.priority
	}
	return a.queued.Before(b.queued)
}

// byReadyAt orders backing-off pods by when they may be tried again.
func byReadyAt(a, b *entry) bool { return a.readyAt.Before(b.readyAt) }

func (h *entryHeap) Len() int           { return len(h.items) }
func (h *entryHeap) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *entryHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].index, h.items[j].index = i, j
}
func (h *entryHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(h.items)
	h.items = append(h.items, e)
}
func (h *entryHeap) Pop() any {
	n := len(h.items) - 1
	e := h.items[n]
	h.items[n] = nil
	h.items = h.items[:n]
	e.index = -1
	return e
}
