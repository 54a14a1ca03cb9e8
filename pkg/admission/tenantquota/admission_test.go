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

package tenantquota

import (
	"context"
	"strconv"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/registry/rest"

	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// fakeTenants stores tenants as the tenants storage does, for Get and for
// status updates with a resourceVersion precondition. stale, when set, is
// what the quota lookup has seen of a tenant.
type fakeTenants struct {
	mu      sync.Mutex
	tenants map[string]*tenancyv1.Tenant
	stale   map[string]*tenancyv1.Tenant
	// conflicts fails that many updates with a conflict first.
	conflicts int
	updates   int
	reads     int
}

// quota is the plugin's QuotaLookup: stale's quota where set, as an index
// that has not yet seen a change would answer.
func (f *fakeTenants) quota(_ context.Context, t tenancy.Name) (corev1.ResourceList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.stale[string(t)]; ok {
		return s.Spec.Quota, nil
	}
	if s, ok := f.tenants[string(t)]; ok {
		return s.Spec.Quota, nil
	}
	return nil, nil
}

func newFakeTenants(ts ...*tenancyv1.Tenant) *fakeTenants {
	f := &fakeTenants{tenants: map[string]*tenancyv1.Tenant{}, stale: map[string]*tenancyv1.Tenant{}}
	for _, t := range ts {
		t.ResourceVersion = "1"
		f.tenants[t.Name] = t
	}
	return f
}

func (f *fakeTenants) New() runtime.Object { return &tenancyv1.Tenant{} }
func (f *fakeTenants) Destroy()            {}

func (f *fakeTenants) Get(ctx context.Context, name string, opts *metav1.GetOptions) (runtime.Object, error) {
	if t, _ := tenancy.From(ctx); t != tenancy.System {
		panic("tenants read outside the system tenant: " + t)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	t, ok := f.tenants[name]
	if !ok {
		return nil, apierrors.NewNotFound(tenancyv1.Resource("tenants"), name)
	}
	return t.DeepCopy(), nil
}

func (f *fakeTenants) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, _ rest.ValidateObjectFunc,
	_ rest.ValidateObjectUpdateFunc, _ bool, _ *metav1.UpdateOptions) (runtime.Object, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	old := f.tenants[name]
	obj, err := objInfo.UpdatedObject(ctx, old.DeepCopy())
	if err != nil {
		return nil, false, err
	}
	t := obj.(*tenancyv1.Tenant)
	if f.conflicts > 0 || t.ResourceVersion != old.ResourceVersion {
		f.conflicts = max(f.conflicts-1, 0)
		return nil, false, apierrors.NewConflict(tenancyv1.Resource("tenants"), name, nil)
	}
	rv, _ := strconv.Atoi(old.ResourceVersion)
	t.ResourceVersion = strconv.Itoa(rv + 1)
	t.Spec = old.Spec
	f.tenants[name] = t
	f.updates++
	return t.DeepCopy(), false, nil
}

func (f *fakeTenants) used(name string) corev1.ResourceList {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tenants[name].Status.Used
}

func tenantWith(name string, hard, used corev1.ResourceList) *tenancyv1.Tenant {
	return &tenancyv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: tenancyv1.TenantSpec{Quota: hard},
		Status: tenancyv1.TenantStatus{Phase: tenancyv1.TenantActive, Hard: hard, Used: used}}
}

type request struct {
	tenant      tenancy.Name
	resource    string
	subresource string
	obj         runtime.Object
	dryRun      bool
}

func (q *Quota) admit(r request) error {
	gvr := corev1.SchemeGroupVersion.WithResource(r.resource)
	name := "x"
	if m, ok := r.obj.(metav1.Object); ok {
		name = m.GetName()
	}
	a := admission.NewAttributesRecord(r.obj, nil, corev1.SchemeGroupVersion.WithKind("X"), "default", name, gvr,
		r.subresource, admission.Create, &metav1.CreateOptions{}, r.dryRun, &user.DefaultInfo{Name: "alice"})
	return q.Validate(tenancy.WithTenant(context.Background(), r.tenant), a, nil)
}

