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

package tenancy

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/cache"
)

// Client-side caches of objects from every tenant (/tenants/*) must key
// objects by tenant, and must be fed by plain list and watch.

// ListWatchOnly makes a reflector list instead of streaming the initial
// state over a watch ("watch-list"): client-go collects a watch-list in a
// temporary store keyed by namespace and name, where same-named objects of
// different tenants would overwrite each other before reaching the cache.
func ListWatchOnly(lw cache.ListerWatcher) cache.ListerWatcher {
	return listWatchOnly{lw, cache.ToListerWatcherWithContext(lw)}
}

type listWatchOnly struct {
	cache.ListerWatcher
	cache.ListerWatcherWithContext
}

// IsWatchListSemanticsUnSupported is the hook client-go's reflector consults
// to decide whether to use watch-list.
func (listWatchOnly) IsWatchListSemanticsUnSupported() bool { return true }

// TrimForCache drops from a freshly decoded object what such caches never
// read and what costs the most memory across many tenants: its managed
// fields and every annotation but the tenant's.
func TrimForCache(obj any) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	m.SetManagedFields(nil)
	if t, ok := m.GetAnnotations()[Annotation]; ok {
		m.SetAnnotations(map[string]string{Annotation: t})
	} else {
		m.SetAnnotations(nil)
	}
}
