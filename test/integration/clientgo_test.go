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
	"context"
	"slices"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/arcturus-cloud/arcturus/test/framework"
)

// TestStockClientGo uses client-go's typed clientset as every controller
// does, with its defaults: it sends built-in kinds as protobuf.
func TestStockClientGo(t *testing.T) {
	s := framework.StartServer(t)
	s.CreateTenant(t, acme)
	client := framework.Clientset(t, s.TenantAdmin(t, acme, user))
	ctx := context.Background()
	configMaps := client.CoreV1().ConfigMaps(metav1.NamespaceDefault)

	t.Run("config maps", func(t *testing.T) {
		list, err := configMaps.List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, watchTimeout)
		defer cancel()
		w, err := configMaps.Watch(wctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		cm, err := configMaps.Create(ctx, configMap(metav1.NamespaceDefault, "typed", map[string]string{"a": "1"}), metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if e := nextEvent(t, wctx, w); e.Type != watch.Added || e.Object.(*corev1.ConfigMap).UID != cm.UID {
			t.Errorf("watch: got %s %v, want the creation of %s", e.Type, e.Object, cm.UID)
		}
		cm.Data["a"] = "2"
		if _, err := configMaps.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			t.Errorf("update: %v", err)
		}
		if err := configMaps.Delete(ctx, cm.Name, metav1.DeleteOptions{}); err != nil {
			t.Errorf("delete: %v", err)
		}
	})

	t.Run("pods", func(t *testing.T) {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "typed"},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "busybox"}}},
		}
		created, err := client.CoreV1().Pods(metav1.NamespaceDefault).Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if len(created.Spec.Containers) != 1 || created.Spec.Containers[0].Image != "busybox" {
			t.Errorf("created pod has containers %v", created.Spec.Containers)
		}
	})

	t.Run("access review", func(t *testing.T) {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: metav1.NamespaceDefault, Verb: "create", Resource: "configmaps"},
		}}
		got, err := client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !got.Status.Allowed {
			t.Errorf("a tenant admin may not create config maps: %+v", got.Status)
		}
	})
}

// TestStockInformers runs client-go's shared informers, which fill
// themselves with a watch-list stream by default, over config maps served
// by etcd (their default) and by the watch cache.
func TestStockInformers(t *testing.T) {
	for name, opts := range map[string][]framework.Option{
		"etcd":        nil,
		"watch cache": {framework.WithWatchCacheSizes("configmaps#100")},
	} {
		t.Run(name, func(t *testing.T) {
			s := framework.StartServer(t, opts...)
			s.CreateTenant(t, acme)
			client := framework.Clientset(t, s.TenantAdmin(t, acme, user))
			ctx, cancel := context.WithTimeout(context.Background(), watchTimeout)
			defer cancel()
			configMaps := client.CoreV1().ConfigMaps(metav1.NamespaceDefault)
			if _, err := configMaps.Create(ctx, configMap(metav1.NamespaceDefault, "before", nil), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}

			seen := make(chan string, 16)
			factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(metav1.NamespaceDefault))
			informer := factory.Core().V1().ConfigMaps().Informer()
			note := func(verb string) func(obj any) {
				return func(obj any) {
					if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
						obj = d.Obj
					}
					seen <- verb + " " + obj.(*corev1.ConfigMap).Name
				}
			}
			if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
				AddFunc:    note("add"),
				UpdateFunc: func(_, obj any) { note("update")(obj) },
				DeleteFunc: note("delete"),
			}); err != nil {
				t.Fatal(err)
			}
			factory.Start(ctx.Done())
			defer func() {
				cancel() // Shutdown waits until the informers stop
				factory.Shutdown()
			}()
			if !cache.WaitForCacheSync(ctx.Done(), informer.HasSynced) {
				t.Fatal("the informer did not sync")
			}

			after, err := configMaps.Create(ctx, configMap(metav1.NamespaceDefault, "after", map[string]string{"a": "1"}), metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			after.Data["a"] = "2"
			if _, err := configMaps.Update(ctx, after, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := configMaps.Delete(ctx, "after", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			// kube-root-ca.crt and the like may come and go; only the
			// order of the test's own objects matters.
			want := []string{"add before", "add after", "update after", "delete after"}
			for len(want) > 0 {
				select {
				case got := <-seen:
					if got == want[0] {
						want = want[1:]
					} else if slices.Contains(want, got) {
						t.Fatalf("informer saw %q before %q", got, want[0])
					}
				case <-ctx.Done():
					t.Fatalf("informer never saw %q", want[0])
				}
			}
		})
	}
}