func newQuota(t *testing.T, f *fakeTenants) *Quota {
	t.Helper()
	q, err := New(f, f, f.quota)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func expectForbidden(t *testing.T, err error, message string) {
	t.Helper()
	if !apierrors.IsForbidden(err) {
		t.Fatalf("got %v, want 403", err)
	}
	if got := err.(apierrors.APIStatus).Status().Message; got != message {
		t.Errorf("message %q, want %q", got, message)
	}
}

func cpuPod(name, cpu string) runtime.Object {
	pod := containerPod(corev1.Container{Name: "c", Resources: resources(list("cpu", cpu), nil)})
	pod.Name = name
	return pod
}

func TestAdmission(t *testing.T) {
	f := newFakeTenants(
		tenantWith("acme", list("pods", "3", "requests.cpu", "1", "count/configmaps", "1"),
			list("pods", "2", "requests.cpu", "900m", "count/configmaps", "0")),
		tenantWith("beta", nil, nil),
		tenantWith("system", list("pods", "0"), list("pods", "0")),
	)
	q := newQuota(t, f)

	if err := q.admit(request{tenant: "acme", resource: "pods", obj: cpuPod("big", "200m")}); err != nil {
		expectForbidden(t, err, `pods "big" is forbidden: exceeded quota: tenant acme, requested: requests.cpu=200m, used: requests.cpu=900m, limited: requests.cpu=1`)
	} else {
		t.Error("a pod over the cpu quota was admitted")
	}
	expectForbidden(t, q.admit(request{tenant: "acme", resource: "pods", obj: containerPod(corev1.Container{Name: "c"})}),
		`pods "web" is forbidden: failed quota: tenant acme: must specify requests.cpu for: c`)

	if err := q.admit(request{tenant: "acme", resource: "pods", obj: cpuPod("small", "100m")}); err != nil {
		t.Fatalf("a pod that fits: %v", err)
	}
	expectList(t, "charged", f.used("acme"), list("pods", "3", "requests.cpu", "1", "count/configmaps", "0"))
	expectForbidden(t, q.admit(request{tenant: "acme", resource: "pods", obj: cpuPod("fourth", "0")}),
		`pods "fourth" is forbidden: exceeded quota: tenant acme, requested: pods=1, used: pods=3, limited: pods=3`)

	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "one"}}
	if err := q.admit(request{tenant: "acme", resource: "configmaps", obj: cm}); err != nil {
		t.Fatalf("a config map that fits: %v", err)
	}
	expectForbidden(t, q.admit(request{tenant: "acme", resource: "configmaps", obj: &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "two"}}}),
		`configmaps "two" is forbidden: exceeded quota: tenant acme, requested: count/configmaps=1, used: count/configmaps=1, limited: count/configmaps=1`)

	// What the quota does not name is not limited, nor charged.
	updates := f.updates
	if err := q.admit(request{tenant: "acme", resource: "secrets", obj: &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}}}); err != nil {
		t.Errorf("a secret: %v", err)
	}
	// Nor are subresources, tenants without a quota, and the system tenant.
	if err := q.admit(request{tenant: "acme", resource: "pods", subresource: "binding", obj: &corev1.Binding{}}); err != nil {
		t.Errorf("a binding: %v", err)
	}
	for _, tenant := range []tenancy.Name{"beta", "system", "missing"} {
		if err := q.admit(request{tenant: tenant, resource: "pods", obj: cpuPod("p", "5")}); err != nil {
			t.Errorf("a pod in tenant %s: %v", tenant, err)
		}
	}
	if f.updates != updates {
		t.Errorf("%d charges for objects no quota limits", f.updates-updates)
	}
}

func TestAdmissionDryRunChargesNothing(t *testing.T) {
	f := newFakeTenants(tenantWith("acme", list("pods", "1"), list("pods", "0")))
	q := newQuota(t, f)
	if err := q.admit(request{tenant: "acme", resource: "pods", obj: cpuPod("p", "1"), dryRun: true}); err != nil {
		t.Fatal(err)
	}
	if f.updates != 0 {
		t.Errorf("a dry run charged the quota")
	}
	f.tenants["acme"].Status.Used = list("pods", "1")
	expectForbidden(t, q.admit(request{tenant: "acme", resource: "pods", obj: cpuPod("p", "1"), dryRun: true}),
		`pods "p" is forbidden: exceeded quota: tenant acme, requested: pods=1, used: pods=1, limited: pods=1`)
}

