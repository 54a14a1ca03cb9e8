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

package events

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"

	apps "github.com/arcturus-cloud/arcturus/pkg/apis/apps/v1"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// call is one request the fake server received.
type call struct {
	method, path string
	event        corev1.Event
}

// fakeServer records event writes; fail, if set, may answer one with an
// error status instead of success.
type fakeServer struct {
	calls chan call
	mu    sync.Mutex
	fail  func(c call) int
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c := call{method: r.Method, path: r.URL.Path}
	_ = json.Unmarshal(body, &c.event)
	f.mu.Lock()
	code := 0
	if f.fail != nil {
		code = f.fail(c)
	}
	f.mu.Unlock()
	// Recorded before the answer, which lets the next request come:
	// requests are seen in the order they were made.
	f.calls <- c
	w.Header().Set("Content-Type", "application/json")
	if code == 0 {
		_, _ = w.Write(body)
		return
	}
	reason := metav1.StatusReasonInternalError
	if code == http.StatusNotFound {
		reason = metav1.StatusReasonNotFound
	}
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure, Reason: reason, Code: int32(code),
	})
}

func (f *fakeServer) setFail(fail func(c call) int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fail
}

// next returns the next request.
func (f *fakeServer) next(t *testing.T) call {
	t.Helper()
	select {
	case c := <-f.calls:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no request")
		return call{}
	}
}

// none checks that no request comes for a while.
func (f *fakeServer) none(t *testing.T) {
	t.Helper()
	select {
	case c := <-f.calls:
		t.Errorf("unexpected %s %s: %+v", c.method, c.path, c.event)
	case <-time.After(200 * time.Millisecond):
	}
}

