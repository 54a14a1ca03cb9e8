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

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	serverstorage "k8s.io/apiserver/pkg/server/storage"
	"k8s.io/apiserver/pkg/storage/storagebackend"

	"github.com/arcturus-cloud/arcturus/pkg/registry/tenantstore"
)

// restOptionsGetter gives every resource JSON storage in its served version
// under the key prefix tenantstore lays out.
type restOptionsGetter struct {
	config     storagebackend.Config
	watchCache bool
	// versions maps a group to the version its objects are stored in.
	versions map[string]string
}

var _ generic.RESTOptionsGetter = &restOptionsGetter{}

func (g *restOptionsGetter) GetRESTOptions(resource schema.GroupResource, _ runtime.Object) (generic.RESTOptions, error) {
	version, ok := g.versions[resource.Group]
	if !ok {
		return generic.RESTOptions{}, fmt.Errorf("no storage version for group %q", resource.Group)
	}
	config := g.config
	codec, encodeVersioner, err := serverstorage.NewStorageCodec(serverstorage.StorageCodecConfig{
		StorageMediaType:  runtime.ContentTypeJSON,
		StorageSerializer: Codecs,
		StorageVersion:    schema.GroupVersion{Group: resource.Group, Version: version},
		MemoryVersion:     schema.GroupVersion{Group: resource.Group, Version: runtime.APIVersionInternal},
		Config:            config,
	})
	if err != nil {
		return generic.RESTOptions{}, fmt.Errorf("storage codec for %s: %w", resource, err)
	}
	config.Codec = codec
	config.EncodeVersioner = encodeVersioner
	decorator := generic.UndecoratedStorage
	if g.watchCache {
		decorator = genericregistry.StorageWithCacher()
	}
	return generic.RESTOptions{
		StorageConfig:           config.ForResource(resource),
		Decorator:               decorator,
		EnableGarbageCollection: true,
		DeleteCollectionWorkers: 4,
		ResourcePrefix:          tenantstore.ResourcePrefix(resource),
	}, nil
}
