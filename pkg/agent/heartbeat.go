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
	"sync"
	"time"

	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// beat is one node's next lease renewal, or its next status check.
type beat struct {
	node  string
	lease bool
}

// heartbeats renews each registered node's Lease leaseRenewInterval after
// its previous renewal, and checks its status statusUpdateInterval after
// the previous check, as the kubelet does: a renewal that ran late is not
// followed by a hurried one to keep a schedule. They start the moment the
// node is registered: a node whose heartbeats waited for thousands of
// others to register would be declared unreachable before its first.
type heartbeats struct {
	q  workqueue.TypedDelayingInterface[beat]
	mu sync.Mutex
	// renewed is when each node's lease was last renewed.
	renewed map[string]time.Time
}

func newHeartbeats(nodes int) *heartbeats {
	return &heartbeats{
		q:       workqueue.NewTypedDelayingQueueWithConfig(workqueue.TypedDelayingQueueConfig[beat]{Name: "agent_heartbeats"}),
		renewed: make(map[string]time.Time, nodes),
	}
}

// start schedules the heartbeats of a node whose lease was renewed at now.
func (h *heartbeats) start(name string, now time.Time) {
	h.renewedAt(name, now)
	h.schedule(beat{name, true}, now.Add(leaseRenewInterval))
	h.schedule(beat{name, false}, now.Add(statusUpdateInterval))
}

func (h *heartbeats) schedule(b beat, at time.Time) { h.q.AddAfter(b, time.Until(at)) }

// renewedAt records a renewal of name's lease at at, and returns the
// previous one.
func (h *heartbeats) renewedAt(name string, at time.Time) time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	prev := h.renewed[name]
	h.renewed[name] = at
	return prev
}

// oldest is when the least recently renewed lease was renewed.
func (h *heartbeats) oldest() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	oldest := time.Now()
	for _, at := range h.renewed {
		if at.Before(oldest) {
			oldest = at
		}
	}
	return oldest
}

// runHeartbeats serves the heartbeats of the nodes started so far, and of
// those started later, with the configured workers until ctx ends.
func (a *Agent) runHeartbeats(ctx context.Context) {
	h := a.beats
	var wg sync.WaitGroup
	for range a.cfg.HeartbeatWorkers {
		wg.Go(func() {
			for {
				b, quit := h.q.Get()
				if quit {
					return
				}
				n := a.nodes[b.node]
				if b.lease {
					err := a.renewLease(ctx, n)
					done := time.Now()
					if err != nil && ctx.Err() == nil {
						leaseRenewals.WithLabelValues("error").Inc()
						klog.FromContext(ctx).Error(err, "Renewing node lease", "node", b.node)
						h.schedule(b, done.Add(leaseRetryInterval))
					} else {
						leaseRenewals.WithLabelValues("ok").Inc()
						leaseRenewalLag.Observe(done.Sub(h.renewedAt(b.node, done).Add(leaseRenewInterval)).Seconds())
						h.schedule(b, done.Add(leaseRenewInterval))
					}
				} else {
					if err := a.updateNodeStatus(ctx, n, nil, false); err != nil && ctx.Err() == nil {
						klog.FromContext(ctx).Error(err, "Updating node status", "node", b.node)
					}
					h.schedule(b, time.Now().Add(statusUpdateInterval))
				}
				h.q.Done(b)
			}
		})
	}
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			oldestLease.Set(time.Since(h.oldest()).Seconds())
		}
	})
	<-ctx.Done()
	h.q.ShutDown()
	wg.Wait()
}
