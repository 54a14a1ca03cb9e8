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
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/workqueue"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/regionwatch"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

func toleration(key string, seconds *int64) corev1.Toleration {
	op := corev1.TolerationOpExists
	return corev1.Toleration{Key: key, Operator: op, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: seconds}
}

func TestEvictionTime(t *testing.T) {
	unreachable := startedTaint{taint: UnreachableTaint, since: start}
	other := startedTaint{taint: corev1.Taint{Key: "other", Value: "x", Effect: corev1.TaintEffectNoExecute}, since: start.Add(time.Minute)}
	for _, tc := range []struct {
		name        string
		taints      []startedTaint
		tolerations []corev1.Toleration
		want        time.Duration // from start; -1: never
	}{
		{"no taints", nil, nil, -1},
		{"not tolerated", []startedTaint{unreachable}, nil, 0},
		{"another key tolerated", []startedTaint{unreachable}, []corev1.Toleration{toleration(corev1.TaintNodeNotReady, nil)}, 0},
		{"tolerated for 0 s", []startedTaint{unreachable}, []corev1.Toleration{toleration(corev1.TaintNodeUnreachable, ptr.To[int64](0))}, 0},
		{"negative seconds are 0", []startedTaint{unreachable}, []corev1.Toleration{toleration(corev1.TaintNodeUnreachable, ptr.To[int64](-5))}, 0},
		{"tolerated for 300 s", []startedTaint{unreachable}, []corev1.Toleration{toleration(corev1.TaintNodeUnreachable, ptr.To[int64](300))}, 300 * time.Second},
		{"tolerated forever", []startedTaint{unreachable}, []corev1.Toleration{toleration(corev1.TaintNodeUnreachable, nil)}, -1},
		{"everything tolerated forever", []startedTaint{unreachable, other}, []corev1.Toleration{{Operator: corev1.TolerationOpExists}}, -1},
		{"the longest of two tolerations", []startedTaint{unreachable}, []corev1.Toleration{
			toleration(corev1.TaintNodeUnreachable, ptr.To[int64](5)), toleration("", ptr.To[int64](60)),
		}, time.Minute},
		{"forever beats a limit", []startedTaint{unreachable}, []corev1.Toleration{
			toleration(corev1.TaintNodeUnreachable, ptr.To[int64](5)), toleration(corev1.TaintNodeUnreachable, nil),
		}, -1},
		{"the taint that runs out first", []startedTaint{unreachable, other}, []corev1.Toleration{
			toleration(corev1.TaintNodeUnreachable, ptr.To[int64](300)),
			{Key: "other", Operator: corev1.TolerationOpEqual, Value: "x", TolerationSeconds: ptr.To[int64](10)},
		}, 70 * time.Second},
		{"a value that does not match", []startedTaint{other}, []corev1.Toleration{
			{Key: "other", Operator: corev1.TolerationOpEqual, Value: "y"},
		}, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at, ok := evictionTime(tc.taints, tc.tolerations)
			switch {
			case tc.want < 0 && ok:
				t.Errorf("evicted at %v, want never", at.Sub(start))
			case tc.want >= 0 && (!ok || !at.Equal(start.Add(tc.want))):
				t.Errorf("evicted at %v (%v), want %v", at.Sub(start), ok, tc.want)
			}
		})
	}
}

// fakeServer answers pod deletions and event creations and records them.
type fakeServer struct {
	mu       sync.Mutex
	deletes  []string
	events   []corev1.Event
	received chan struct{}
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	switch {
	case r.Method == http.MethodDelete:
		var opts metav1.DeleteOptions
		_ = json.Unmarshal(body, &opts)
		uid := ""
		if opts.Preconditions != nil && opts.Preconditions.UID != nil {
			uid = string(*opts.Preconditions.UID)
		}
		f.deletes = append(f.deletes, r.URL.Path+" uid="+uid)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/events"):
		var ev corev1.Event
		_ = json.Unmarshal(body, &ev)
		f.events = append(f.events, ev)
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Success"}`))
	f.received <- struct{}{}
}

func (f *fakeServer) wait(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-f.received:
		case <-time.After(10 * time.Second):
			t.Fatal("no request")
		}
	}
}

