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

package podgc

import (
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func pod(tenant, name, node string, phase corev1.PodPhase, age time.Duration) *v1.Pod {
	p := &v1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: name, Namespace: "default", UID: types.UID(tenant + "-" + name),
		Annotations:       map[string]string{tenancy.Annotation: tenant},
		CreationTimestamp: metav1.NewTime(start.Add(-age)),
	}}
	p.Spec.NodeName = node
	p.Status.Phase = phase
	return p
}

func names(pods []podRecord) []string {
	var out []string
	for _, p := range pods {
		out = append(out, string(p.tenant)+"/"+p.name)
	}
	return out
}

func fill(t *testing.T, s *state, nodes []string, pods ...*v1.Pod) {
	t.Helper()
	var list []any
	for _, p := range pods {
		list = append(list, p)
	}
	if err := s.podStore.Replace(list, "1"); err != nil {
		t.Fatal(err)
	}
	list = nil
	for _, n := range nodes {
		list = append(list, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n}})
	}
	if err := s.nodeStore.Replace(list, "1"); err != nil {
		t.Fatal(err)
	}
}

func TestTerminatedBeyondThreshold(t *testing.T) {
	s := newState()
	fill(t, s, []string{"n"},
		pod("acme", "old", "n", corev1.PodSucceeded, 5*time.Hour),
		pod("beta", "old", "n", corev1.PodFailed, 5*time.Hour),
		pod("acme", "older", "", corev1.PodFailed, 6*time.Hour),
		pod("acme", "new", "n", corev1.PodSucceeded, time.Hour),
		pod("beta", "newest", "n", corev1.PodFailed, time.Minute),
		pod("acme", "running", "n", corev1.PodRunning, 10*time.Hour),
	)
	q := map[string]time.Time{}
	if got := names(s.plan(start, 3, q, time.Minute).terminated); !slices.Equal(got, []string{"acme/older", "acme/old"}) {
		t.Errorf("deleted %v, want the oldest two across tenants (ties by tenant)", got)
	}
	if got := s.plan(start, 5, q, time.Minute).terminated; len(got) != 0 {
		t.Errorf("at the threshold: deleted %v", names(got))
	}
	if got := s.plan(start, -1, q, time.Minute).terminated; len(got) != 0 {
		t.Errorf("with collection off: deleted %v", names(got))
	}
}

func TestOrphansWaitForTheQuarantine(t *testing.T) {
	s := newState()
	fill(t, s, []string{"here"},
		pod("acme", "a", "gone", corev1.PodRunning, time.Hour),
		pod("beta", "a", "gone", corev1.PodRunning, time.Hour),
		pod("acme", "b", "here", corev1.PodRunning, time.Hour),
		pod("acme", "c", "late", corev1.PodPending, time.Hour),
	)
	q := map[string]time.Time{}
	wait := 40 * time.Second
	if p := s.plan(start, -1, q, wait); len(p.check) != 0 || len(q) != 2 {
		t.Fatalf("first sight: check %v, quarantine %v", p.check, q)
	}
	if p := s.plan(start.Add(39*time.Second), -1, q, wait); len(p.check) != 0 {
		t.Fatalf("within the quarantine: check %v", p.check)
	}
	// late registers meanwhile.
	if err := s.nodeStore.Add(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "late"}}); err != nil {
		t.Fatal(err)
	}
	p := s.plan(start.Add(40*time.Second), -1, q, wait)
	if !slices.Equal(p.check, []string{"gone"}) {
		t.Fatalf("after the quarantine: check %v, want gone", p.check)
	}
	if _, ok := q["late"]; ok {
		t.Error("a node that registered stays in quarantine")
	}
	if got := names(s.orphansOf("gone")); len(got) != 2 || !slices.Contains(got, "acme/a") || !slices.Contains(got, "beta/a") {
		t.Errorf("orphans of gone: %v", got)
	}
	if got := s.orphansOf("late"); len(got) != 0 {
		t.Errorf("orphans of a node that exists: %v", names(got))
	}
}

func TestUnscheduledTerminating(t *testing.T) {
	s := newState()
	now := metav1.NewTime(start)
	deleting := pod("acme", "deleting", "", corev1.PodPending, time.Hour)
	deleting.DeletionTimestamp = &now
	bound := pod("acme", "bound", "n", corev1.PodRunning, time.Hour)
	bound.DeletionTimestamp = &now
	fill(t, s, []string{"n"}, deleting, bound, pod("acme", "pending", "", corev1.PodPending, time.Hour))
	if got := names(s.plan(start, -1, map[string]time.Time{}, time.Minute).unscheduled); !slices.Equal(got, []string{"acme/deleting"}) {
		t.Errorf("unscheduled terminating: %v", got)
	}
}

func TestStoreKeysByUID(t *testing.T) {
	s := newState()
	fill(t, s, nil, pod("acme", "a", "", corev1.PodFailed, 0), pod("beta", "a", "", corev1.PodFailed, 0))
	if err := s.podStore.Delete(pod("acme", "a", "", corev1.PodFailed, 0)); err != nil {
		t.Fatal(err)
	}
	if got := names(s.plan(start, 0, map[string]time.Time{}, 0).terminated); !slices.Equal(got, []string{"beta/a"}) {
		t.Errorf("after deleting acme's a: %v", got)
	}
}
