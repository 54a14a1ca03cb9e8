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

package garbagecollector_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
	"github.com/arcturus-cloud/arcturus/pkg/apiserver"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/garbagecollector"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/regionwatch"
	"github.com/arcturus-cloud/arcturus/pkg/internal/testserver"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

const (
	timeout = time.Minute
	// settle is how long an object that must stay is watched for after
	// the collector has visibly acted on everything around it.
	settle = time.Second
	// hold is a finalizer no controller removes, to keep an object
	// deleting for as long as a test needs.
	hold = "example.com/hold"
)

// acme and beta have namespaces and objects of the same names; the tests
// act in one and check that the other is untouched.
var tenantNames = []tenancy.Name{"acme", "beta"}

type env struct {
	t    *testing.T
	base *rest.Config
}

// start runs the real server with embedded etcd, as
// pkg/controllers/controllers_test.go does, and waits for the test tenants
// to be ready.
func start(t *testing.T) *env {
	t.Helper()
	base := testserver.Start(t, func(o *apiserver.Options) {
		// The server runs every controller but its own garbage collector:
		// the tests run, stop and restart theirs.
		o.Controllers.Controllers = []string{"*", "-garbagecollector"}
	})

	// Readiness shows in the tenants being made, not in /readyz: the
	// server's healthz log check starts a goroutine that nothing stops,
	// which goleak would report.
	e := &env{t: t, base: base}
	tenants := e.dynamic(tenancy.System).Resource(tenancyv1.SchemeGroupVersion.WithResource("tenants"))
	for _, name := range tenantNames {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(tenancyv1.SchemeGroupVersion.WithKind("Tenant"))
		u.SetName(string(name))
		var lastErr error
		if err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
			_, lastErr = tenants.Create(ctx, u, metav1.CreateOptions{})
			return lastErr == nil || apierrors.IsAlreadyExists(lastErr), nil
		}); err != nil {
			t.Fatalf("creating tenant %s: %v (last error: %v)", name, err, lastErr)
		}
	}
	for _, name := range tenantNames {
		e.eventually("tenant "+string(name)+" ready", func(ctx context.Context) (bool, error) {
			u, err := tenants.Get(ctx, string(name), metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			tn := &tenancyv1.Tenant{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, tn); err != nil {
				return false, err
			}
			return meta.IsStatusConditionTrue(tn.Status.Conditions, "Ready"), nil
		})
	}
	return e
}

func (e *env) config(t tenancy.Name) *rest.Config {
	c := tenancy.ConfigFor(e.base, t)
	// Cascades of many objects must not wait on client-side throttling.
	c.QPS, c.Burst = 1000, 1000
	return c
}

func (e *env) kube(t tenancy.Name) kubernetes.Interface { return testserver.Kube(e.t, e.config(t)) }

func (e *env) dynamic(t tenancy.Name) dynamic.Interface { return testserver.Dynamic(e.t, e.config(t)) }

func (e *env) eventually(what string, cond func(ctx context.Context) (bool, error)) {
	e.t.Helper()
	if err := wait.PollUntilContextTimeout(e.t.Context(), 50*time.Millisecond, timeout, true, cond); err != nil {
		e.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// runGC runs a garbage collector, with the feeds of pods and replica sets
// it shares in production, until the returned function stops it, or the
// test ends.
func (e *env) runGC() (stop func()) {
	e.t.Helper()
	feeds, err := regionwatch.NewFeeds(e.base)
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := garbagecollector.NewForTest(e.base, feeds, 2*time.Second)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		wg.Go(func() { feeds.Run(ctx) })
		c.Run(ctx, 8)
		wg.Wait()
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-done:
		case <-time.After(timeout):
			e.t.Errorf("garbage collector did not stop within %v", timeout)
		}
	}
	e.t.Cleanup(stop)
	e.eventually("garbage collector to build its graph", func(context.Context) (bool, error) { return c.Settled(), nil })
	return stop
}

// objects of one tenant, for one test's namespace.
type objects struct {
	e      *env
	tenant tenancy.Name
	ns     string
	client kubernetes.Interface
}

func (e *env) objects(tenant tenancy.Name, ns string) *objects {
	e.t.Helper()
	o := &objects{e: e, tenant: tenant, ns: ns, client: e.kube(tenant)}
	if _, err := o.client.CoreV1().Namespaces().Create(e.t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		e.t.Fatalf("tenant %s: creating namespace %s: %v", tenant, ns, err)
	}
	return o
}

