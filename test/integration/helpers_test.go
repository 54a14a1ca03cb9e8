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

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
	"github.com/arcturus-cloud/arcturus/test/framework"
)

// Tenants the tests create. Each test file runs its own server, so they
// may reuse names.
const (
	acme = "acme"
	beta = "beta"
)

// user is the name of every tenant user the tests act as: the same name in
// every tenant, so that nothing can tell tenants apart by user name alone.
const user = "alice"

// tenantOf is the tenant an object's annotation records.
func tenantOf(obj metav1.Object) string { return obj.GetAnnotations()[tenancy.Annotation] }

// expectCode fails the test unless err is an API error with one of codes.
func expectCode(t testing.TB, err error, codes ...int32) {
	t.Helper()
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		t.Errorf("got error %v, want an API error with code %v", err, codes)
		return
	}
	if got := status.Status().Code; !slices.Contains(codes, got) {
		t.Errorf("got code %d (%v), want %v", got, err, codes)
	}
}

// typed returns a typed client that sends JSON. Stock client-go sends
// built-in kinds as protobuf; TestStockClientGo covers that, so that the
// other tests do not depend on it.
func typed(t testing.TB, cfg *rest.Config) *kubernetes.Clientset {
	t.Helper()
	c := rest.CopyConfig(cfg)
	c.ContentType = runtime.ContentTypeJSON
	return framework.Clientset(t, c)
}

// configMap is a config map with the given data.
func configMap(namespace, name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Data: data}
}

// response is what the server answered to a raw request.
type response struct {
	code int
	body []byte
}

// do sends a raw request as cfg's identity: path is relative to cfg.Host.
func do(t testing.TB, cfg *rest.Config, method, path, contentType string, body []byte) response {
	t.Helper()
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatalf("HTTP client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), framework.CommandTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, cfg.Host+path, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("request %s %s: %v", method, path, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the answer to %s %s: %v", method, path, err)
	}
	return response{code: resp.StatusCode, body: data}
}

// expectStatus fails the test unless r is a metav1.Status with code, and
// returns the Status.
func expectStatus(t testing.TB, r response, code int) metav1.Status {
	t.Helper()
	var status metav1.Status
	if err := json.Unmarshal(r.body, &status); err != nil || status.Kind != "Status" {
		t.Errorf("answer %d is not a Status (%v): %.300s", r.code, err, r.body)
		return status
	}
	if r.code != code || status.Code != int32(code) {
		t.Errorf("got HTTP %d with Status code %d (%s: %s), want %d", r.code, status.Code, status.Reason, status.Message, code)
	}
	return status
}

// nextEvent is the next event of w. It fails the test if ctx ends first,
// or if the watch closes or reports an error.
func nextEvent(t testing.TB, ctx context.Context, w watch.Interface) watch.Event {
	t.Helper()
	select {
	case <-ctx.Done():
		t.Fatalf("no watch event: %v", ctx.Err())
	case e, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("the watch closed")
		}
		if e.Type == watch.Error {
			t.Fatalf("watch error: %v", apierrors.FromObject(e.Object))
		}
		return e
	}
	return watch.Event{}
}

// expectReady fails the test unless the server answers /readyz.
func expectReady(t testing.TB, s *framework.Server) {
	t.Helper()
	if r := do(t, s.AdminConfig(), http.MethodGet, "/readyz", "", nil); r.code != http.StatusOK {
		t.Errorf("/readyz answered %d: %s", r.code, r.body)
	}
}
