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

package replicaset

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/regionwatch"
)

// podServer creates pods until the tenant's quota of two is used up, and
// deletes pods but "gone" (404) and "stuck" (500); it passes on the events
// it receives.
type podServer struct {
	created int
	events  chan corev1.Event
}

func (s *podServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	status := func(code int, reason metav1.StatusReason, message string) {
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
			Status: metav1.StatusFailure, Code: int32(code), Reason: reason, Message: message})
	}
	switch {
	case strings.Contains(r.URL.Path, "/events"):
		var ev corev1.Event
		_ = json.Unmarshal(body, &ev)
		s.events <- ev
		_, _ = w.Write(body)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/pods"):
		if s.created == 2 {
			status(http.StatusForbidden, metav1.StatusReasonForbidden,
				`pods "web-abc-" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2`)
			return
		}
		s.created++
		_ = json.NewEncoder(w).Encode(&v1.Pod{TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: "web-abc-" + string(rune('a'+s.created)), Namespace: "default"}})
	case r.Method == http.MethodDelete && strings.HasSuffix(r.URL.Path, "/pods/gone"):
		status(http.StatusNotFound, metav1.StatusReasonNotFound, `pods "gone" not found`)
	case r.Method == http.MethodDelete && strings.HasSuffix(r.URL.Path, "/pods/stuck"):
		status(http.StatusInternalServerError, metav1.StatusReasonInternalError, "etcd is down")
	case r.Method == http.MethodDelete:
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Success"}`))
	default:
		status(http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed, r.Method+" "+r.URL.Path)
	}
}

// TestPodEvents checks the events the controller records about a replica
// set as it creates and deletes its pods: those of kube-controller-manager.
func TestPodEvents(t *testing.T) {
	fake := &podServer{events: make(chan corev1.Event, 10)}
	// Pods are created one at a time, by the test itself: the server needs
	// no lock.
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cfg := &rest.Config{Host: srv.URL, ContentConfig: rest.ContentConfig{ContentType: "application/json"}}
	feeds, err := regionwatch.NewFeeds(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(cfg, feeds)
	if err != nil {
		t.Fatal(err)
	}
	go c.recorder.Run(t.Context())
	rs := replicaSet(3, 0)
	key := Key{Tenant: "acme", Namespace: "default", Name: rs.Name}
	ctx := t.Context()

	for range 3 {
		_ = c.createPod(ctx, key, rs)
	}
	if err := c.createPod(ctx, key, rs); err == nil || !strings.Contains(err.Error(), "exceeded quota") {
		t.Errorf("create beyond the quota: %v", err)
	}
	for _, name := range []string{"web-abc-x", "gone", "stuck"} {
		_ = c.deletePodOf(ctx, key, rs, pod(name, time.Hour))
	}

	quota := `Error creating: pods "web-abc-" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2`
	want := []struct {
		typ, reason, message string
		count                int32
	}{
		{corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: web-abc-b", 1},
		{corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: web-abc-c", 1},
		{corev1.EventTypeWarning, "FailedCreate", quota, 1},
		// The same refusal again counts up.
		{corev1.EventTypeWarning, "FailedCreate", quota, 2},
		{corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: web-abc-x", 1},
		// A pod already gone makes none.
		{corev1.EventTypeWarning, "FailedDelete", `Error deleting: etcd is down`, 1},
	}
	for i, w := range want {
		select {
		case ev := <-fake.events:
			if ev.Type != w.typ || ev.Reason != w.reason || ev.Message != w.message || ev.Count != w.count ||
				ev.InvolvedObject.Kind != "ReplicaSet" || ev.InvolvedObject.APIVersion != "apps/v1" || ev.InvolvedObject.Name != "web-abc" ||
				ev.InvolvedObject.UID != rs.UID || ev.Source.Component != "replicaset-controller" ||
				ev.ReportingController != "arcturus.io/replicaset-controller" {
				t.Errorf("event %d: %+v, want %+v", i, ev, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d (%s) not written", i, w.reason)
		}
	}
	select {
	case ev := <-fake.events:
		t.Errorf("unexpected event %+v", ev)
	case <-time.After(200 * time.Millisecond):
	}
}