// ref is an owner reference to obj of kind.
func ref(kind string, obj metav1.Object, block bool) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "v1", Kind: kind, Name: obj.GetName(), UID: obj.GetUID(), BlockOwnerDeletion: &block}
}

func objectMeta(name string, owners []metav1.OwnerReference, finalizers ...string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, OwnerReferences: owners, Finalizers: finalizers}
}

func (o *objects) configMap(name string, owners []metav1.OwnerReference, finalizers ...string) *corev1.ConfigMap {
	o.e.t.Helper()
	cm, err := o.client.CoreV1().ConfigMaps(o.ns).Create(o.e.t.Context(),
		&corev1.ConfigMap{ObjectMeta: objectMeta(name, owners, finalizers...), Data: map[string]string{"tenant": string(o.tenant)}}, metav1.CreateOptions{})
	if err != nil {
		o.e.t.Fatalf("tenant %s: creating configmap %s: %v", o.tenant, name, err)
	}
	return cm
}

func (o *objects) secret(name string, owners []metav1.OwnerReference, finalizers ...string) *corev1.Secret {
	o.e.t.Helper()
	s, err := o.client.CoreV1().Secrets(o.ns).Create(o.e.t.Context(),
		&corev1.Secret{ObjectMeta: objectMeta(name, owners, finalizers...), Type: corev1.SecretTypeOpaque}, metav1.CreateOptions{})
	if err != nil {
		o.e.t.Fatalf("tenant %s: creating secret %s: %v", o.tenant, name, err)
	}
	return s
}

func (o *objects) serviceAccount(name string, owners []metav1.OwnerReference, finalizers ...string) *corev1.ServiceAccount {
	o.e.t.Helper()
	sa, err := o.client.CoreV1().ServiceAccounts(o.ns).Create(o.e.t.Context(),
		&corev1.ServiceAccount{ObjectMeta: objectMeta(name, owners, finalizers...)}, metav1.CreateOptions{})
	if err != nil {
		o.e.t.Fatalf("tenant %s: creating serviceaccount %s: %v", o.tenant, name, err)
	}
	return sa
}

// replicaSet creates a replica set of replicas pods, which the server's
// replica set controller makes, and waits for them; it returns the set and
// its pods' names.
func (o *objects) replicaSet(name string, replicas int32) (*appsv1.ReplicaSet, []string) {
	o.e.t.Helper()
	labels := map[string]string{"app": name}
	rs, err := o.client.AppsV1().ReplicaSets(o.ns).Create(o.e.t.Context(), &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "local/busybox:1"}}},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		o.e.t.Fatalf("tenant %s: creating replicaset %s: %v", o.tenant, name, err)
	}
	var pods []string
	o.e.eventually(fmt.Sprintf("tenant %s: replicaset %s to have %d pods", o.tenant, name, replicas), func(ctx context.Context) (bool, error) {
		list, err := o.client.CoreV1().Pods(o.ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
		if err != nil {
			return false, err
		}
		pods = pods[:0]
		for _, p := range list.Items {
			pods = append(pods, p.Name)
		}
		return len(pods) == int(replicas), nil
	})
	return rs, pods
}

// get returns the metadata of kind/name, nil if it does not exist.
func (o *objects) get(ctx context.Context, kind, name string) (metav1.Object, error) {
	var obj metav1.Object
	var err error
	switch kind {
	case "Pod":
		obj, err = o.client.CoreV1().Pods(o.ns).Get(ctx, name, metav1.GetOptions{})
	case "ReplicaSet":
		obj, err = o.client.AppsV1().ReplicaSets(o.ns).Get(ctx, name, metav1.GetOptions{})
	case "ConfigMap":
		obj, err = o.client.CoreV1().ConfigMaps(o.ns).Get(ctx, name, metav1.GetOptions{})
	case "Secret":
		obj, err = o.client.CoreV1().Secrets(o.ns).Get(ctx, name, metav1.GetOptions{})
	case "ServiceAccount":
		obj, err = o.client.CoreV1().ServiceAccounts(o.ns).Get(ctx, name, metav1.GetOptions{})
	default:
		return nil, fmt.Errorf("unknown kind %s", kind)
	}
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return obj, err
}

func (o *objects) mustGet(kind, name string) metav1.Object {
	o.e.t.Helper()
	obj, err := o.get(o.e.t.Context(), kind, name)
	if err != nil {
		o.e.t.Fatal(err)
	}
	if obj == nil {
		o.e.t.Fatalf("tenant %s: %s %s/%s is gone", o.tenant, kind, o.ns, name)
	}
	return obj
}

