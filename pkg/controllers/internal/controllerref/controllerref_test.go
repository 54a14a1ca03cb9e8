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

package controllerref

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

var kind = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"}

func object(name string, app string, owner *metav1.OwnerReference) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID(name + "-uid"),
		Labels: map[string]string{"app": app}}}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	return p
}

func TestClaim(t *testing.T) {
	owner := &metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "owner-uid"}
	ours := New(owner, kind)
	theirs := ours
	theirs.UID = "other-uid"

	patches := map[string]string{}
	adoptChecks := 0
	m := &Manager{
		Owner: owner, Kind: kind, Selector: labels.SelectorFromSet(labels.Set{"app": "web"}),
		CanAdopt: func(context.Context) error { adoptChecks++; return nil },
		Patch: func(_ context.Context, _, name string, patch []byte) error {
			patches[name] = string(patch)
			return nil
		},
	}
	objs := []*corev1.Pod{
		object("owned", "web", &ours),
		object("orphan", "web", nil),
		object("orphan-other-app", "api", nil),
		object("theirs", "web", &theirs),
		object("owned-unselected", "api", &ours),
	}
	deleting := object("orphan-deleting", "web", nil)
	deleting.DeletionTimestamp = &metav1.Time{}
	objs = append(objs, deleting)

	claimed, err := Claim(context.Background(), m, objs)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range claimed {
		got = append(got, o.Name)
	}
	if !slices.Equal(got, []string{"owned", "orphan"}) {
		t.Errorf("claimed %v", got)
	}
	if len(patches) != 2 || adoptChecks != 1 {
		t.Errorf("patched %v after %d adoption checks", patches, adoptChecks)
	}
	var adopt ownerRefPatch
	if err := json.Unmarshal([]byte(patches["orphan"]), &adopt); err != nil {
		t.Fatal(err)
	}
	if ref := adopt.Metadata.OwnerReferences; adopt.Metadata.UID != "orphan-uid" || len(ref) != 1 || ref[0].UID != "owner-uid" ||
		ref[0].APIVersion != "apps/v1" || ref[0].Kind != "ReplicaSet" || !*ref[0].Controller || !*ref[0].BlockOwnerDeletion {
		t.Errorf("adoption patch %s", patches["orphan"])
	}
	if want := `{"metadata":{"ownerReferences":[{"$patch":"delete","uid":"owner-uid"}],"uid":"owned-unselected-uid"}}`; patches["owned-unselected"] != want {
		t.Errorf("release patch %s, want %s", patches["owned-unselected"], want)
	}

	// An owner that turns out to be gone adopts nothing.
	m2 := &Manager{
		Owner: owner, Kind: kind, Selector: m.Selector, Patch: m.Patch,
		CanAdopt: func(context.Context) error { return errors.New("gone") },
	}
	claimed, err = Claim(context.Background(), m2, []*corev1.Pod{object("orphan", "web", nil), object("owned", "web", &ours)})
	if err == nil || len(claimed) != 1 || claimed[0].Name != "owned" {
		t.Errorf("gone owner claimed %d objects (%v)", len(claimed), err)
	}
}
