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
	"fmt"

	coordinationv1 "k8s.io/api/coordination/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"

	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
	"github.com/arcturus-cloud/arcturus/pkg/registry/coordination"
	"github.com/arcturus-cloud/arcturus/pkg/registry/core"
	"github.com/arcturus-cloud/arcturus/pkg/registry/rbac"
	"github.com/arcturus-cloud/arcturus/pkg/registry/tenancy"
	"github.com/arcturus-cloud/arcturus/pkg/registry/tenantstore"
)

// installed holds the storage that the server's own machinery reads.
type installed struct {
	tenants *tenantstore.REST
}

// installAPIs builds the storage of every served group and installs it.
func installAPIs(s *genericapiserver.GenericAPIServer, optsGetter generic.RESTOptionsGetter) (*installed, error) {
	coreStorage, err := core.NewStorage(Scheme, optsGetter)
	if err != nil {
		return nil, err
	}
	legacy := genericapiserver.NewDefaultAPIGroupInfo("", Scheme, metav1.ParameterCodec, Codecs)
	legacy.VersionedResourcesStorageMap["v1"] = coreStorage
	if err := s.InstallLegacyAPIGroup(genericapiserver.DefaultLegacyAPIPrefix, &legacy); err != nil {
		return nil, fmt.Errorf("installing core/v1: %w", err)
	}

	groups := []struct {
		group, version string
		storage        func() (map[string]rest.Storage, error)
	}{
		{rbacv1.GroupName, "v1", func() (map[string]rest.Storage, error) { return rbac.NewStorage(Scheme, optsGetter) }},
		{coordinationv1.GroupName, "v1", func() (map[string]rest.Storage, error) { return coordination.NewStorage(Scheme, optsGetter) }},
		{tenancyv1.GroupName, "v1", func() (map[string]rest.Storage, error) { return tenancy.NewStorage(Scheme, optsGetter) }},
	}
	out := &installed{}
	var infos []*genericapiserver.APIGroupInfo
	for _, g := range groups {
		storage, err := g.storage()
		if err != nil {
			return nil, err
		}
		if t, ok := storage["tenants"].(*tenantstore.REST); ok {
			out.tenants = t
		}
		info := genericapiserver.NewDefaultAPIGroupInfo(g.group, Scheme, metav1.ParameterCodec, Codecs)
		info.VersionedResourcesStorageMap[g.version] = storage
		infos = append(infos, &info)
	}
	if err := s.InstallAPIGroups(infos...); err != nil {
		return nil, fmt.Errorf("installing API groups: %w", err)
	}
	return out, nil
}