func (o *objects) delete(kind, name string, policy *metav1.DeletionPropagation) {
	o.e.t.Helper()
	opts := metav1.DeleteOptions{PropagationPolicy: policy}
	ctx := o.e.t.Context()
	var err error
	switch kind {
	case "Pod":
		err = o.client.CoreV1().Pods(o.ns).Delete(ctx, name, opts)
	case "ReplicaSet":
		err = o.client.AppsV1().ReplicaSets(o.ns).Delete(ctx, name, opts)
	case "ConfigMap":
		err = o.client.CoreV1().ConfigMaps(o.ns).Delete(ctx, name, opts)
	case "Secret":
		err = o.client.CoreV1().Secrets(o.ns).Delete(ctx, name, opts)
	case "ServiceAccount":
		err = o.client.CoreV1().ServiceAccounts(o.ns).Delete(ctx, name, opts)
	}
	if err != nil {
		o.e.t.Fatalf("tenant %s: deleting %s %s: %v", o.tenant, kind, name, err)
	}
}

// release removes every finalizer of kind/name.
func (o *objects) release(kind, name string) {
	o.e.t.Helper()
	patch := []byte(`{"metadata":{"finalizers":null}}`)
	ctx := o.e.t.Context()
	var err error
	switch kind {
	case "ConfigMap":
		_, err = o.client.CoreV1().ConfigMaps(o.ns).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	case "Secret":
		_, err = o.client.CoreV1().Secrets(o.ns).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	case "ServiceAccount":
		_, err = o.client.CoreV1().ServiceAccounts(o.ns).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	}
	if err != nil && !apierrors.IsNotFound(err) {
		o.e.t.Fatalf("tenant %s: releasing %s %s: %v", o.tenant, kind, name, err)
	}
}

func (o *objects) waitGone(kind string, names ...string) {
	o.e.t.Helper()
	for _, name := range names {
		o.e.eventually(fmt.Sprintf("tenant %s: %s %s/%s to be deleted", o.tenant, kind, o.ns, name), func(ctx context.Context) (bool, error) {
			obj, err := o.get(ctx, kind, name)
			return obj == nil, err
		})
	}
}

// waitOwners waits until kind/name exists with exactly the owners of the
// given UIDs, and stays so for a moment.
func (o *objects) waitOwners(kind, name string, want ...types.UID) {
	o.e.t.Helper()
	have := func(ctx context.Context) (bool, error) {
		obj, err := o.get(ctx, kind, name)
		if err != nil {
			return false, err
		}
		if obj == nil {
			return false, fmt.Errorf("%s %s/%s of tenant %s was deleted", kind, o.ns, name, o.tenant)
		}
		var got []types.UID
		for _, r := range obj.GetOwnerReferences() {
			got = append(got, r.UID)
		}
		slices.Sort(got)
		w := slices.Sorted(slices.Values(want))
		return slices.Equal(got, w), nil
	}
	o.e.eventually(fmt.Sprintf("tenant %s: %s %s/%s to have owners %v", o.tenant, kind, o.ns, name, want), have)
	time.Sleep(settle)
	if ok, err := have(o.e.t.Context()); !ok || err != nil {
		o.e.t.Fatalf("tenant %s: %s %s/%s changed owners again (%v)", o.tenant, kind, o.ns, name, err)
	}
}

// mustExist checks that every named object exists and is not being deleted.
func (o *objects) mustExist(kind string, names ...string) {
	o.e.t.Helper()
	for _, name := range names {
		if obj := o.mustGet(kind, name); obj.GetDeletionTimestamp() != nil {
			o.e.t.Errorf("tenant %s: %s %s/%s is being deleted", o.tenant, kind, o.ns, name)
		}
	}
}

var (
	background = metav1.DeletePropagationBackground
	foreground = metav1.DeletePropagationForeground
	orphan     = metav1.DeletePropagationOrphan
)

