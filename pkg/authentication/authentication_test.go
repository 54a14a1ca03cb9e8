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
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/arcturus-cloud/arcturus/pkg/pki"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

func TestClientCertificatesAndTokens(t *testing.T) {
	dir := t.TempDir()
	ca, err := pki.LoadOrCreateCA(dir, "test-ca")
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte("# comment\nt1,bob,uid1,\"g1,g2\",acme\nt2,ops,uid2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	authn, err := New(Config{ClientCAs: roots, TokenFile: tokenFile, LoopbackToken: "loop"})
	if err != nil {
		t.Fatal(err)
	}

	certPEM, keyPEM, err := ca.IssueClient(pki.ClientIdentity{User: "alice", Groups: []string{tenancy.AdminsGroup}, Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(pair.Certificate[0])

	for _, tc := range []struct {
		name       string
		req        func(*http.Request)
		wantUser   string
		wantTenant tenancy.Name
	}{
		{"certificate", func(r *http.Request) { r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf}} }, "alice", "acme"},
		{"token with tenant", func(r *http.Request) { r.Header.Set("Authorization", "Bearer t1") }, "bob", "acme"},
		{"token without tenant is system", func(r *http.Request) { r.Header.Set("Authorization", "Bearer t2") }, "ops", tenancy.System},
		{"loopback", func(r *http.Request) { r.Header.Set("Authorization", "Bearer loop") }, "system:apiserver", tenancy.System},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(context.Background(), "GET", "/", nil)
			tc.req(req)
			resp, ok, err := authn.AuthenticateRequest(req)
			if err != nil || !ok {
				t.Fatalf("not authenticated: %v", err)
			}
			if resp.User.GetName() != tc.wantUser || tenancy.OfUser(resp.User) != tc.wantTenant {
				t.Errorf("got %q of %q, want %q of %q", resp.User.GetName(), tenancy.OfUser(resp.User), tc.wantUser, tc.wantTenant)
			}
		})
	}

	anonymous, _ := http.NewRequestWithContext(context.Background(), "GET", "/", nil)
	if _, ok, _ := authn.AuthenticateRequest(anonymous); ok {
		t.Error("an anonymous request was authenticated")
	}
	other, err := pki.LoadOrCreateCA(t.TempDir(), "other-ca")
	if err != nil {
		t.Fatal(err)
	}
	foreignPEM, foreignKey, _ := other.IssueClient(pki.ClientIdentity{User: "mallory"})
	foreign, _ := tls.X509KeyPair(foreignPEM, foreignKey)
	foreignLeaf, _ := x509.ParseCertificate(foreign.Certificate[0])
	req, _ := http.NewRequestWithContext(context.Background(), "GET", "/", nil)
	req.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{foreignLeaf}}
	if _, ok, _ := authn.AuthenticateRequest(req); ok {
		t.Error("a certificate from another CA was accepted")
	}
}

func TestTokenFileErrors(t *testing.T) {
	for name, content := range map[string]string{
		"too few columns": "t1,bob\n",
		"bad tenant":      "t1,bob,uid,,Bad_Tenant\n",
		"duplicate token": "t1,bob,uid\nt1,eve,uid2\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tokens.csv")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := New(Config{TokenFile: path}); err == nil {
				t.Error("token file accepted")
			}
		})
	}
}
