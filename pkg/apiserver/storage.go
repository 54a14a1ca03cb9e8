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
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	etcdkubernetes "go.etcd.io/etcd/client/v3/kubernetes"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	serverstorage "k8s.io/apiserver/pkg/server/storage"
	"k8s.io/apiserver/pkg/storage"
	cacherstorage "k8s.io/apiserver/pkg/storage/cacher"
	"k8s.io/apiserver/pkg/storage/etcd3"
	etcdfeature "k8s.io/apiserver/pkg/storage/feature"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/storage/storagebackend/factory"
	"k8s.io/apiserver/pkg/storage/value/encrypt/identity"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

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
	// uncached resources skip the watch cache even when it is on.
	uncached map[schema.GroupResource]bool
	// raw makes a resource's etcd storage; generic.NewRawStorage if nil.
	raw rawStorageFunc
}

// rawStorageFunc makes the etcd storage of one resource, as
// generic.NewRawStorage does.
type rawStorageFunc func(config *storagebackend.ConfigForResource, newFunc, newListFunc func() runtime.Object,
	resourcePrefix string) (storage.Interface, factory.DestroyFunc, error)

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
	raw := g.raw
	if raw == nil {
		raw = generic.NewRawStorage
	}
	decorator := undecorated(raw)
	if g.watchCache && !g.uncached[resource] {
		decorator = withTenantCacher(raw)
	}
	return generic.RESTOptions{
		StorageConfig:           config.ForResource(resource),
		Decorator:               decorator,
		EnableGarbageCollection: true,
		DeleteCollectionWorkers: 4,
		ResourcePrefix:          tenantstore.ResourcePrefix(resource),
	}, nil
}

// uncachedByDefault are, in --watch-cache-sizes form, the kinds that
// tenants hold in bulk and that no component of the region watches at
// volume: events (as in kube-apiserver), configmaps, secrets, the RBAC
// kinds (the authorizer caches them itself), and namespaces and tenants
// (requests look them up in the lifecycleIndex). A cached object costs its
// decoded form, index entries, field sets and the versions its recent
// events hold, and about three times that in resident memory once
// allocation has scattered them; for the many idle tenants of a region that
// was most of what each cost. Without the cache their lists and watches are
// served by etcd, which holds them anyway. The kinds watched per node or per
// workload (pods, nodes, leases, workloads) stay cached, where one decode
// serves many watchers, and so do service accounts, which token
// authentication reads (GetCachedOrLive).
var uncachedByDefault = []string{
	"events#0", "configmaps#0", "secrets#0", "namespaces#0", "tenants.tenancy.arcturus.io#0",
	"roles.rbac.authorization.k8s.io#0", "rolebindings.rbac.authorization.k8s.io#0",
	"clusterroles.rbac.authorization.k8s.io#0", "clusterrolebindings.rbac.authorization.k8s.io#0",
}

// uncachedResources are the resources whose watch cache size is 0, by
// default or by watchCacheSizes.
func uncachedResources(watchCacheSizes []string) (map[schema.GroupResource]bool, error) {
	sizes, err := genericoptions.ParseWatchCacheSizes(append(slices.Clone(uncachedByDefault), watchCacheSizes...))
	if err != nil {
		return nil, fmt.Errorf("--watch-cache-sizes: %w", err)
	}
	uncached := map[schema.GroupResource]bool{}
	for resource, size := range sizes {
		if size == 0 {
			uncached[resource] = true
		}
	}
	return uncached, nil
}

// storageMediaType is protobuf for objects that encode themselves as
// protobuf, which costs a fraction of JSON to write, store and read back.
func storageMediaType(example runtime.Object) string {
	if _, ok := example.(interface{ Marshal() ([]byte, error) }); ok {
		return runtime.ContentTypeProtobuf
	}
	return runtime.ContentTypeJSON
}

// undecorated is generic.UndecoratedStorage over raw.
func undecorated(raw rawStorageFunc) generic.StorageDecorator {
	return func(config *storagebackend.ConfigForResource, resourcePrefix string, _ func(obj runtime.Object) (string, error),
		newFunc func() runtime.Object, newListFunc func() runtime.Object, _ storage.AttrFunc, _ storage.IndexerFuncs,
		_ *cache.Indexers) (storage.Interface, factory.DestroyFunc, error) {
		return raw(config, newFunc, newListFunc, resourcePrefix)
	}
}

