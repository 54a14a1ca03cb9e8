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

package authentication

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"testing"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
)

// countingAuthenticator accepts certificates whose CN is "good" and counts
// its calls.
type countingAuthenticator struct{ calls int }

func (c *countingAuthenticator) AuthenticateRequest(req *http.Request) (*authenticator.Response, bool, error) {
	c.calls++
	if cn := req.TLS.PeerCertificates[0].Subject.CommonName; cn != "good" {
		return nil, false, errors.New("bad certificate")
	}
	return &authenticator.Response{User: &user.DefaultInfo{Name: "good"}}, true, nil
}

func TestCachedCertificates(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	next := &countingAuthenticator{}
	c := newCachedCertificates(next)
	c.now = func() time.Time { return now }
	request := func(cn string, notAfter time.Time) *http.Request {
		req, _ := http.NewRequestWithContext(context.Background(), "GET", "/", nil)
		cert := &x509.Certificate{Raw: []byte(cn + notAfter.String()), NotAfter: notAfter}
		cert.Subject.CommonName = cn
		req.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
		return req
	}
	longLived := now.Add(24 * time.Hour)
	for range 3 {
		if _, ok, err := c.AuthenticateRequest(request("good", longLived)); !ok || err != nil {
			t.Fatalf("good certificate refused: %v", err)
		}
	}
	if next.calls != 1 {
		t.Errorf("chain verified %d times for one certificate, want once", next.calls)
	}
	for range 2 {
		if _, ok, _ := c.AuthenticateRequest(request("bad", longLived)); ok {
			t.Fatal("bad certificate accepted")
		}
	}
	if next.calls != 3 {
		t.Errorf("%d verifications after two bad requests, want failures not cached", next.calls)
	}
	now = now.Add(certCacheTTL + time.Second)
	c.AuthenticateRequest(request("good", longLived))
	if next.calls != 4 {
		t.Error("a verification older than the TTL was trusted")
	}
	expiring := now.Add(time.Minute)
	c.AuthenticateRequest(request("good", expiring))
	now = expiring.Add(time.Second)
	c.AuthenticateRequest(request("good", expiring))
	if next.calls != 6 {
		t.Errorf("%d verifications: an expired certificate must be verified again (and fail)", next.calls)
	}
}
