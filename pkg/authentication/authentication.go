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

// Package authentication builds the region's request authenticator: client
// certificates from the region CA, bearer tokens from a token file, and the
// API server's own loopback token. Every identity it returns carries its
// tenant in the user extra tenancy.UserExtraKey.
package authentication

import (
	"crypto/x509"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/group"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	"k8s.io/apiserver/pkg/authentication/request/union"
	x509request "k8s.io/apiserver/pkg/authentication/request/x509"
	"k8s.io/apiserver/pkg/authentication/token/tokenfile"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// Config says which credentials the server accepts.
type Config struct {
	// ClientCAs verify client certificates.
	ClientCAs *x509.CertPool
	// TokenFile is a CSV file of token,user,uid,"group1,group2",tenant
	// lines; the tenant column may be empty or absent for system users.
	TokenFile string
	// LoopbackToken authenticates the server's own clients as a system
	// master.
	LoopbackToken string
	// ServiceAccountTokens verifies service account tokens.
	ServiceAccountTokens authenticator.Token
}

// New returns the request authenticator for cfg. Anonymous requests are not
// authenticated.
func New(cfg Config) (authenticator.Request, error) {
	tokens := map[string]*user.DefaultInfo{}
	if cfg.TokenFile != "" {
		fileTokens, err := readTokenFile(cfg.TokenFile)
		if err != nil {
			return nil, err
		}
		tokens = fileTokens
	}
	if cfg.LoopbackToken != "" {
		tokens[cfg.LoopbackToken] = &user.DefaultInfo{
			Name:   user.APIServerUser,
			Groups: []string{user.SystemPrivilegedGroup},
			Extra:  map[string][]string{tenancy.UserExtraKey: {string(tenancy.System)}},
		}
	}
	var chain []authenticator.Request
	if cfg.ClientCAs != nil {
		chain = append(chain, newCachedCertificates(x509request.New(verifyOptions(cfg.ClientCAs), x509request.UserConversionFunc(userFromCertificate))))
	}
	if len(tokens) > 0 {
		chain = append(chain, bearertoken.New(tokenfile.New(tokens)))
	}
	if cfg.ServiceAccountTokens != nil {
		chain = append(chain, bearertoken.New(cfg.ServiceAccountTokens))
	}
	if len(chain) == 0 {
		return nil, errors.New("no authentication method configured")
	}
	return group.NewAuthenticatedGroupAdder(union.New(chain...)), nil
}

func verifyOptions(roots *x509.CertPool) x509.VerifyOptions {
	opts := x509request.DefaultVerifyOptions()
	opts.Roots = roots
	return opts
}

// userFromCertificate reads the user from CN, the groups from O and the
// tenant from OU.
func userFromCertificate(chain []*x509.Certificate) (*authenticator.Response, bool, error) {
	subject := chain[0].Subject
	if subject.CommonName == "" {
		return nil, false, errors.New("client certificate has no common name")
	}
	tenant := string(tenancy.System)
	switch len(subject.OrganizationalUnit) {
	case 0:
	case 1:
		tenant = subject.OrganizationalUnit[0]
	default:
		return nil, false, fmt.Errorf("client certificate names %d tenants", len(subject.OrganizationalUnit))
	}
	return &authenticator.Response{User: &user.DefaultInfo{
		Name:   subject.CommonName,
		Groups: subject.Organization,
		Extra:  map[string][]string{tenancy.UserExtraKey: {tenant}},
	}}, true, nil
}

func readTokenFile(path string) (map[string]*user.DefaultInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening token file: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.Comment = '#'
	tokens := map[string]*user.DefaultInfo{}
	for line := 1; ; line++ {
		record, err := r.Read()
		if err == io.EOF {
			return tokens, nil
		}
		if err != nil {
			return nil, fmt.Errorf("token file %s: %w", path, err)
		}
		if len(record) < 3 {
			return nil, fmt.Errorf("token file %s, line %d: want token,user,uid[,groups[,tenant]]", path, line)
		}
		token := strings.TrimSpace(record[0])
		if token == "" {
			return nil, fmt.Errorf("token file %s, line %d: empty token", path, line)
		}
		info := &user.DefaultInfo{Name: record[1], UID: record[2]}
		if len(record) > 3 && record[3] != "" {
			info.Groups = strings.Split(record[3], ",")
		}
		tenant := string(tenancy.System)
		if len(record) > 4 && record[4] != "" {
			tenant = record[4]
			if err := tenancy.Validate(tenant); err != nil {
				return nil, fmt.Errorf("token file %s, line %d: %w", path, line, err)
			}
		}
		info.Extra = map[string][]string{tenancy.UserExtraKey: {tenant}}
		if _, dup := tokens[token]; dup {
			return nil, fmt.Errorf("token file %s, line %d: duplicate token", path, line)
		}
		tokens[token] = info
	}
}
