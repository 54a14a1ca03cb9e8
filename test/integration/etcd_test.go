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

package integration

import (
	"bytes"
	"context"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/test/framework"
)

// TestExternalEtcd runs a server on an etcd member of its own, and checks
// the keys it writes there: /registry/<group>/<resource>/<tenant>/[<ns>/]<name>.
func TestExternalEtcd(t *testing.T) {
	ctx := context.Background()
	member := framework.StartEtcd(t)
	s := framework.StartServer(t, framework.WithEtcdServers(member.Endpoints()...))
	s.CreateTenant(t, acme)
	etcd := member.Client(t)
	configMaps := typed(t, s.TenantAdmin(t, acme, user)).CoreV1().ConfigMaps(metav1.NamespaceDefault)
	const key = "/registry/core/configmaps/" + acme + "/default/stored"
	stored := func(t *testing.T) *corev1.ConfigMap {
		t.Helper()
		resp, err := etcd.Get(ctx, key)
		if err != nil {
			t.Fatalf("etcd get %s: %v", key, err)
		}
		if len(resp.Kvs) != 1 {
			t.Fatalf("etcd holds %d values at %s, want 1", len(resp.Kvs), key)
		}
		// Stored as protobuf, in Kubernetes' envelope.
		cm := &corev1.ConfigMap{}
		if !bytes.HasPrefix(resp.Kvs[0].Value, []byte("k8s\x00")) {
			t.Errorf("%s is not stored as protobuf: %.20q", key, resp.Kvs[0].Value)
		}
		if _, _, err := serializer.NewCodecFactory(client.Scheme).UniversalDeserializer().Decode(resp.Kvs[0].Value, nil, cm); err != nil {
			t.Fatalf("decoding %s: %v", key, err)
		}
		return cm
	}

	created, err := configMaps.Create(ctx, configMap(metav1.NamespaceDefault, "stored", map[string]string{"a": "1"}), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm := stored(t); cm.UID != created.UID || tenantOf(cm) != acme || cm.Data["a"] != "1" {
		t.Errorf("%s holds config map %s of tenant %q with data %v", key, cm.UID, tenantOf(cm), cm.Data)
	}

	created.Data["a"] = "2"
	if _, err := configMaps.Update(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := configMaps.Get(ctx, "stored", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Data["a"] != "2" {
		t.Errorf("get after update: data %v", got.Data)
	}
	if cm := stored(t); cm.Data["a"] != "2" {
		t.Errorf("%s holds data %v after the update", key, cm.Data)
	}
	list, err := configMaps.List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=stored"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0].UID != created.UID {
		t.Errorf("list by name holds %d items, want the config map %s", len(list.Items), created.UID)
	}

	for _, k := range []string{"/registry/core/namespaces/" + acme + "/default", "/registry/tenancy.arcturus.io/tenants/system/" + acme} {
		expectKeys(t, etcd, k, 1)
	}
	expectKeys(t, etcd, "/registry/configmaps/", 0, clientv3.WithPrefix())

	if err := configMaps.Delete(ctx, "stored", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	expectKeys(t, etcd, key, 0)
}

// expectKeys checks how many keys etcd holds at key.
func expectKeys(t *testing.T, etcd *clientv3.Client, key string, want int64, opts ...clientv3.OpOption) {
	t.Helper()
	resp, err := etcd.Get(context.Background(), key, append(opts, clientv3.WithCountOnly())...)
	if err != nil {
		t.Fatalf("etcd get %s: %v", key, err)
	}
	if resp.Count != want {
		t.Errorf("etcd holds %d keys at %s, want %d", resp.Count, key, want)
	}
}
