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
	"fmt"
	"net/http"
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
	eventComponent = "arcturus-agent"
	// eventBacklog bounds the events waiting to be written; beyond it
	// events are dropped rather than slowing pods down, as the kubelet does.
	eventBacklog = 1000
	// eventAggregation is how long a repeated event is counted on the same
	// Event object instead of making a new one.
	eventAggregation = 10 * time.Minute
)

// recorder writes pod Events into the pods' tenants through the partition
// that holds each pod. Repeats of the same reason and message count up on
// one Event, like client-go's event correlator.
type recorder struct {
	agent   *Agent
	pending chan eventRequest

	mu   sync.Mutex
	seen map[eventKey]*seenEvent
}

type eventKey struct {
	uid             types.UID
	reason, message string
}

type seenEvent struct {
	name  string
	count int32
	first metav1.Time
	last  time.Time
}

type eventRequest struct {
	pod                        *v1.Pod
	eventType, reason, message string
	at                         metav1.Time
}

func newRecorder(a *Agent) *recorder {
	return &recorder{agent: a, pending: make(chan eventRequest, eventBacklog), seen: map[eventKey]*seenEvent{}}
}

// Event implements runtime.Recorder. It never blocks.
func (r *recorder) Event(pod *v1.Pod, eventType, reason, message string) {
	select {
	case r.pending <- eventRequest{pod: pod, eventType: eventType, reason: reason, message: message, at: metav1.Now()}:
	default:
		klog.Background().V(2).Info("Dropping event: backlog full", "pod", klog.KObj(pod), "reason", reason)
	}
}

// run writes events until ctx ends.
func (r *recorder) run(ctx context.Context) {
	prune := time.NewTicker(eventAggregation)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-prune.C:
			r.prune()
		case req := <-r.pending:
			if err := r.write(ctx, req); err != nil && ctx.Err() == nil {
				klog.FromContext(ctx).V(2).Info("Writing event failed", "pod", klog.KObj(req.pod), "reason", req.reason, "err", err)
			}
		}
	}
}

func (r *recorder) write(ctx context.Context, req eventRequest) error {
	bp, ok := r.agent.pods.get(req.pod.UID)
	if !ok {
		return nil
	}
	pod := req.pod
	key := eventKey{uid: pod.UID, reason: req.reason, message: req.message}
	r.mu.Lock()
	prev := r.seen[key]
	if prev != nil && req.at.Sub(prev.last) > eventAggregation {
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
		Source:         corev1.EventSource{Component: eventComponent, Host: pod.Spec.NodeName},
		FirstTimestamp: req.at, LastTimestamp: req.at, Count: 1,
		ReportingController: "arcturus.io/agent", ReportingInstance: pod.Spec.NodeName,
	}
	if prev != nil {
		prev.count++
		prev.last = req.at.Time
		ev.Name, ev.Count, ev.FirstTimestamp = prev.name, prev.count, prev.first
	} else {
		r.seen[key] = &seenEvent{name: ev.Name, count: 1, first: req.at, last: req.at.Time}
	}
	r.mu.Unlock()

	tenant := tenancy.OfObject(bp.pod.Annotations)
	if prev == nil {
		return bp.partition.CreateEvent(ctx, tenant, ev)
	}
	return bp.partition.UpdateEvent(ctx, tenant, ev)
}

func (r *recorder) prune() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, s := range r.seen {
		if time.Since(s.last) > eventAggregation {
			delete(r.seen, k)
		}
	}
}

// objects reads ConfigMaps and Secrets from the tenant and partition of
// the pod that refers to them.
type objects struct{ agent *Agent }

func (o objects) partitionOf(pod *v1.Pod) (*client.Core, error) {
	bp, ok := o.agent.pods.get(pod.UID)
	if !ok {
		return nil, fmt.Errorf("pod %s/%s is no longer bound here", pod.Namespace, pod.Name)
	}
	return bp.partition, nil
}

func (o objects) ConfigMap(ctx context.Context, pod *v1.Pod, name string) (*corev1.ConfigMap, error) {
	p, err := o.partitionOf(pod)
	if err != nil {
		return nil, err
	}
	cm := &corev1.ConfigMap{}
	err = p.Request(http.MethodGet, tenancy.OfObject(pod.Annotations)).Namespace(pod.Namespace).Resource("configmaps").Name(name).Do(ctx).Into(cm)
	return cm, err
}

func (o objects) Secret(ctx context.Context, pod *v1.Pod, name string) (*corev1.Secret, error) {
	p, err := o.partitionOf(pod)
	if err != nil {
		return nil, err
	}
	s := &corev1.Secret{}
	err = p.Request(http.MethodGet, tenancy.OfObject(pod.Annotations)).Namespace(pod.Namespace).Resource("secrets").Name(name).Do(ctx).Into(s)
	return s, err
}
