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

package deployment

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	apps "github.com/arcturus-cloud/arcturus/pkg/apis/apps/v1"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/regionwatch"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// echoServer stores every replica set and deployment written as it is
// sent, refusing replica set creation while refuse is set, and passes on
// the events it receives.
type echoServer struct {
	refuse atomic.Bool
	events chan corev1.Event
}

func (s *echoServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	if strings.Contains(r.URL.Path, "/events") {
		var ev corev1.Event
		_ = json.Unmarshal(body, &ev)
		s.events <- ev
		_, _ = w.Write(body)
		return
	}
	if r.Method == http.MethodPost && s.refuse.Load() {
		w.WriteHeader(http.StatusForbidden)
		_ = json.NewEncoder(w).Encode(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
			Status: metav1.StatusFailure, Code: http.StatusForbidden, Reason: metav1.StatusReasonForbidden, Message: "not allowed"})
		return
	}
	var obj map[string]any
	_ = json.Unmarshal(body, &obj)
	obj["apiVersion"], obj["kind"] = "apps/v1", "ReplicaSet"
	if strings.Contains(r.URL.Path, "/deployments/") {
		obj["kind"] = "Deployment"
	}
	_ = json.NewEncoder(w).Encode(obj)
}

// TestScalingEvents checks the events the controller records about a
// deployment as it creates and scales its replica sets: those of
// kube-controller-manager.
func TestScalingEvents(t *testing.T) {
	fake := &echoServer{events: make(chan corev1.Event, 10)}
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
	ctx := t.Context()
	d := &apps.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "d-uid", ResourceVersion: "5",
			Annotations: map[string]string{tenancy.Annotation: "acme"}},
		Spec: apps.DeploymentSpec{
			Replicas: ptr.To[int32](5), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: containerTemplate("local/busybox:1"), Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			ProgressDeadlineSeconds: ptr.To[int32](600),
		},
	}
	key := Key{Tenant: "acme", Namespace: "default", Name: "web"}
	rsName := "web-" + computeHash(&d.Spec.Template, nil)

	fake.refuse.Store(true)
	if _, err := c.getNewReplicaSet(ctx, key, d.DeepCopy(), nil, nil, true); err == nil {
		t.Fatal("the replica set was created")
	}
	fake.refuse.Store(false)
	rs, err := c.getNewReplicaSet(ctx, key, d.DeepCopy(), nil, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.scaleReplicaSet(ctx, key, rs, 2, d); err != nil {
		t.Fatal(err)
	}
	// A scale that changes only the annotations scales nothing.
	d.Spec.Replicas = ptr.To[int32](2)
	if _, _, err := c.scaleReplicaSet(ctx, key, rs, *rs.Spec.Replicas, d); err != nil {
		t.Fatal(err)
	}
	rs.Spec.Replicas = ptr.To[int32](2)
	if _, _, err := c.scaleReplicaSet(ctx, key, rs, 4, d); err != nil {
		t.Fatal(err)
	}

	for i, w := range []struct{ typ, reason, message string }{
		{corev1.EventTypeWarning, "ReplicaSetCreateError", fmt.Sprintf("Failed to create new replica set %q: not allowed", rsName)},
		{corev1.EventTypeNormal, "ScalingReplicaSet", "Scaled up replica set " + rsName + " from 0 to 5"},
		{corev1.EventTypeNormal, "ScalingReplicaSet", "Scaled down replica set " + rsName + " from 5 to 2"},
		{corev1.EventTypeNormal, "ScalingReplicaSet", "Scaled up replica set " + rsName + " from 2 to 4"},
	} {
		select {
		case ev := <-fake.events:
			if ev.Type != w.typ || ev.Reason != w.reason || ev.Message != w.message ||
				ev.InvolvedObject.Kind != "Deployment" || ev.InvolvedObject.APIVersion != "apps/v1" || ev.InvolvedObject.Name != "web" ||
				ev.InvolvedObject.UID != "d-uid" || ev.Source.Component != "deployment-controller" ||
				ev.ReportingController != "arcturus.io/deployment-controller" {
				t.Errorf("event %d: %+v, want %+v", i, ev, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d (%s) not written", i, w.message)
		}
	}
	select {
	case ev := <-fake.events:
		t.Errorf("unexpected event %+v", ev)
	case <-time.After(200 * time.Millisecond):
	}
}
