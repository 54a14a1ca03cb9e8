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

package apiserver

import (
	"context"
	"crypto/tls"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"

	appsv1 "github.com/arcturus-cloud/arcturus/pkg/apis/apps/v1"
	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
	"github.com/arcturus-cloud/arcturus/pkg/registry/apps"
	"github.com/arcturus-cloud/arcturus/pkg/registry/authorization"
	"github.com/arcturus-cloud/arcturus/pkg/registry/coordination"
	"github.com/arcturus-cloud/arcturus/pkg/registry/core"
	"github.com/arcturus-cloud/arcturus/pkg/registry/metal"
	"github.com/arcturus-cloud/arcturus/pkg/registry/rbac"
	"github.com/arcturus-cloud/arcturus/pkg/registry/tenancy"
	"github.com/arcturus-cloud/arcturus/pkg/registry/tenantstore"
)

// apiStorage is the storage of every served group, built before the server
// so that its handler chain and admission can read namespaces and tenants.
type apiStorage struct {
	groups          map[string]map[string]rest.Storage // group name → resource → storage
	namespaces      *core.NamespaceREST
	tenants         *tenantstore.REST
	serviceAccounts *tenantstore.REST
}

func newAPIStorage(optsGetter generic.RESTOptionsGetter, tokens core.TokenIssuer, authz authorizer.Authorizer, rules authorizer.RuleResolver, agentClient tls.Certificate) (*apiStorage, error) {
	builders := map[string]func(generic.RESTOptionsGetter) (map[string]rest.Storage, error){
		"": func(g generic.RESTOptionsGetter) (map[string]rest.Storage, error) {
			return core.NewStorage(Scheme, g, tokens, agentClient)
		},
		appsv1.GroupName: func(g generic.RESTOptionsGetter) (map[string]rest.Storage, error) {
			return apps.NewStorage(Scheme, g)
		},
		rbacv1.GroupName: func(g generic.RESTOptionsGetter) (map[string]rest.Storage, error) {
			return rbac.NewStorage(Scheme, g)
		},
		coordinationv1.GroupName: func(g generic.RESTOptionsGetter) (map[string]rest.Storage, error) {
			return coordination.NewStorage(Scheme, g)
		},
		tenancyv1.GroupName: func(g generic.RESTOptionsGetter) (map[string]rest.Storage, error) {
			return tenancy.NewStorage(Scheme, g)
		},
		metalv1alpha1.GroupName: func(g generic.RESTOptionsGetter) (map[string]rest.Storage, error) {
			return metal.NewStorage(Scheme, g)
		},
	}
	s := &apiStorage{groups: map[string]map[string]rest.Storage{}}
	for group, build := range builders {
		storage, err := build(optsGetter)
		if err != nil {
			return nil, err
		}
		s.groups[group] = storage
	}
	s.groups[authorizationv1.GroupName] = map[string]rest.Storage{
		"selfsubjectaccessreviews": authorization.NewSelfSubjectAccessReview(authz),
		"selfsubjectrulesreviews":  authorization.NewSelfSubjectRulesReview(rules),
	}
	s.groups[authenticationv1.GroupName] = map[string]rest.Storage{
		"selfsubjectreviews": authorization.NewSelfSubjectReview(),
	}
	s.namespaces = s.groups[""]["namespaces"].(*core.NamespaceREST)
	s.tenants = s.groups[tenancyv1.GroupName]["tenants"].(*tenantstore.REST)
	s.serviceAccounts = s.groups[""]["serviceaccounts"].(*tenantstore.REST)
	return s, nil
}

// serviceAccount reads a service account of the tenant of ctx.
func (s *apiStorage) serviceAccount(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error) {
	obj, err := tenantstore.GetCachedOrLive(genericapirequest.WithNamespace(ctx, namespace), s.serviceAccounts, name)
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.ServiceAccount), nil
}

// servedVersion is the one version of a group the server serves.
func servedVersion(group string) string {
	if group == metalv1alpha1.GroupName {
		return metalv1alpha1.SchemeGroupVersion.Version
	}
	return "v1"
}

// install serves every group: core/v1 under /api, the rest under /apis.
func (s *apiStorage) install(server *genericapiserver.GenericAPIServer) error {
	legacy := genericapiserver.NewDefaultAPIGroupInfo("", Scheme, ParameterCodec, Codecs)
	legacy.VersionedResourcesStorageMap["v1"] = s.groups[""]
	if err := server.InstallLegacyAPIGroup(genericapiserver.DefaultLegacyAPIPrefix, &legacy); err != nil {
		return fmt.Errorf("installing core/v1: %w", err)
	}
	var infos []*genericapiserver.APIGroupInfo
	for group, storage := range s.groups {
		if group == "" {
			continue
		}
		info := genericapiserver.NewDefaultAPIGroupInfo(group, Scheme, ParameterCodec, Codecs)
		info.VersionedResourcesStorageMap[servedVersion(group)] = storage
		infos = append(infos, &info)
	}
	if err := server.InstallAPIGroups(infos...); err != nil {
		return fmt.Errorf("installing API groups: %w", err)
	}
	return nil
}
