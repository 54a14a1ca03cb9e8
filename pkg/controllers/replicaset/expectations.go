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
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// expectationsTimeout is how long a replica set waits for the watch to
// show the creations and deletions it made before it acts again anyway:
// a watch event can be lost, for instance when a created pod is deleted
// before the watch reports it (Kubernetes' ExpectationsTimeout).
const expectationsTimeout = 5 * time.Minute

// expectations remember, per replica set, the pod creations and deletions
// it made that the pod cache has not shown yet. Until they are seen, the
// cache undercounts or overcounts its pods, and acting on it would create
// or delete too many (Kubernetes' UIDTrackingControllerExpectations).
type expectations struct {
	now func() time.Time

	mu sync.Mutex
	m  map[Key]*expectation
}

type expectation struct {
	adds, dels int
	// deleting are the pods whose deletion is awaited: a pod is seen
	// deleted twice (deletionTimestamp set, then gone) but counts once.
	deleting map[types.UID]bool
	at       time.Time
}

func newExpectations(now func() time.Time) *expectations {
	return &expectations{now: now, m: map[Key]*expectation{}}
}

// satisfied tells whether key may act on the cache: it expects nothing
// more, or has waited too long.
func (e *expectations) satisfied(key Key) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.m[key]
	if !ok {
		return true
	}
	return (x.adds <= 0 && x.dels <= 0) || e.now().Sub(x.at) > expectationsTimeout
}

// expectCreations records that key is creating n pods.
func (e *expectations) expectCreations(key Key, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[key] = &expectation{adds: n, at: e.now()}
}

// expectDeletions records that key is deleting the pods of uids.
func (e *expectations) expectDeletions(key Key, uids []types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := &expectation{dels: len(uids), deleting: make(map[types.UID]bool, len(uids)), at: e.now()}
	for _, uid := range uids {
		x.deleting[uid] = true
	}
	e.m[key] = x
}

// creationObserved counts one expected creation as seen (or as failed).
func (e *expectations) creationObserved(key Key) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		x.adds--
	}
}

// deletionObserved counts the deletion of pod uid as seen (or as failed),
// once.
func (e *expectations) deletionObserved(key Key, uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok && x.deleting[uid] {
		delete(x.deleting, uid)
		x.dels--
	}
}

// forget drops key's expectations, for a replica set that is gone.
func (e *expectations) forget(key Key) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}
