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

// Package tenantstore builds k8s.io/apiserver registry stores whose storage
// keys carry the tenant, and which stamp and guard the tenant annotation.
//
// Key layout, below the etcd prefix (/registry by default):
//
//	<group>/<resource>/<tenant>/<namespace>/<name>   namespaced kinds
//	<group>/<resource>/<tenant>/<name>               tenant-wide kinds
//
// The core group is written "core". Listing one tenant reads one key range;
// listing every tenant (/tenants/*) reads the resource's whole range.
package tenantstore

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/validate/content"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// ResourcePrefix is the key prefix of a resource, below the etcd prefix.
func ResourcePrefix(gr schema.GroupResource) string {
	group := gr.Group
	if group == "" {
		group = "core"
	}
	return "/" + group + "/" + gr.Resource
}

// keyLayout computes keys for one resource.
type keyLayout struct {
	prefix     string
	namespaced bool
	// systemOnly resources always live in the system tenant, whatever
	// tenant a request addresses.
	systemOnly bool
}

func (l keyLayout) tenant(ctx context.Context) (tenancy.Name, error) {
	if l.systemOnly {
		return tenancy.System, nil
	}
	t, ok := tenancy.From(ctx)
	if !ok {
		return "", apierrors.NewInternalError(fmt.Errorf("no tenant in request context"))
	}
	return t, nil
}

// root is the key range a list or watch reads.
func (l keyLayout) root(ctx context.Context) string {
	t, err := l.tenant(ctx)
	if err != nil || t.IsWildcard() {
		// Every tenant: the namespace, if any, is filtered by field selector
		// (see wildcardNamespaceFilter) because it is not a key prefix here.
		return l.prefix
	}
	key := l.prefix + "/" + string(t)
	if ns, ok := genericapirequest.NamespaceFrom(ctx); ok && l.namespaced && ns != "" {
		key += "/" + ns
	}
	return key
}

// key is the key of one object.
func (l keyLayout) key(ctx context.Context, name string) (string, error) {
	t, err := l.tenant(ctx)
	if err != nil {
		return "", err
	}
	if t.IsWildcard() {
		return "", apierrors.NewMethodNotSupported(schema.GroupResource{Resource: l.prefix}, "access to one object across all tenants")
	}
	return l.objectKey(t, genericapirequest.NamespaceValue(ctx), name)
}

func (l keyLayout) objectKey(t tenancy.Name, namespace, name string) (string, error) {
	if name == "" {
		return "", apierrors.NewBadRequest("name parameter required")
	}
	if msgs := content.IsPathSegmentName(name); len(msgs) != 0 {
		return "", apierrors.NewBadRequest(fmt.Sprintf("name parameter invalid: %q: %s", name, strings.Join(msgs, ";")))
	}
	if !l.namespaced {
		return l.prefix + "/" + string(t) + "/" + name, nil
	}
	if namespace == "" {
		return "", apierrors.NewBadRequest("namespace parameter required")
	}
	if msgs := content.IsPathSegmentName(namespace); len(msgs) != 0 {
		return "", apierrors.NewBadRequest(fmt.Sprintf("namespace parameter invalid: %q: %s", namespace, strings.Join(msgs, ";")))
	}
	return l.prefix + "/" + string(t) + "/" + namespace + "/" + name, nil
}

// cacheKey is the key of a stored object, from the object alone: the watch
// cache has no request context, so the tenant comes from the annotation.
func (l keyLayout) cacheKey(obj runtime.Object) (string, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return "", err
	}
	t := tenancy.OfObject(m.GetAnnotations())
	if l.systemOnly {
		t = tenancy.System
	}
	if t == "" {
		return "", fmt.Errorf("object %s/%s has no %s annotation", m.GetNamespace(), m.GetName(), tenancy.Annotation)
	}
	return l.objectKey(t, m.GetNamespace(), m.GetName())
}
