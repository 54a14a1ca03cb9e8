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

// Package events records Events about superset pods in the pods' own
// tenants, through whichever tenant partition holds each pod. client-go's
// recorder cannot: it writes through one client into one namespace space,
// and takes only the Kubernetes Pod type.
package events

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

const (
	// backlog bounds the events waiting to be written per writer; beyond
	// it events are dropped rather than slowing the caller down, as the
	// kubelet does.
	backlog = 1000
	// writers write events in parallel, each pod's always through the same
	// one so that its repeats update the Event its first one created.
	writers = 4
	// aggregation is how long a repeated event is counted on the same
	// Event object instead of making a new one.
	aggregation = 10 * time.Minute
)

// Source names who reports events.
type Source struct {
	// Component is the event's source.component, such as
	// "default-scheduler".
	Component string
	// Controller is reportingController, such as "arcturus.io/agent".
	Controller string
	// Instance gives source.host and reportingInstance for an event about
	// pod; nil leaves them empty.
	Instance func(pod *v1.Pod) string
}

// Recorder writes pod Events. Repeats of the same reason and message about
// the same pod count up on one Event, like client-go's event correlator.
type Recorder struct {
	source Source
	// partitionOf returns the partition holding pod, or false when the
	// pod is no longer of interest and its events can be dropped.
	partitionOf func(pod *v1.Pod) (*client.Core, bool)
	pending     [writers]chan request

	mu   sync.Mutex
	seen map[key]*seenEvent
}

type key struct {
	uid             types.UID
	reason, message string
}

type seenEvent struct {
	name  string
	count int32
	first metav1.Time
	last  time.Time
}

type request struct {
	pod                        *v1.Pod
	eventType, reason, message string
	at                         metav1.Time
}

// NewRecorder returns a recorder that writes through partitionOf(pod).
func NewRecorder(source Source, partitionOf func(pod *v1.Pod) (*client.Core, bool)) *Recorder {
	r := &Recorder{source: source, partitionOf: partitionOf, seen: map[key]*seenEvent{}}
	for i := range r.pending {
		r.pending[i] = make(chan request, backlog)
	}
	return r
}

// Event records an event about pod. It never blocks.
func (r *Recorder) Event(pod *v1.Pod, eventType, reason, message string) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(pod.UID))
	select {
	case r.pending[h.Sum32()%writers] <- request{pod: pod, eventType: eventType, reason: reason, message: message, at: metav1.Now()}:
	default:
		klog.Background().V(2).Info("Dropping event: backlog full", "pod", klog.KObj(pod), "reason", reason)
	}
}

// Run writes events until ctx ends.
func (r *Recorder) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, pending := range r.pending {
		wg.Go(func() { r.write(ctx, pending) })
	}
	prune := time.NewTicker(aggregation)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-prune.C:
			r.prune()
		}
	}
}

func (r *Recorder) write(ctx context.Context, pending <-chan request) {
	for {
		select {
		case <-ctx.Done():
			return
		case req := <-pending:
			if err := r.writeOne(ctx, req); err != nil && ctx.Err() == nil {
				klog.FromContext(ctx).V(2).Info("Writing event failed", "pod", klog.KObj(req.pod), "reason", req.reason, "err", err)
			}
		}
	}
}

func (r *Recorder) writeOne(ctx context.Context, req request) error {
	pod := req.pod
	partition, ok := r.partitionOf(pod)
	if !ok {
		return nil
	}
	var instance string
	if r.source.Instance != nil {
		instance = r.source.Instance(pod)
	}
	k := key{uid: pod.UID, reason: req.reason, message: req.message}
	r.mu.Lock()
	prev := r.seen[k]
	if prev != nil && req.at.Sub(prev.last) > aggregation {
		prev = nil
	}
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{
			Name:      fmt.Sprintf("%s.%x", pod.Name, req.at.UnixNano()),
			Namespace: pod.Namespace,
		},
		InvolvedObject: corev1.ObjectReference{
			Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID,
			ResourceVersion: pod.ResourceVersion,
		},
		Reason: req.reason, Message: req.message, Type: req.eventType,
		Source:         corev1.EventSource{Component: r.source.Component, Host: instance},
		FirstTimestamp: req.at, LastTimestamp: req.at, Count: 1,
		ReportingController: r.source.Controller, ReportingInstance: instance,
	}
	if prev != nil {
		prev.count++
		prev.last = req.at.Time
		ev.Name, ev.Count, ev.FirstTimestamp = prev.name, prev.count, prev.first
	} else {
		r.seen[k] = &seenEvent{name: ev.Name, count: 1, first: req.at, last: req.at.Time}
	}
	r.mu.Unlock()

	tenant := tenancy.OfObject(pod.Annotations)
	if prev == nil {
		return partition.CreateEvent(ctx, tenant, ev)
	}
	return partition.UpdateEvent(ctx, tenant, ev)
}

func (r *Recorder) prune() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, s := range r.seen {
		if time.Since(s.last) > aggregation {
			delete(r.seen, k)
		}
	}
}