func TestGarbageCollector(t *testing.T) {
	e := start(t)
	stopGC := e.runGC()

	t.Run("background cascade", func(t *testing.T) {
		e := &env{t: t, base: e.base}
		build := func(o *objects) {
			owner := o.configMap("owner", nil)
			secret := o.secret("child", []metav1.OwnerReference{ref("ConfigMap", owner, false)})
			o.serviceAccount("child", []metav1.OwnerReference{ref("ConfigMap", owner, true)})
			o.configMap("grandchild", []metav1.OwnerReference{ref("Secret", secret, false)})
		}
		acme, beta := e.objects("acme", "background"), e.objects("beta", "background")
		build(acme)
		build(beta)
		// Owners alive: nothing is collected.
		time.Sleep(settle)
		acme.mustExist("ConfigMap", "owner", "grandchild")
		acme.mustExist("Secret", "child")

		acme.delete("ConfigMap", "owner", nil)
		acme.waitGone("Secret", "child")
		acme.waitGone("ServiceAccount", "child")
		acme.waitGone("ConfigMap", "grandchild")
		beta.mustExist("ConfigMap", "owner", "grandchild")
		beta.mustExist("Secret", "child")
		beta.mustExist("ServiceAccount", "child")

		beta.delete("ConfigMap", "owner", &background)
		beta.waitGone("Secret", "child")
		beta.waitGone("ServiceAccount", "child")
		beta.waitGone("ConfigMap", "grandchild")
	})

	t.Run("dependent with two owners", func(t *testing.T) {
		e := &env{t: t, base: e.base}
		owners := map[tenancy.Name][2]*corev1.ConfigMap{}
		objs := map[tenancy.Name]*objects{}
		for _, tn := range tenantNames {
			o := e.objects(tn, "two-owners")
			a, b := o.configMap("owner-a", nil), o.configMap("owner-b", nil)
			o.secret("shared", []metav1.OwnerReference{ref("ConfigMap", a, true), ref("ConfigMap", b, false)})
			owners[tn], objs[tn] = [2]*corev1.ConfigMap{a, b}, o
		}
		objs["acme"].delete("ConfigMap", "owner-a", nil)
		objs["acme"].waitOwners("Secret", "shared", owners["acme"][1].UID)
		objs["beta"].waitOwners("Secret", "shared", owners["beta"][0].UID, owners["beta"][1].UID)

		// The last owner goes: so does the dependent.
		objs["acme"].delete("ConfigMap", "owner-b", nil)
		objs["acme"].waitGone("Secret", "shared")
		objs["beta"].mustExist("Secret", "shared")
	})

	t.Run("foreground", func(t *testing.T) {
		e := &env{t: t, base: e.base}
		build := func(o *objects) {
			owner := o.configMap("owner", nil)
			// Blocks the owner, and cannot go until released.
			o.secret("blocker", []metav1.OwnerReference{ref("ConfigMap", owner, true)}, hold)
			// Deleted, but does not block.
			o.serviceAccount("loose", []metav1.OwnerReference{ref("ConfigMap", owner, false)})
			// Has a blocking dependent of its own: deleted in the
			// foreground too.
			mid := o.serviceAccount("mid", []metav1.OwnerReference{ref("ConfigMap", owner, true)})
			o.configMap("leaf", []metav1.OwnerReference{ref("ServiceAccount", mid, true)})
		}
		acme, beta := e.objects("acme", "foreground"), e.objects("beta", "foreground")
		build(acme)
		build(beta)

		start := time.Now()
		acme.delete("ConfigMap", "owner", &foreground)
		acme.waitGone("ServiceAccount", "loose", "mid")
		acme.waitGone("ConfigMap", "leaf")
		e.eventually("acme blocker to be deleted", func(ctx context.Context) (bool, error) {
			b, err := acme.get(ctx, "Secret", "blocker")
			return b != nil && b.GetDeletionTimestamp() != nil, err
		})
		time.Sleep(settle)
		owner := acme.mustGet("ConfigMap", "owner")
		if owner.GetDeletionTimestamp() == nil || !slices.Contains(owner.GetFinalizers(), metav1.FinalizerDeleteDependents) {
			t.Fatalf("owner blocked by a dependent: deletion timestamp %v, finalizers %v", owner.GetDeletionTimestamp(), owner.GetFinalizers())
		}
		acme.release("Secret", "blocker")
		acme.waitGone("Secret", "blocker")
		acme.waitGone("ConfigMap", "owner")
		t.Logf("foreground deletion of a tree of 5 objects took %v (with %v of deliberate waiting)", time.Since(start), settle)

		beta.mustExist("ConfigMap", "owner", "leaf")
		beta.mustExist("ServiceAccount", "loose", "mid")
		beta.mustExist("Secret", "blocker")

		// Once nothing blocks, the owner goes with its dependents.
		beta.release("Secret", "blocker")
		beta.delete("ConfigMap", "owner", &foreground)
		beta.waitGone("ConfigMap", "owner", "leaf")
		beta.waitGone("Secret", "blocker")
		beta.waitGone("ServiceAccount", "loose", "mid")
	})

	t.Run("orphan", func(t *testing.T) {
		e := &env{t: t, base: e.base}
		other := map[tenancy.Name]types.UID{}
		objs := map[tenancy.Name]*objects{}
		for _, tn := range tenantNames {
			o := e.objects(tn, "orphan")
			owner, keeper := o.configMap("owner", nil), o.configMap("keeper", nil)
			o.secret("dependent", []metav1.OwnerReference{ref("ConfigMap", owner, true)})
			o.serviceAccount("dependent", []metav1.OwnerReference{ref("ConfigMap", owner, false), ref("ConfigMap", keeper, false)})
			other[tn], objs[tn] = keeper.UID, o
		}
		acme := objs["acme"]
		acme.delete("ConfigMap", "owner", &orphan)
		acme.waitGone("ConfigMap", "owner")
		acme.waitOwners("Secret", "dependent")
		acme.waitOwners("ServiceAccount", "dependent", other["acme"])

		beta := objs["beta"]
		if n := len(beta.mustGet("Secret", "dependent").GetOwnerReferences()); n != 1 {
			t.Errorf("beta's secret has %d owners, want 1", n)
		}
		beta.delete("ConfigMap", "owner", &orphan)
		beta.waitGone("ConfigMap", "owner")
		beta.waitOwners("Secret", "dependent")
		beta.waitOwners("ServiceAccount", "dependent", other["beta"])
	})

	t.Run("pods and replica sets", func(t *testing.T) {
		// The collector follows these through the feeds, not watches
		// of its own.
		e := &env{t: t, base: e.base}
		objs := map[tenancy.Name]*objects{}
		pods := map[tenancy.Name][]string{}
		for _, tn := range tenantNames {
			o := e.objects(tn, "workloads")
			_, pods[tn] = o.replicaSet("web", 2)
			owner := o.mustGet("Pod", pods[tn][0])
			o.configMap("pod-config", []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Pod", Name: owner.GetName(), UID: owner.GetUID(),
			}})
			objs[tn] = o
		}
		acme, beta := objs["acme"], objs["beta"]

		acme.delete("ReplicaSet", "web", &foreground)
		acme.waitGone("Pod", pods["acme"]...)
		acme.waitGone("ReplicaSet", "web")
		acme.waitGone("ConfigMap", "pod-config")
		beta.mustExist("ReplicaSet", "web")
		beta.mustExist("Pod", pods["beta"]...)
		beta.mustExist("ConfigMap", "pod-config")

		beta.delete("ReplicaSet", "web", &orphan)
		beta.waitGone("ReplicaSet", "web")
		for _, name := range pods["beta"] {
			beta.waitOwners("Pod", name)
		}
		beta.delete("Pod", pods["beta"][0], &background)
		beta.waitGone("ConfigMap", "pod-config")
		beta.mustExist("Pod", pods["beta"][1])
	})

	t.Run("cross-tenant references", func(t *testing.T) {
		e := &env{t: t, base: e.base}
		acme, beta := e.objects("acme", "cross"), e.objects("beta", "cross")
		acmeOwner, betaOwner := acme.configMap("owner", nil), beta.configMap("owner", nil)
		acme.secret("dependent", []metav1.OwnerReference{ref("ConfigMap", acmeOwner, true)})
		beta.secret("dependent", []metav1.OwnerReference{ref("ConfigMap", betaOwner, true)})

		// acme objects naming beta's owner: by its name, which acme also
		// has, and its UID, which acme's does not.
		acme.secret("foreign-only", []metav1.OwnerReference{ref("ConfigMap", betaOwner, false)})
		acme.serviceAccount("foreign-and-own", []metav1.OwnerReference{ref("ConfigMap", betaOwner, true), ref("ConfigMap", acmeOwner, false)})
		// One that blocks beta's owner, if anything could, and cannot go.
		acme.configMap("foreign-held", []metav1.OwnerReference{ref("ConfigMap", betaOwner, true)}, hold)

		// beta's owner alive does not keep them.
		acme.waitGone("Secret", "foreign-only")
		acme.waitOwners("ServiceAccount", "foreign-and-own", acmeOwner.UID)
		e.eventually("acme foreign-held to be deleted", func(ctx context.Context) (bool, error) {
			o, err := acme.get(ctx, "ConfigMap", "foreign-held")
			return o != nil && o.GetDeletionTimestamp() != nil, err
		})

		// beta's foreground deletion waits for beta's dependents only.
		beta.delete("ConfigMap", "owner", &foreground)
		beta.waitGone("Secret", "dependent")
		beta.waitGone("ConfigMap", "owner")
		acme.mustExist("ConfigMap", "owner")
		acme.mustExist("Secret", "dependent")
		acme.mustExist("ServiceAccount", "foreign-and-own")
		acme.release("ConfigMap", "foreign-held")
		acme.waitGone("ConfigMap", "foreign-held")
	})

	t.Run("cascade timing", func(t *testing.T) {
		e := &env{t: t, base: e.base}
		const n = 500
		for _, policy := range []metav1.DeletionPropagation{background, foreground} {
			o := e.objects("acme", "scale-"+strings.ToLower(string(policy)))
			owner := o.configMap("owner", nil)
			refs := []metav1.OwnerReference{ref("ConfigMap", owner, true)}
			for i := range n {
				o.configMap(fmt.Sprintf("dependent-%d", i), refs)
			}
			// Count deletions on a watch: polling lists of thousands of
			// objects would slow the server down more than the
			// collector does.
			list, err := o.client.CoreV1().ConfigMaps(o.ns).List(t.Context(), metav1.ListOptions{Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			rv := list.ResourceVersion
			watchFrom := func() watch.Interface {
				w, err := o.client.CoreV1().ConfigMaps(o.ns).Watch(t.Context(), metav1.ListOptions{ResourceVersion: rv})
				if err != nil {
					t.Fatal(err)
				}
				return w
			}
			w := watchFrom()
			start := time.Now()
			o.delete("ConfigMap", "owner", &policy)
			deadline := time.After(timeout)
			for deleted := 0; deleted < n+1; {
				select {
				case ev, ok := <-w.ResultChan():
					if !ok {
						// The watch cache closes a watcher that falls
						// behind a burst; like any client, resume from
						// the last event seen.
						w = watchFrom()
						continue
					}
					if m, err := meta.Accessor(ev.Object); err == nil {
						rv = m.GetResourceVersion()
					}
					if ev.Type == watch.Deleted {
						deleted++
					}
				case <-deadline:
					t.Fatalf("%s deletion: %d of %d objects deleted after %v", policy, deleted, n+1, timeout)
				}
			}
			w.Stop()
			t.Logf("%s deletion of an owner with %d dependents: all gone after %v", policy, n, time.Since(start))
		}
	})

	t.Run("restart", func(t *testing.T) {
		e := &env{t: t, base: e.base}
		acme, beta := e.objects("acme", "restart"), e.objects("beta", "restart")
		for _, o := range []*objects{acme, beta} {
			owner := o.configMap("owner", nil)
			o.secret("dependent", []metav1.OwnerReference{ref("ConfigMap", owner, true)})
			orphaner := o.configMap("orphaner", nil)
			o.secret("orphan", []metav1.OwnerReference{ref("ConfigMap", orphaner, true)})
			fg := o.configMap("foreground", nil)
			o.serviceAccount("dependent", []metav1.OwnerReference{ref("ConfigMap", fg, true)})
		}
		time.Sleep(settle) // let the running collector see them
		stopGC()

		acme.delete("ConfigMap", "owner", &background)
		acme.delete("ConfigMap", "orphaner", &orphan)
		acme.delete("ConfigMap", "foreground", &foreground)
		time.Sleep(settle)
		acme.mustExist("Secret", "dependent", "orphan")
		acme.mustExist("ServiceAccount", "dependent")
		for _, name := range []string{"orphaner", "foreground"} {
			if acme.mustGet("ConfigMap", name).GetDeletionTimestamp() == nil {
				t.Fatalf("acme configmap %s is not being deleted", name)
			}
		}

		e.runGC()
		acme.waitGone("Secret", "dependent")
		acme.waitGone("ConfigMap", "owner", "orphaner", "foreground")
		acme.waitGone("ServiceAccount", "dependent")
		acme.waitOwners("Secret", "orphan")
		beta.mustExist("ConfigMap", "owner", "orphaner", "foreground")
		beta.mustExist("Secret", "dependent", "orphan")
		beta.mustExist("ServiceAccount", "dependent")
	})
}
