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

// Package events records Events about the objects of tenants (superset
// pods, replica sets, deployments...) in the objects' own tenants, through
// whichever tenant partition holds each object. client-go's recorder
// cannot: it writes through one client into one namespace space, and takes
// only Kubernetes types, through a scheme.
package events

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/klog/v2"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

const (
	// qps and burst bound the events a recorder writes, as the kubelet's
	// --event-qps and --event-burst do by default: a flood of them (a
	// thousand pods scheduled a second) would otherwise take the API
	// server's capacity from the work they report.
	qps   = 50
	burst = 100
	// backlog bounds the events waiting to be written per writer; beyond
	// it events are dropped rather than slowing the caller down, as the
	// kubelet does. The writers' thousand in all, as client-go's
	// broadcaster keeps, are 20 s at qps.
	backlog = 250
	// writers write events in parallel, each object's always through the
	// same one so that its repeats update the Event its first one created.
	writers = 4
	// aggregation is how long a repeated event is counted on the same
	// Event object instead of making a new one.
	aggregation = 10 * time.Minute
	// maxSimilar is how many Events of different messages an object gets
	// for one type and reason within aggregation; later messages count up
	// on one more Event, which shows the latest of them after
	// combinedPrefix. client-go's EventAggregator does the same, with the
	// same threshold: a replica set scaled up by a thousand pods gets a
	// dozen SuccessfulCreate Events, not a thousand.
	maxSimilar     = 10
	combinedPrefix = "(combined from similar events): "
)

// podKind is what Events about pods name as their involved object's kind.
var podKind = corev1.SchemeGroupVersion.WithKind("Pod")

// TypedSource names who reports events about objects of type T.
type TypedSource[T metav1.Object] struct {
	// Component is the event's source.component, such as
	// "default-scheduler".
	Component string
	// Controller is reportingController, such as "arcturus.io/agent".
	Controller string
	// Instance gives source.host and reportingInstance for an event about
	// obj; nil leaves them empty.
	Instance func(obj T) string
}

// Source names who reports events about pods.
type Source = TypedSource[*v1.Pod]

// TypedRecorder writes Events about objects of one kind, T, each in the
// tenant its arcturus.io/tenant annotation names. Repeats of the same
// reason and message about the same object count up on one Event, like
// client-go's event correlator.
type TypedRecorder[T metav1.Object] struct {
	apiVersion, kind string
	source           TypedSource[T]
	// partitionOf returns the partition holding obj, or false when obj
	// is not of interest and its events can be dropped.
	partitionOf func(obj T) (*client.Core, bool)
	pending     [writers]chan request
	limiter     flowcontrol.RateLimiter

	mu      sync.Mutex
	seen    map[key]*seenEvent
	similar map[similarKey]*similarEvents
}

// Recorder writes Events about pods.
type Recorder = TypedRecorder[*v1.Pod]

// key names the Event that repeats count up on: one per message, and
// past maxSimilar messages one for the rest (combined, with no message).
type key struct {
	uid             types.UID
	reason, message string
	combined        bool
}

type seenEvent struct {
	name  string
	count int32
	first metav1.Time
	last  time.Time
}

// similarKey groups the events of different messages about one object.
type similarKey struct {
	uid               types.UID
	eventType, reason string
}

type similarEvents struct {
	// separate counts the messages that got an Event of their own.
	separate int
	last     time.Time
}

// request is an event as Event took it: what it needs of the object is
// copied then, so that callers may change the object afterwards.
type request struct {
	partition                  *client.Core
	tenant                     tenancy.Name
	instance                   string
	namespace, name            string
	uid                        types.UID
	resourceVersion            string
	eventType, reason, message string
	at                         metav1.Time
}

// NewTypedRecorder returns a recorder of events about objects of type T,
// whose kind kind names, written through partitionOf(obj).
func NewTypedRecorder[T metav1.Object](kind schema.GroupVersionKind, source TypedSource[T], partitionOf func(obj T) (*client.Core, bool)) *TypedRecorder[T] {
	apiVersion, k := kind.ToAPIVersionAndKind()
	r := &TypedRecorder[T]{
		apiVersion: apiVersion, kind: k, source: source, partitionOf: partitionOf,
		seen: map[key]*seenEvent{}, similar: map[similarKey]*similarEvents{},
		limiter: flowcontrol.NewTokenBucketRateLimiter(qps, burst),
	}
	for i := range r.pending {
		r.pending[i] = make(chan request, backlog)
	}
	return r
}

// NewRecorder returns a recorder of pod events, written through
// partitionOf(pod).
func NewRecorder(source Source, partitionOf func(pod *v1.Pod) (*client.Core, bool)) *Recorder {
	return NewTypedRecorder(podKind, source, partitionOf)
}

