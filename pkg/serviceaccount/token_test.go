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

package serviceaccount

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

func TestIssueAndAuthenticate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sa.key")
	keys, err := LoadOrCreateKeys(path, "https://issuer")
	if err != nil {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "bot", Namespace: "ci", UID: "uid-1"}}
	stored := map[tenancy.Name]*corev1.ServiceAccount{"acme": sa}
	get := func(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error) {
		t, _ := tenancy.From(ctx)
		if s, ok := stored[t]; ok && s.Namespace == namespace && s.Name == name {
			return s, nil
		}
		return nil, apierrors.NewNotFound(corev1.Resource("serviceaccounts"), name)
	}
	authn := NewAuthenticator(keys, get)

	token, _, err := keys.Issue("acme", sa, nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	resp, ok, err := authn.AuthenticateToken(context.Background(), token)
	if err != nil || !ok {
		t.Fatalf("token rejected: %v", err)
	}
	if resp.User.GetName() != "system:serviceaccount:ci:bot" || tenancy.OfUser(resp.User) != "acme" || resp.User.GetUID() != "uid-1" {
		t.Errorf("identity = %+v", resp.User)
	}

	// The key survives a restart: a reloaded key verifies old tokens.
	reloaded, err := LoadOrCreateKeys(path, "https://issuer")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := NewAuthenticator(reloaded, get).AuthenticateToken(context.Background(), token); !ok || err != nil {
		t.Errorf("token rejected after reload: %v", err)
	}

	for name, check := range map[string]func() bool{
		"recreated service account": func() bool {
			stored["acme"] = &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "bot", Namespace: "ci", UID: "uid-2"}}
			defer func() { stored["acme"] = sa }()
			_, ok, _ := authn.AuthenticateToken(context.Background(), token)
			return ok
		},
		"other audience": func() bool {
			tok, _, _ := keys.Issue("acme", sa, []string{"vault"}, time.Hour)
			_, ok, _ := authn.AuthenticateToken(context.Background(), tok)
			return ok
		},
		"expired": func() bool {
			tok, _, _ := keys.Issue("acme", sa, nil, -2*time.Minute)
			_, ok, _ := authn.AuthenticateToken(context.Background(), tok)
			return ok
		},
		"other tenant's account of the same name": func() bool {
			tok, _, _ := keys.Issue("beta", sa, nil, time.Hour)
			_, ok, _ := authn.AuthenticateToken(context.Background(), tok)
			return ok
		},
		"other issuer": func() bool {
			other, _ := LoadOrCreateKeys(filepath.Join(t.TempDir(), "other.key"), "https://issuer")
			tok, _, _ := other.Issue("acme", sa, nil, time.Hour)
			_, ok, _ := authn.AuthenticateToken(context.Background(), tok)
			return ok
		},
		"not a JWT": func() bool {
			_, ok, err := authn.AuthenticateToken(context.Background(), "opaque-token")
			return ok || err != nil
		},
	} {
		if check() {
			t.Errorf("%s: accepted", name)
		}
	}
}