// start returns a fake server and a core client of it; the server stops
// when the test ends.
func start(t *testing.T) (*fakeServer, *client.Core) {
	t.Helper()
	f := &fakeServer{calls: make(chan call, 100)}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	// The fake server speaks JSON.
	core, err := client.NewCore(&rest.Config{Host: srv.URL, ContentConfig: rest.ContentConfig{ContentType: "application/json"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f, core
}

func replicaSet(tenant, name, uid, rv string) *apps.ReplicaSet {
	return &apps.ReplicaSet{ObjectMeta: metav1.ObjectMeta{
		Name: name, Namespace: "default", UID: types.UID(uid), ResourceVersion: rv,
		Annotations: map[string]string{tenancy.Annotation: tenant},
	}}
}

func replicaSetRecorder(core *client.Core) *TypedRecorder[*apps.ReplicaSet] {
	return NewTypedRecorder(apps.SchemeGroupVersion.WithKind("ReplicaSet"),
		TypedSource[*apps.ReplicaSet]{Component: "replicaset-controller", Controller: "arcturus.io/replicaset-controller"},
		func(*apps.ReplicaSet) (*client.Core, bool) { return core, true })
}

// TestObjectEvents records events about replica sets: each lands in its
// tenant and namespace and names its object fully, repeats count up on it,
// and what the caller does to the object afterwards does not matter.
func TestObjectEvents(t *testing.T) {
	f, core := start(t)
	r := replicaSetRecorder(core)
	go r.Run(t.Context())

	rs := replicaSet("acme", "web-5d9", "uid-acme", "42")
	r.Event(rs, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: web-5d9-a")
	// The caller's object changes under the recorder: the event is
	// about it as it was.
	rs.Name, rs.ResourceVersion, rs.Annotations = "changed", "43", nil
	first := f.next(t)
	if first.method != http.MethodPost || first.path != "/tenants/acme/api/v1/namespaces/default/events" {
		t.Errorf("first event: %s %s", first.method, first.path)
	}
	ev := first.event
	if want := (corev1.ObjectReference{
		Kind: "ReplicaSet", APIVersion: "apps/v1", Namespace: "default", Name: "web-5d9", UID: "uid-acme", ResourceVersion: "42",
	}); ev.InvolvedObject != want {
		t.Errorf("involvedObject %+v, want %+v", ev.InvolvedObject, want)
	}
	if ev.Namespace != "default" || !strings.HasPrefix(ev.Name, "web-5d9.") || ev.Type != corev1.EventTypeNormal ||
		ev.Reason != "SuccessfulCreate" || ev.Message != "Created pod: web-5d9-a" || ev.Count != 1 ||
		ev.Source != (corev1.EventSource{Component: "replicaset-controller"}) ||
		ev.ReportingController != "arcturus.io/replicaset-controller" || ev.ReportingInstance != "" ||
		ev.FirstTimestamp.IsZero() || !ev.FirstTimestamp.Equal(&ev.LastTimestamp) {
		t.Errorf("event %+v", ev)
	}

	// A repeat counts up on the first.
	rs = replicaSet("acme", "web-5d9", "uid-acme", "44")
	r.Event(rs, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: web-5d9-a")
	repeat := f.next(t)
	if repeat.method != http.MethodPut || repeat.path != "/tenants/acme/api/v1/namespaces/default/events/"+ev.Name ||
		repeat.event.Count != 2 || !repeat.event.FirstTimestamp.Equal(&ev.FirstTimestamp) || repeat.event.InvolvedObject.ResourceVersion != "44" {
		t.Errorf("repeat: %s %s %+v", repeat.method, repeat.path, repeat.event)
	}

	// Another message is another Event; the same names in another
	// tenant go to that tenant.
	r.Event(rs, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: web-5d9-a")
	if c := f.next(t); c.method != http.MethodPost || c.event.Reason != "SuccessfulDelete" || c.event.Name == ev.Name {
		t.Errorf("another message: %s %s %+v", c.method, c.path, c.event)
	}
	r.Event(replicaSet("beta", "web-5d9", "uid-beta", "7"), corev1.EventTypeWarning, "FailedCreate", "Error creating: quota")
	if c := f.next(t); c.method != http.MethodPost || c.path != "/tenants/beta/api/v1/namespaces/default/events" ||
		c.event.InvolvedObject.UID != "uid-beta" || c.event.Type != corev1.EventTypeWarning {
		t.Errorf("beta's event: %s %s %+v", c.method, c.path, c.event)
	}
	f.none(t)
}

// TestPodEvents records through the pod recorder, as the agent and the
// scheduler do: kind Pod, and the instance of each pod.
func TestPodEvents(t *testing.T) {
	f, core := start(t)
	r := NewRecorder(Source{
		Component: "arcturus-agent", Controller: "arcturus.io/agent",
		Instance: func(pod *v1.Pod) string { return pod.Spec.NodeName },
	}, func(pod *v1.Pod) (*client.Core, bool) { return core, pod.Name != "forgotten" })
	go r.Run(t.Context())

	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: "web", Namespace: "shop", UID: "pod-uid", Annotations: map[string]string{tenancy.Annotation: "acme"},
	}}
	pod.Spec.NodeName = "node-a"
	forgotten := pod.DeepCopy()
	forgotten.Name = "forgotten"
	r.Event(forgotten, corev1.EventTypeWarning, "OutOfcpu", "no room")
	r.Event(pod, corev1.EventTypeWarning, "OutOfcpu", "no room")
	c := f.next(t)
	if c.path != "/tenants/acme/api/v1/namespaces/shop/events" || c.event.InvolvedObject.Kind != "Pod" ||
		c.event.InvolvedObject.APIVersion != "v1" || c.event.InvolvedObject.Name != "web" ||
		c.event.Source != (corev1.EventSource{Component: "arcturus-agent", Host: "node-a"}) || c.event.ReportingInstance != "node-a" {
		t.Errorf("pod event: %s %+v", c.path, c.event)
	}
	f.none(t)
}

// TestDropped checks that events with nowhere to go are dropped when
// recorded, before they take a place in the backlog.
func TestDropped(t *testing.T) {
	_, core := start(t)
	r := NewTypedRecorder(apps.SchemeGroupVersion.WithKind("ReplicaSet"), TypedSource[*apps.ReplicaSet]{},
		func(rs *apps.ReplicaSet) (*client.Core, bool) { return core, rs.Name != "ignored" })
	r.Event(replicaSet("acme", "ignored", "a", "1"), corev1.EventTypeNormal, "R", "m")
	r.Event(replicaSet("", "no-tenant", "b", "1"), corev1.EventTypeNormal, "R", "m")
	for i, p := range r.pending {
		if len(p) != 0 {
			t.Errorf("writer %d has %d events", i, len(p))
		}
	}
}

// TestClusterScoped records about an object without a namespace: its
// Events go to the default namespace, as Kubernetes puts them.
func TestClusterScoped(t *testing.T) {
	f, core := start(t)
	r := NewTypedRecorder(corev1.SchemeGroupVersion.WithKind("Namespace"), TypedSource[*corev1.Namespace]{Component: "c"},
		func(*corev1.Namespace) (*client.Core, bool) { return core, true })
	go r.Run(t.Context())
	r.Event(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", UID: "ns", Annotations: map[string]string{tenancy.Annotation: "acme"}}},
		corev1.EventTypeNormal, "R", "m")
	c := f.next(t)
	if c.path != "/tenants/acme/api/v1/namespaces/default/events" || c.event.Namespace != "default" ||
		c.event.InvolvedObject.Namespace != "" || c.event.InvolvedObject.Kind != "Namespace" || c.event.InvolvedObject.Name != "shop" {
		t.Errorf("%s %+v", c.path, c.event)
	}
}

// TestSimilarCombined records more different messages of one reason
// about one object than get Events of their own: the rest count up on one
// combined Event that shows the latest message.
func TestSimilarCombined(t *testing.T) {
	f, core := start(t)
	r := replicaSetRecorder(core)
	go r.Run(t.Context())
	rs := replicaSet("acme", "web", "uid", "1")
	for i := range maxSimilar + 2 {
		r.Event(rs, corev1.EventTypeNormal, "SuccessfulCreate", fmt.Sprintf("Created pod: web-%d", i))
	}
	names := map[string]bool{}
	for i := range maxSimilar {
		c := f.next(t)
		if c.method != http.MethodPost || c.event.Message != fmt.Sprintf("Created pod: web-%d", i) || names[c.event.Name] {
			t.Errorf("event %d: %s %+v", i, c.method, c.event)
		}
		names[c.event.Name] = true
	}
	combined := f.next(t)
	if combined.method != http.MethodPost || names[combined.event.Name] || combined.event.Count != 1 ||
		combined.event.Message != fmt.Sprintf("(combined from similar events): Created pod: web-%d", maxSimilar) {
		t.Errorf("combined: %s %+v", combined.method, combined.event)
	}
	again := f.next(t)
	if again.method != http.MethodPut || again.event.Name != combined.event.Name || again.event.Count != 2 ||
		again.event.Message != fmt.Sprintf("(combined from similar events): Created pod: web-%d", maxSimilar+1) {
		t.Errorf("combined again: %s %+v", again.method, again.event)
	}
	// A repeat of an earlier message still counts on its own Event, and
	// another reason starts afresh.
	r.Event(rs, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: web-0")
	if c := f.next(t); c.method != http.MethodPut || c.event.Message != "Created pod: web-0" || c.event.Count != 2 {
		t.Errorf("repeat: %s %+v", c.method, c.event)
	}
	r.Event(rs, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: web-0")
	if c := f.next(t); c.method != http.MethodPost || c.event.Message != "Deleted pod: web-0" {
		t.Errorf("another reason: %s %+v", c.method, c.event)
	}
}

// TestWriteFailures checks that an Event that could not be created is
// created by its next repeat, and that one deleted since is created again.
func TestWriteFailures(t *testing.T) {
	f, core := start(t)
	r := replicaSetRecorder(core)
	go r.Run(t.Context())
	rs := replicaSet("acme", "web", "uid", "1")

	f.setFail(func(c call) int { return http.StatusInternalServerError })
	r.Event(rs, corev1.EventTypeNormal, "R", "m")
	f.next(t)
	f.setFail(nil)
	r.Event(rs, corev1.EventTypeNormal, "R", "m")
	created := f.next(t)
	if created.method != http.MethodPost {
		t.Errorf("after a failed create: %s %+v", created.method, created.event)
	}

	f.setFail(func(c call) int {
		if c.method == http.MethodPut {
			return http.StatusNotFound
		}
		return 0
	})
	r.Event(rs, corev1.EventTypeNormal, "R", "m")
	if c := f.next(t); c.method != http.MethodPut {
		t.Errorf("repeat: %s", c.method)
	}
	c := f.next(t)
	if c.method != http.MethodPost || c.event.Name != created.event.Name || c.event.Count != 2 {
		t.Errorf("after the Event went: %s %+v", c.method, c.event)
	}
}

// TestEventAllocates checks that recording costs the caller no allocation:
// controllers record an event per pod they create.
func TestEventAllocates(t *testing.T) {
	_, core := start(t)
	r := replicaSetRecorder(core)
	rs := replicaSet("acme", "web", "uid", "1")
	if n := testing.AllocsPerRun(100, func() {
		r.Event(rs, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: web-a")
	}); n != 0 {
		t.Errorf("Event allocates %v times", n)
	}
}

// TestRateLimited checks that events past the burst wait for the rate, and
// that none is lost while it stays within the backlog.
func TestRateLimited(t *testing.T) {
	f, core := start(t)
	r := replicaSetRecorder(core)
	const rate, burst, events = 10, 2, 5
	r.limiter = flowcontrol.NewTokenBucketRateLimiter(rate, burst)
	go r.Run(t.Context())
	for i := range events {
		r.Event(replicaSet("acme", fmt.Sprintf("rs-%d", i), fmt.Sprintf("uid-%d", i), "1"), corev1.EventTypeNormal, "R", "m")
	}
	start := time.Now()
	for range events {
		f.next(t)
	}
	// The first burst go at once, the other three a tenth of a second
	// apart.
	if elapsed, least := time.Since(start), (events-burst)*time.Second/rate; elapsed < least*9/10 {
		t.Errorf("%d events written in %v, want at least %v", events, elapsed, least)
	}
	f.none(t)
}