// Event records an event about obj as it is now: the caller may change obj
// afterwards. It never blocks, and allocates nothing.
func (r *TypedRecorder[T]) Event(obj T, eventType, reason, message string) {
	partition, ok := r.partitionOf(obj)
	if !ok {
		return
	}
	req := request{
		partition: partition, tenant: tenancy.OfObject(obj.GetAnnotations()),
		namespace: obj.GetNamespace(), name: obj.GetName(), uid: obj.GetUID(), resourceVersion: obj.GetResourceVersion(),
		eventType: eventType, reason: reason, message: message, at: metav1.Now(),
	}
	if req.tenant == "" {
		// Only an object that did not come from the server lacks it:
		// there is no tenant to write to.
		klog.Background().Info("Dropping event: object has no tenant", "kind", r.kind, "object", klog.KRef(req.namespace, req.name), "reason", reason)
		return
	}
	if r.source.Instance != nil {
		req.instance = r.source.Instance(obj)
	}
	select {
	case r.pending[shard(req.uid)] <- req:
	default:
		klog.Background().V(2).Info("Dropping event: backlog full", "kind", r.kind, "object", klog.KRef(req.namespace, req.name), "reason", reason)
	}
}

// shard picks the writer of an object's events: FNV-1a of its UID,
// inline because hash/fnv would allocate on every event.
func shard(uid types.UID) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(uid); i++ {
		h = (h ^ uint32(uid[i])) * 16777619
	}
	return h % writers
}

// Run writes events until ctx ends.
func (r *TypedRecorder[T]) Run(ctx context.Context) {
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

func (r *TypedRecorder[T]) write(ctx context.Context, pending <-chan request) {
	for {
		select {
		case <-ctx.Done():
			return
		case req := <-pending:
			if r.limiter.Wait(ctx) != nil {
				return
			}
			if err := r.writeOne(ctx, req); err != nil && ctx.Err() == nil {
				klog.FromContext(ctx).V(2).Info("Writing event failed", "kind", r.kind, "object", klog.KRef(req.namespace, req.name),
					"tenant", req.tenant, "reason", req.reason, "err", err)
			}
		}
	}
}

func (r *TypedRecorder[T]) writeOne(ctx context.Context, req request) error {
	namespace := req.namespace
	if namespace == "" {
		// Events about cluster-scoped objects go where Kubernetes puts
		// them.
		namespace = metav1.NamespaceDefault
	}
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{
			Name:      fmt.Sprintf("%s.%x", req.name, req.at.UnixNano()),
			Namespace: namespace,
		},
		InvolvedObject: corev1.ObjectReference{
			Kind: r.kind, APIVersion: r.apiVersion, Namespace: req.namespace, Name: req.name, UID: req.uid,
			ResourceVersion: req.resourceVersion,
		},
		Reason: req.reason, Message: req.message, Type: req.eventType,
		Source:         corev1.EventSource{Component: r.source.Component, Host: req.instance},
		FirstTimestamp: req.at, LastTimestamp: req.at, Count: 1,
		ReportingController: r.source.Controller, ReportingInstance: req.instance,
	}

	r.mu.Lock()
	k := key{uid: req.uid, reason: req.reason, message: req.message}
	prev := r.live(k, req.at)
	if prev == nil && !r.separate(req) {
		k = key{uid: req.uid, reason: req.reason, combined: true}
		ev.Message = combinedPrefix + req.message
		prev = r.live(k, req.at)
	}
	var this *seenEvent
	if prev != nil {
		prev.count++
		prev.last = req.at.Time
		ev.Name, ev.Count, ev.FirstTimestamp = prev.name, prev.count, prev.first
		this = prev
	} else {
		this = &seenEvent{name: ev.Name, count: 1, first: req.at, last: req.at.Time}
		r.seen[k] = this
	}
	r.mu.Unlock()

	var err error
	if prev != nil {
		err = req.partition.UpdateEvent(ctx, req.tenant, ev)
		if !apierrors.IsNotFound(err) {
			return err
		}
		// Deleted since (by its TTL or by hand): start it again, as
		// client-go does.
	}
	if err = req.partition.CreateEvent(ctx, req.tenant, ev); err != nil {
		// Repeats would update an Event that does not exist: let the
		// next one create it.
		r.mu.Lock()
		if r.seen[k] == this {
			delete(r.seen, k)
		}
		r.mu.Unlock()
	}
	return err
}

// live returns the Event that an event of key k at counts up on, if any.
// r.mu must be held.
func (r *TypedRecorder[T]) live(k key, at metav1.Time) *seenEvent {
	s := r.seen[k]
	if s == nil || at.Sub(s.last) > aggregation {
		return nil
	}
	return s
}

// separate tells whether an event whose message its object has no live
// Event of gets an Event of its own, and counts it if so: only the first
// maxSimilar messages of a type and reason do. r.mu must be held.
func (r *TypedRecorder[T]) separate(req request) bool {
	sk := similarKey{uid: req.uid, eventType: req.eventType, reason: req.reason}
	s := r.similar[sk]
	if s == nil || req.at.Sub(s.last) > aggregation {
		s = &similarEvents{}
		r.similar[sk] = s
	}
	s.last = req.at.Time
	if s.separate >= maxSimilar {
		return false
	}
	s.separate++
	return true
}

func (r *TypedRecorder[T]) prune() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, s := range r.seen {
		if time.Since(s.last) > aggregation {
			delete(r.seen, k)
		}
	}
	for k, s := range r.similar {
		if time.Since(s.last) > aggregation {
			delete(r.similar, k)
		}
	}
}
