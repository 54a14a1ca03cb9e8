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
	"crypto/sha256"
	"net/http"
	"sync"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticator"
)

const (
	// certCacheTTL bounds how long a verified client certificate is taken
	// on trust without verifying its chain again.
	certCacheTTL = 5 * time.Minute
	// certCacheSize bounds the cache; past it, it starts afresh.
	certCacheSize = 10000
)

// cachedCertificates remembers client certificates whose chain verified,
// so that the signature checks run once per certificate rather than once
// per request: a client on one connection presents the same certificate
// to every request, and verifying its chain was a twentieth of the
// server's CPU under load. The client CAs do not change while the server
// runs, so a certificate that verified stays valid until it expires.
// Failures are not cached.
type cachedCertificates struct {
	next authenticator.Request
	now  func() time.Time

	mu      sync.Mutex
	entries map[[sha256.Size]byte]certEntry
}

type certEntry struct {
	response *authenticator.Response
	until    time.Time
}

func newCachedCertificates(next authenticator.Request) *cachedCertificates {
	return &cachedCertificates{next: next, now: time.Now, entries: map[[sha256.Size]byte]certEntry{}}
}

func (c *cachedCertificates) AuthenticateRequest(req *http.Request) (*authenticator.Response, bool, error) {
	if req.TLS == nil || len(req.TLS.PeerCertificates) == 0 {
		return c.next.AuthenticateRequest(req)
	}
	h := sha256.New()
	for _, cert := range req.TLS.PeerCertificates {
		h.Write(cert.Raw)
	}
	var key [sha256.Size]byte
	h.Sum(key[:0])
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.response, true, nil
	}
	resp, ok, err := c.next.AuthenticateRequest(req)
	if err != nil || !ok {
		return resp, ok, err
	}
	until := now.Add(certCacheTTL)
	if notAfter := req.TLS.PeerCertificates[0].NotAfter; notAfter.Before(until) {
		until = notAfter
	}
	c.mu.Lock()
	if len(c.entries) >= certCacheSize {
		c.entries = map[[sha256.Size]byte]certEntry{}
	}
	c.entries[key] = certEntry{response: resp, until: until}
	c.mu.Unlock()
	return resp, true, nil
}