// withTenantCacher is genericregistry.StorageWithCacher over raw, except
// that the cache fills itself with list and watch, never with a watch-list
// stream: client-go's watch-list reflector gathers objects in a temporary
// store keyed by namespace and name, which would merge same-named objects of
// different tenants before the cache's own tenant-aware keys see them.
func withTenantCacher(raw rawStorageFunc) generic.StorageDecorator {
	return func(
		config *storagebackend.ConfigForResource,
		resourcePrefix string,
		cacheKeyFunc func(obj runtime.Object) (string, error),
		newFunc func() runtime.Object,
		newListFunc func() runtime.Object,
		getAttrsFunc storage.AttrFunc,
		triggerFuncs storage.IndexerFuncs,
		indexers *cache.Indexers) (storage.Interface, factory.DestroyFunc, error) {
		store, destroyRaw, err := raw(config, newFunc, newListFunc, resourcePrefix)
		if err != nil {
			return nil, nil, err
		}
		cacher, err := cacherstorage.NewCacherFromConfig(cacherstorage.Config{
			Storage:             listWatchOnly{store},
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
		delegator := cacherstorage.NewCacheDelegator(cacher, store)
		var once sync.Once
		return delegator, func() {
			once.Do(func() {
				delegator.Stop()
				cacher.Stop()
				destroyRaw()
			})
		}, nil
	}
}

// listWatchOnly tells the watch cache's reflector not to use watch-list.
type listWatchOnly struct {
	storage.Interface
}

func (listWatchOnly) IsWatchListSemanticsUnSupported() bool { return true }

// inProcessEtcd makes the storage of each resource over a client that
// calls the embedded etcd member in-process. Over a socket, gRPC's framing
// and the encoding of every request and response on both sides cost about
// a tenth of the server's CPU under a stream of writes.
type inProcessEtcd struct {
	newClient func() *clientv3.Client
	compactor interface {
		etcd3.Compactor
		Stop()
	}
	compactorClient *clientv3.Client
}

// newInProcessEtcd starts the compactor that trims old revisions, as
// newETCD3Storage does for the clients it dials.
func newInProcessEtcd(newClient func() *clientv3.Client, compactionInterval time.Duration) *inProcessEtcd {
	c := newClient()
	etcdfeature.DefaultFeatureSupportChecker.CheckClient(c.Ctx(), memberStatus{c}, storage.RequestWatchProgress)
	return &inProcessEtcd{newClient: newClient, compactorClient: c,
		compactor: etcd3.NewCompactor(c, compactionInterval, clock.RealClock{}, nil)}
}

// memberStatus lets the storage feature checker ask the embedded member
// what it supports: the watch cache asks etcd for progress notifications,
// which bring an idle resource's cache up to a newer revision, only when
// the checker found every endpoint supports them, and in-process clients
// have no endpoints of their own.
type memberStatus struct{ *clientv3.Client }

func (memberStatus) Endpoints() []string { return []string{"in-process"} }

// newRawStorage gives every resource a client of its own, as
// newETCD3Storage does: the watch cache's progress requests reach etcd on
// its watch stream, and etcd answers one only when every watch of that
// stream has caught up, so resources sharing a stream would hold each
// other's caches back.
func (e *inProcessEtcd) newRawStorage(config *storagebackend.ConfigForResource, newFunc, newListFunc func() runtime.Object,
	resourcePrefix string) (storage.Interface, factory.DestroyFunc, error) {
	c := e.newClient()
	c.KV = etcd3.NewETCDLatencyTracker(c.KV)
	client := &etcdkubernetes.Client{Client: c}
	client.Kubernetes = client
	transformer := config.Transformer
	if transformer == nil {
		transformer = identity.NewEncryptCheckTransformer()
	}
	versioner := storage.APIObjectVersioner{}
	store, err := etcd3.New(client, e.compactor, config.Codec, newFunc, newListFunc, config.Prefix, resourcePrefix,
		config.GroupResource, transformer, config.LeaseManagerConfig, etcd3.NewDefaultDecoder(config.Codec, versioner), versioner)
	if err != nil {
		_ = closeInProcess(c)
		return nil, nil, fmt.Errorf("etcd storage for %s: %w", config.GroupResource, err)
	}
	// Storages are destroyed once per resource and again per subresource.
	var once sync.Once
	return store, func() {
		once.Do(func() {
			store.Close()
			if err := closeInProcess(c); err != nil {
				klog.ErrorS(err, "Closing an in-process etcd client", "resource", config.GroupResource)
			}
		})
	}, nil
}

// Close stops the compactor and closes its client.
func (e *inProcessEtcd) Close() error {
	e.compactor.Stop()
	return closeInProcess(e.compactorClient)
}

// closeInProcess closes an in-process client, which reports its context's
// cancellation as the error of a clean close.
func closeInProcess(c *clientv3.Client) error {
	if err := c.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