func boundPod(uid, tenant, name string, tolerations ...corev1.Toleration) *v1.Pod {
	p := &v1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: name, Namespace: "default", UID: types.UID(uid), Annotations: map[string]string{tenancy.Annotation: tenant},
	}}
	p.Spec.NodeName = "n"
	p.Spec.Tolerations = tolerations
	return p
}

func TestEvictionWorker(t *testing.T) {
	fake := &fakeServer{received: make(chan struct{}, 100)}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	clk := testingclock.NewFakeClock(start)
	// The fake server speaks JSON.
	base := &rest.Config{Host: srv.URL, ContentConfig: rest.ContentConfig{ContentType: "application/json"}}
	feeds, err := regionwatch.NewFeeds(base)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Base: base, Pods: feeds.Pods, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go c.recorder.Run(ctx)
	queue := workqueue.NewTypedDelayingQueueWithConfig(workqueue.TypedDelayingQueueConfig[types.UID]{Clock: clk})
	defer queue.ShutDown()
	s := newState(clk, queue.Add)

	// The same name in two tenants.
	s.putPod(boundPod("now-a", "acme", "web", toleration(corev1.TaintNodeUnreachable, ptr.To[int64](0))))
	s.putPod(boundPod("now-b", "beta", "web", toleration(corev1.TaintNodeUnreachable, ptr.To[int64](0))))
	s.putPod(boundPod("later", "acme", "later", toleration(corev1.TaintNodeUnreachable, ptr.To[int64](5))))
	s.putPod(boundPod("cancelled", "acme", "cancelled", toleration(corev1.TaintNodeUnreachable, ptr.To[int64](60))))
	s.putPod(boundPod("forever", "acme", "forever", toleration(corev1.TaintNodeUnreachable, nil)))
	if queue.Len() != 0 {
		t.Fatalf("%d pods queued on a node without taints", queue.Len())
	}
	taint := UnreachableTaint
	taint.TimeAdded = &metav1.Time{Time: start}
	s.putNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n", ResourceVersion: "1"}, Spec: corev1.NodeSpec{Taints: []corev1.Taint{taint}}})

	process := func(n int) {
		t.Helper()
		for range n {
			uid, _ := queue.Get()
			if err := c.processPod(ctx, s, queue, uid); err != nil {
				t.Errorf("pod %s: %v", uid, err)
			}
			queue.Done(uid)
		}
	}
	process(5)
	fake.wait(t, 4) // two deletions, two events
	fake.mu.Lock()
	slices.Sort(fake.deletes)
	if want := []string{
		"/tenants/acme/api/v1/namespaces/default/pods/web uid=now-a",
		"/tenants/beta/api/v1/namespaces/default/pods/web uid=now-b",
	}; !slices.Equal(fake.deletes, want) {
		t.Errorf("deleted %q, want %q", fake.deletes, want)
	}
	for _, ev := range fake.events {
		if ev.Reason != ReasonTaintManagerEviction || ev.Message != "Marking for deletion Pod default/web" || ev.InvolvedObject.Name != "web" {
			t.Errorf("event %+v", ev)
		}
	}
	fake.deletes, fake.events = nil, nil
	fake.mu.Unlock()
	if s.scheduled["later"] != start.Add(5*time.Second) || s.scheduled["cancelled"] != start.Add(time.Minute) {
		t.Errorf("scheduled %v", s.scheduled)
	}
	if _, ok := s.scheduled["forever"]; ok {
		t.Error("a pod that tolerates forever was scheduled")
	}

	// The watch has not yet shown the deletions: a second look evicts nothing.
	s.mu.Lock()
	s.enqueueNodeLocked("n")
	s.mu.Unlock()
	process(5)

	clk.Step(5 * time.Second)
	process(1)
	fake.wait(t, 2)
	fake.mu.Lock()
	if len(fake.deletes) != 1 || !strings.Contains(fake.deletes[0], "/pods/later uid=later") {
		t.Errorf("deleted %q, want later", fake.deletes)
	}
	fake.mu.Unlock()

	// The node recovers: the scheduled eviction is cancelled.
	s.putNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n", ResourceVersion: "2"}})
	process(queue.Len())
	fake.wait(t, 1)
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.events) != 2 || fake.events[1].Message != "Cancelling deletion of Pod default/cancelled" {
		t.Errorf("events %+v", fake.events)
	}
	if len(s.scheduled) != 0 {
		t.Errorf("scheduled %v after the node recovered", s.scheduled)
	}
}
