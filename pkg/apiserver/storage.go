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
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"
	serverstorage "k8s.io/apiserver/pkg/server/storage"
	"k8s.io/apiserver/pkg/storage"
	cacherstorage "k8s.io/apiserver/pkg/storage/cacher"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/storage/storagebackend/factory"
	"k8s.io/client-go/tools/cache"

	"github.com/arcturus-cloud/arcturus/pkg/registry/tenantstore"
)

// restOptionsGetter gives every resource storage in its group's preferred
// version under the key prefix tenantstore lays out: protobuf for kinds
// that have a protobuf form (Kubernetes' kinds and the superset Pod and
// workloads), JSON for the others. Either is read back whatever a key was
// written with, so data written before a kind gained protobuf stays
// readable.
type restOptionsGetter struct {
	config     storagebackend.Config
	watchCache bool
}

var _ generic.RESTOptionsGetter = &restOptionsGetter{}

func (g *restOptionsGetter) GetRESTOptions(resource schema.GroupResource, example runtime.Object) (generic.RESTOptions, error) {
	versions := Scheme.PrioritizedVersionsForGroup(resource.Group)
	if len(versions) == 0 {
		return generic.RESTOptions{}, fmt.Errorf("no storage version for group %q", resource.Group)
	}
	config := g.config
	codec, encodeVersioner, err := serverstorage.NewStorageCodec(serverstorage.StorageCodecConfig{
		StorageMediaType:  storageMediaType(example),
		StorageSerializer: Codecs,
		StorageVersion:    versions[0],
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
		decorator = storageWithTenantCacher
	}
	return generic.RESTOptions{
		StorageConfig:           config.ForResource(resource),
		Decorator:               decorator,
		EnableGarbageCollection: true,
		DeleteCollectionWorkers: 4,
		ResourcePrefix:          tenantstore.ResourcePrefix(resource),
	}, nil
}

// storageMediaType is protobuf for objects that encode themselves as
// protobuf, which costs a fraction of JSON to write, store and read back.
func storageMediaType(example runtime.Object) string {
	if _, ok := example.(interface{ Marshal() ([]byte, error) }); ok {
		return runtime.ContentTypeProtobuf
	}
	return runtime.ContentTypeJSON
}

// storageWithTenantCacher is genericregistry.StorageWithCacher, except that
// the cache fills itself with list and watch, never with a watch-list
// stream: client-go's watch-list reflector gathers objects in a temporary
// store keyed by namespace and name, which would merge same-named objects of
// different tenants before the cache's own tenant-aware keys see them.
func storageWithTenantCacher(
	config *storagebackend.ConfigForResource,
	resourcePrefix string,
	cacheKeyFunc func(obj runtime.Object) (string, error),
	newFunc func() runtime.Object,
	newListFunc func() runtime.Object,
	getAttrsFunc storage.AttrFunc,
	triggerFuncs storage.IndexerFuncs,
	indexers *cache.Indexers) (storage.Interface, factory.DestroyFunc, error) {
	raw, destroyRaw, err := generic.NewRawStorage(config, newFunc, newListFunc, resourcePrefix)
	if err != nil {
		return nil, nil, err
	}
	cacher, err := cacherstorage.NewCacherFromConfig(cacherstorage.Config{
		Storage:             listWatchOnly{raw},
		Versioner:           storage.APIObjectVersioner{},
		GroupResource:       config.GroupResource,
		EventsHistoryWindow: config.EventsHistoryWindow,
		ResourcePrefix:      resourcePrefix,
		KeyFunc:             cacheKeyFunc,
		NewFunc:             newFunc,
		NewListFunc:         newListFunc,
		GetAttrsFunc:        getAttrsFunc,
		IndexerFuncs:        triggerFuncs,
		Indexers:            indexers,
		Codec:               config.Codec,
	})
	if err != nil {
		destroyRaw()
		return nil, nil, fmt.Errorf("watch cache for %s: %w", config.GroupResource, err)
	}
	delegator := cacherstorage.NewCacheDelegator(cacher, raw)
	var once sync.Once
	return delegator, func() {
		once.Do(func() {
			delegator.Stop()
			cacher.Stop()
			destroyRaw()
		})
	}, nil
}

// listWatchOnly tells the watch cache's reflector not to use watch-list.
type listWatchOnly struct {
	storage.Interface
}

func (listWatchOnly) IsWatchListSemanticsUnSupported() bool { return true }
