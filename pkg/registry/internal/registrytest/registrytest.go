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

// Package registrytest gives the tests of the registries storage as the
// server's: an embedded etcd member of their own, and REST options that
// store objects in it as JSON, without a watch cache, under the tenant-aware
// resource prefixes.
package registrytest

import (
	"net"
	"strconv"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apiserver/pkg/registry/generic"
	serverstorage "k8s.io/apiserver/pkg/server/storage"
	"k8s.io/apiserver/pkg/storage/storagebackend"

	"github.com/arcturus-cloud/arcturus/pkg/etcd"
	"github.com/arcturus-cloud/arcturus/pkg/registry/tenantstore"
)

// RESTOptions starts an etcd member, which stops when the test ends, and
// returns REST options for the objects of scheme: stored as storageVersion,
// held in memory as memoryVersion (the internal version, where the group
// has one, as the server converts to it).
func RESTOptions(t *testing.T, scheme *runtime.Scheme, storageVersion, memoryVersion schema.GroupVersion) generic.RESTOptionsGetter {
	t.Helper()
	e, err := etcd.Start(t.Context(), etcd.Options{
		DataDir:   t.TempDir(),
		ClientURL: "http://127.0.0.1:" + strconv.Itoa(freePort(t)),
		PeerURL:   "http://127.0.0.1:" + strconv.Itoa(freePort(t)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	config := storagebackend.NewDefaultConfig("/registry", nil)
	config.Transport.ServerList = e.Endpoints()
	return &optionsGetter{
		config: *config, codecs: serializer.NewCodecFactory(scheme),
		storageVersion: storageVersion, memoryVersion: memoryVersion,
	}
}

type optionsGetter struct {
	config                        storagebackend.Config
	codecs                        serializer.CodecFactory
	storageVersion, memoryVersion schema.GroupVersion
}

func (g *optionsGetter) GetRESTOptions(resource schema.GroupResource, _ runtime.Object) (generic.RESTOptions, error) {
	config := g.config
	codec, versioner, err := serverstorage.NewStorageCodec(serverstorage.StorageCodecConfig{
		StorageMediaType:  runtime.ContentTypeJSON,
		StorageSerializer: g.codecs,
		StorageVersion:    g.storageVersion,
		MemoryVersion:     g.memoryVersion,
		Config:            config,
	})
	if err != nil {
		return generic.RESTOptions{}, err
	}
	config.Codec = codec
	config.EncodeVersioner = versioner
	return generic.RESTOptions{
		StorageConfig:           config.ForResource(resource),
		Decorator:               generic.UndecoratedStorage,
		EnableGarbageCollection: true,
		DeleteCollectionWorkers: 1,
		ResourcePrefix:          tenantstore.ResourcePrefix(resource),
	}, nil
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
