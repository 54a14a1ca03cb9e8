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
	"context"
	"fmt"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/endpoints/handlers/responsewriters"
	"k8s.io/apiserver/pkg/endpoints/request"
)

// WithTenantPath strips a /tenants/<name> prefix from the request path and
// records the tenant it names. It must run before the request info is
// resolved, so that everything further down sees a plain Kubernetes path.
func WithTenantPath(handler http.Handler, codecs runtime.NegotiatedSerializer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rest, ok := strings.CutPrefix(req.URL.Path, PathPrefix)
		if !ok {
			handler.ServeHTTP(w, req)
			return
		}
		name, path, _ := strings.Cut(rest, "/")
		if name != string(Wildcard) {
			if err := Validate(name); err != nil {
				writeStatus(w, req, codecs, apierrors.NewBadRequest(err.Error()))
				return
			}
		}
		req = req.Clone(WithTenant(req.Context(), Name(name)))
		req.URL.Path = "/" + path
		if req.URL.RawPath != "" {
			req.URL.RawPath = ""
		}
		if Name(name).IsWildcard() {
			if err := checkWildcardPath(req.URL.Path); err != nil {
				writeStatus(w, req, codecs, err)
				return
			}
		}
		handler.ServeHTTP(w, req)
	})
}

// checkWildcardPath refuses cross-tenant paths into one namespace: a
// namespace is not a key prefix across tenants, and no system component needs it.
func checkWildcardPath(path string) error {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i, p := range parts {
		if p == "namespaces" && i+2 < len(parts) && (parts[0] == "api" || parts[0] == "apis") {
			return apierrors.NewBadRequest("requests across all tenants (/tenants/*) must span all namespaces")
		}
	}
	return nil
}

// Lookup tells whether a tenant exists and whether it is terminating.
type Lookup func(ctx context.Context, name Name) (exists, terminating bool, err error)

// WithTenantExistence answers 404 for resource requests into a tenant that
// does not exist. It runs after authorization, so only identities allowed
// into the tenant learn whether it exists.
func WithTenantExistence(handler http.Handler, lookup Lookup, codecs runtime.NegotiatedSerializer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx := req.Context()
		info, ok := request.RequestInfoFrom(ctx)
		t, hasTenant := From(ctx)
		if !ok || !info.IsResourceRequest || !hasTenant || t == System || t.IsWildcard() {
			handler.ServeHTTP(w, req)
			return
		}
		exists, _, err := lookup(ctx, t)
		if err != nil {
			writeStatus(w, req, codecs, apierrors.NewInternalError(fmt.Errorf("looking up tenant %q: %w", t, err)))
			return
		}
		if !exists {
			writeStatus(w, req, codecs, apierrors.NewNotFound(schema.GroupResource{Group: "tenancy.arcturus.io", Resource: "tenants"}, string(t)))
			return
		}
		handler.ServeHTTP(w, req)
	})
}

func writeStatus(w http.ResponseWriter, req *http.Request, codecs runtime.NegotiatedSerializer, err error) {
	responsewriters.ErrorNegotiated(err, codecs, schema.GroupVersion{}, w, req)
}