// Until the controller has counted a limit, admission cannot know whether
// an object fits, and refuses it as Kubernetes does.
func TestAdmissionWaitsForUsage(t *testing.T) {
	f := newFakeTenants(tenantWith("acme", list("pods", "3", "count/configmaps", "2"), nil))
	q := newQuota(t, f)
	expectForbidden(t, q.admit(request{tenant: "acme", resource: "pods", obj: cpuPod("p", "1")}),
		`pods "p" is forbidden: status unknown for quota: tenant acme, resources: pods`)
}

// A concurrent writer costs a retry against the stored tenant, not a
// refusal; the charge adds to the stored usage.
func TestAdmissionRetriesConflicts(t *testing.T) {
	f := newFakeTenants(tenantWith("acme", list("pods", "3"), list("pods", "1")))
	stale := f.tenants["acme"].DeepCopy()
	stale.ResourceVersion = "0"
	stale.Status.Used = list("pods", "0")
	f.stale["acme"] = stale
	f.conflicts = 2
	q := newQuota(t, f)
	if err := q.admit(request{tenant: "acme", resource: "pods", obj: cpuPod("p", "1")}); err != nil {
		t.Fatal(err)
	}
	expectList(t, "charged", f.used("acme"), list("pods", "2"))

	f.conflicts = chargeAttempts
	if err := q.admit(request{tenant: "acme", resource: "pods", obj: cpuPod("q", "1")}); !apierrors.IsInternalError(err) {
		t.Errorf("got %v after %d conflicts, want an internal error", err, chargeAttempts)
	}
}

// Concurrent creates in one tenant are all charged, none twice.
func TestAdmissionConcurrentCharges(t *testing.T) {
	f := newFakeTenants(tenantWith("acme", list("count/configmaps", "100"), list("count/configmaps", "0")))
	q := newQuota(t, f)
	var wg sync.WaitGroup
	errs := make(chan error, 120)
	for i := range 120 {
		wg.Go(func() {
			errs <- q.admit(request{tenant: "acme", resource: "configmaps",
				obj: &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: strconv.Itoa(i)}}})
		})
	}
	wg.Wait()
	close(errs)
	admitted, refused := 0, 0
	for err := range errs {
		switch {
		case err == nil:
			admitted++
		case apierrors.IsForbidden(err):
			refused++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if admitted != 100 || refused != 20 {
		t.Errorf("admitted %d and refused %d, want 100 and 20", admitted, refused)
	}
	expectList(t, "usage", f.used("acme"), list("count/configmaps", "100"))
}

// Usage always comes from the stored tenant, never from what the quota
// lookup last saw of it.
func TestAdmissionRefusesOnlyOnStoredUsage(t *testing.T) {
	f := newFakeTenants(tenantWith("acme", list("pods", "2"), list("pods", "1")))
	for name, stale := range map[string]corev1.ResourceList{"exceeded": list("pods", "2"), "not counted": nil} {
		t.Run(name, func(t *testing.T) {
			cached := f.tenants["acme"].DeepCopy()
			cached.Status.Used = stale
			f.stale["acme"] = cached
			f.tenants["acme"].Status.Used = list("pods", "1")
			q := newQuota(t, f)
			if err := q.admit(request{tenant: "acme", resource: "pods", obj: cpuPod("p", "1")}); err != nil {
				t.Fatal(err)
			}
			expectList(t, "charged", f.used("acme"), list("pods", "2"))
		})
	}
}

// Tenants without a quota cost no read of their Tenant object; a quota the
// lookup has not seen yet is enforced from the next create on.
func TestAdmissionReadsOnlyTenantsWithQuota(t *testing.T) {
	f := newFakeTenants(tenantWith("acme", nil, nil))
	q := newQuota(t, f)
	for i := range 3 {
		if err := q.admit(request{tenant: "acme", resource: "pods", obj: cpuPod(strconv.Itoa(i), "1")}); err != nil {
			t.Fatal(err)
		}
	}
	if f.reads != 0 {
		t.Errorf("%d reads of a tenant without quota, want 0", f.reads)
	}
	f.tenants["acme"] = tenantWith("acme", list("pods", "1"), list("pods", "1"))
	expectForbidden(t, q.admit(request{tenant: "acme", resource: "pods", obj: cpuPod("p", "1")}),
		`pods "p" is forbidden: exceeded quota: tenant acme, requested: pods=1, used: pods=1, limited: pods=1`)
}
