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

// Package serviceaccount issues and verifies service account tokens: JWTs
// signed by the region's service account key, bound to one service account
// of one tenant, with Kubernetes' claim layout plus the tenant.
package serviceaccount

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	jose "gopkg.in/go-jose/go-jose.v2"
	"gopkg.in/go-jose/go-jose.v2/jwt"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	apiserverserviceaccount "k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/client-go/util/keyutil"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// DefaultAudience is the audience of tokens that do not name one, and the
// one the API server accepts.
const DefaultAudience = "arcturus"

// privateClaims follow Kubernetes' "kubernetes.io" claim, so tools that read
// service account tokens understand ours, and add the tenant.
type privateClaims struct {
	Kubernetes kubernetesClaims `json:"kubernetes.io"`
	Tenant     string           `json:"arcturus.io/tenant"`
}

type kubernetesClaims struct {
	Namespace      string `json:"namespace"`
	ServiceAccount ref    `json:"serviceaccount"`
}

type ref struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
}

// Keys signs and verifies tokens.
type Keys struct {
	issuer string
	key    *ecdsa.PrivateKey
	signer jose.Signer
}

// LoadOrCreateKeys reads the signing key at path, creating it the first time.
func LoadOrCreateKeys(path, issuer string) (*Keys, error) {
	key, err := loadKey(path)
	if errors.Is(err, os.ErrNotExist) {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generating service account key: %w", err)
		}
		pemBytes, err := keyutil.MarshalPrivateKeyToPEM(key)
		if err != nil {
			return nil, fmt.Errorf("encoding service account key: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
		}
		if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
			return nil, fmt.Errorf("writing service account key: %w", err)
		}
	} else if err != nil {
		return nil, err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("service account signer: %w", err)
	}
	return &Keys{issuer: issuer, key: key, signer: signer}, nil
}

func loadKey(path string) (*ecdsa.PrivateKey, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	k, err := keyutil.PrivateKeyFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading service account key %s: %w", path, err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("service account key %s is not an ECDSA key", path)
	}
	return ec, nil
}

// Issue signs a token for sa of tenant t, valid for the audiences and
// duration given.
func (k *Keys) Issue(t tenancy.Name, sa *corev1.ServiceAccount, audiences []string, validFor time.Duration) (string, time.Time, error) {
	now := time.Now()
	expiry := now.Add(validFor)
	if len(audiences) == 0 {
		audiences = []string{DefaultAudience}
	}
	claims := jwt.Claims{
		Issuer:    k.issuer,
		Subject:   apiserverserviceaccount.MakeUsername(sa.Namespace, sa.Name),
		Audience:  jwt.Audience(audiences),
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		Expiry:    jwt.NewNumericDate(expiry),
	}
	private := privateClaims{
		Kubernetes: kubernetesClaims{Namespace: sa.Namespace, ServiceAccount: ref{Name: sa.Name, UID: string(sa.UID)}},
		Tenant:     string(t),
	}
	token, err := jwt.Signed(k.signer).Claims(claims).Claims(private).CompactSerialize()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("signing token: %w", err)
	}
	return token, expiry, nil
}

// ServiceAccountGetter reads a service account in the tenant of ctx.
type ServiceAccountGetter func(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error)

// Authenticator verifies tokens issued by Keys and checks that their service
// account still exists, so deleting it revokes its tokens.
type Authenticator struct {
	keys *Keys
	get  ServiceAccountGetter
}

var _ authenticator.Token = &Authenticator{}

// NewAuthenticator returns a token authenticator for keys.
func NewAuthenticator(keys *Keys, get ServiceAccountGetter) *Authenticator {
	return &Authenticator{keys: keys, get: get}
}

// AuthenticateToken returns the service account's identity. Tokens that are
// not JWTs, or not ours, are not an error: another authenticator may take them.
func (a *Authenticator) AuthenticateToken(ctx context.Context, raw string) (*authenticator.Response, bool, error) {
	tok, err := jwt.ParseSigned(raw)
	if err != nil {
		return nil, false, nil
	}
	var claims jwt.Claims
	var private privateClaims
	if err := tok.Claims(&a.keys.key.PublicKey, &claims, &private); err != nil {
		return nil, false, nil
	}
	if claims.Issuer != a.keys.issuer {
		return nil, false, nil
	}
	if err := claims.ValidateWithLeeway(jwt.Expected{Time: time.Now()}, time.Minute); err != nil {
		return nil, false, fmt.Errorf("service account token: %w", err)
	}
	if !slices.Contains([]string(claims.Audience), DefaultAudience) {
		return nil, false, errors.New("service account token: not meant for this server")
	}
	t := tenancy.Name(private.Tenant)
	if err := tenancy.Validate(string(t)); err != nil {
		return nil, false, fmt.Errorf("service account token: %w", err)
	}
	k := private.Kubernetes
	sa, err := a.get(tenancy.WithTenant(ctx, t), k.Namespace, k.ServiceAccount.Name)
	if apierrors.IsNotFound(err) {
		return nil, false, fmt.Errorf("service account %s/%s of tenant %s no longer exists", k.Namespace, k.ServiceAccount.Name, t)
	}
	if err != nil {
		return nil, false, fmt.Errorf("looking up service account: %w", err)
	}
	if sa.UID != types.UID(k.ServiceAccount.UID) {
		return nil, false, fmt.Errorf("service account %s/%s of tenant %s was recreated", k.Namespace, k.ServiceAccount.Name, t)
	}
	return &authenticator.Response{
		Audiences: authenticator.Audiences(claims.Audience),
		User: &user.DefaultInfo{
			Name:   apiserverserviceaccount.MakeUsername(k.Namespace, k.ServiceAccount.Name),
			UID:    k.ServiceAccount.UID,
			Groups: apiserverserviceaccount.MakeGroupNames(k.Namespace),
			Extra:  map[string][]string{tenancy.UserExtraKey: {string(t)}},
		},
	}, true, nil
}
