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

// Package tenant is the tenant controller. It gives every tenant the
// namespaces and RBAC a new Kubernetes cluster starts with, and empties a
// deleted tenant before releasing its finalizer.
package tenant

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
	"github.com/arcturus-cloud/arcturus/pkg/authorization/rbac"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/content"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/runner"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/tenantclient"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

const (
	// ConditionReady is true once a tenant has its bootstrap objects.
	ConditionReady = "Ready"
	// ReasonBootstrapped is the reason of a true Ready condition.
	ReasonBootstrapped = "Bootstrapped"
	// ReasonTerminating is the reason of Ready turning false on deletion.
	ReasonTerminating = "Terminating"

	// resync re-checks every tenant's bootstrap objects now and then, so
	// that a deleted default namespace or role comes back.
	resync = 10 * time.Minute
)

// SystemNamespaces are the namespaces of the system tenant, as every
// Kubernetes cluster has them. Other tenants get only TenantNamespaces: a
// tenant is meant to cost little, and nodes and their leases are the system
// tenant's anyway.
var SystemNamespaces = []string{
	metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic, corev1.NamespaceNodeLease,
}

// TenantNamespaces are the namespaces every other tenant starts with.
var TenantNamespaces = []string{metav1.NamespaceDefault}

// NamespacesOf returns the namespaces tenant t starts with.
func NamespacesOf(t tenancy.Name) []string {
	if t == tenancy.System {
		return SystemNamespaces
	}
	return TenantNamespaces
}

var tenantsResource = tenancyv1.SchemeGroupVersion.WithResource("tenants")

// Controller bootstraps and finalizes tenants.
type Controller struct {
	clients *tenantclient.Factory
	tenants dynamic.ResourceInterface
}

// New returns a controller that talks to the server base addresses. base
// must be a system identity and carry no /tenants/ prefix.
func New(base *rest.Config) (*Controller, error) {
	clients, err := tenantclient.New(base)
	if err != nil {
		return nil, err
	}
	// Tenants are read and written through the plain dynamic client, so
	// that this package needs neither the server's scheme nor a generated
	// clientset.
	system, err := clients.Dynamic(tenancy.System)
	if err != nil {
		return nil, err
	}
	return &Controller{clients: clients, tenants: system.Resource(tenantsResource)}, nil
}

// Run reconciles tenants with the given number of workers until ctx ends. It
// may be called once.
func (c *Controller) Run(ctx context.Context, workers int) {
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return c.tenants.List(ctx, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			return c.tenants.Watch(ctx, opts)
		},
	}
	runner.Run(ctx, runner.Config{
		Name:          "tenant-controller",
		ListerWatcher: lw,
		ObjectType:    &unstructured.Unstructured{},
		// Tenants all live in the system tenant, so their names are unique.
		Key:       cache.MetaNamespaceKeyFunc,
		Reconcile: c.reconcile,
		Workers:   workers,
		Resync:    resync,
	})
}

func (c *Controller) reconcile(ctx context.Context, name string) error {
	u, err := c.tenants.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("getting tenant: %w", err)
	}
	t, err := fromUnstructured(u)
	if err != nil {
		return err
	}
	if t.DeletionTimestamp != nil {
		return c.finalize(ctx, t)
	}
	return c.bootstrap(ctx, t)
}

// bootstrap creates what the tenant is missing of its system namespaces and
// default RBAC, once per generation of the tenant. Objects that exist are
// left as they are, and so are defaults a tenant's admins deleted later;
// re-creating them at every resync would also cost a region of many tenants
// thousands of writes.
func (c *Controller) bootstrap(ctx context.Context, t *tenancyv1.Tenant) error {
	if ready := meta.FindStatusCondition(t.Status.Conditions, ConditionReady); ready != nil &&
		ready.Status == metav1.ConditionTrue && ready.ObservedGeneration == t.Generation {
		return nil
	}
	client, err := c.clients.Kubernetes(tenancy.Name(t.Name))
	if err != nil {
		return err
	}
	var errs []error
	created := func(what string, err error) {
		if err != nil && !apierrors.IsAlreadyExists(err) {
			errs = append(errs, fmt.Errorf("creating %s: %w", what, err))
		}
	}
	for _, name := range NamespacesOf(tenancy.Name(t.Name)) {
		_, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		created("namespace "+name, err)
	}
	// The ClusterRoles it binds are built into the authorizer, not stored.
	for _, binding := range rbac.BootstrapClusterRoleBindings(tenancy.Name(t.Name)) {
		_, err := client.RbacV1().ClusterRoleBindings().Create(ctx, &binding, metav1.CreateOptions{})
		created("clusterrolebinding "+binding.Name, err)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	if !meta.SetStatusCondition(&t.Status.Conditions, metav1.Condition{
		Type: ConditionReady, Status: metav1.ConditionTrue, Reason: ReasonBootstrapped,
		Message: "Default namespaces and the tenant admins binding exist", ObservedGeneration: t.Generation,
	}) {
		return nil
	}
	if _, err := c.updateStatus(ctx, t); err != nil {
		return err
	}
	klog.FromContext(ctx).V(2).Info("Tenant bootstrapped")
	return nil
}

// finalize empties a deleted tenant: namespaces first, through the namespace
// lifecycle, then its tenant-wide objects. Only when every list the tenant
// serves is empty does it release the tenant's finalizer.
func (c *Controller) finalize(ctx context.Context, t *tenancyv1.Tenant) error {
	logger := klog.FromContext(ctx)
	if t.Name == string(tenancy.System) {
		// Emptying it would take the region's nodes' leases, its
		// components' RBAC and more with it.
		logger.Error(nil, "The system tenant is marked for deletion; it is never emptied")
		return nil
	}
	if !slices.Contains(t.Finalizers, tenancyv1.TenantFinalizer) {
		return nil
	}
	if t.Status.Phase != tenancyv1.TenantTerminating {
		t.Status.Phase = tenancyv1.TenantTerminating
		meta.SetStatusCondition(&t.Status.Conditions, metav1.Condition{
			Type: ConditionReady, Status: metav1.ConditionFalse, Reason: ReasonTerminating,
			Message: "The tenant is being deleted", ObservedGeneration: t.Generation,
		})
		var err error
		if t, err = c.updateStatus(ctx, t); err != nil {
			return err
		}
		logger.V(2).Info("Tenant terminating")
	}

	name := tenancy.Name(t.Name)
	client, err := c.clients.Kubernetes(name)
	if err != nil {
		return err
	}
	if n, err := deleteNamespaces(ctx, client); err != nil {
		return err
	} else if n > 0 {
		return fmt.Errorf("%d namespaces remain: %w", n, runner.ErrWaiting)
	}

	dyn, err := c.clients.Dynamic(name)
	if err != nil {
		return err
	}
	disc, err := c.clients.Discovery(name)
	if err != nil {
		return err
	}
	resources, err := content.Discover(ctx, disc)
	if err != nil {
		return err
	}
	if err := content.Delete(ctx, dyn, tenantWide(resources), metav1.NamespaceNone); err != nil {
		return err
	}
	remaining, err := content.Remaining(ctx, dyn, resources, metav1.NamespaceAll)
	if err != nil {
		return err
	}
	if len(remaining) > 0 {
		return fmt.Errorf("content remains: %s: %w", remaining, runner.ErrWaiting)
	}

	t.Finalizers = withoutFinalizer(t.Finalizers, tenancyv1.TenantFinalizer)
	u, err := toUnstructured(t)
	if err != nil {
		return err
	}
	if _, err := c.tenants.Update(ctx, u, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("removing finalizer %q: %w", tenancyv1.TenantFinalizer, err)
	}
	logger.Info("Tenant emptied and released")
	return nil
}

// deleteNamespaces deletes every namespace of the tenant client addresses and
// returns how many still exist. Each is deleted on its own, so that it goes
// Terminating and the namespace controller empties it.
func deleteNamespaces(ctx context.Context, client kubernetes.Interface) (int, error) {
	list, err := client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, fmt.Errorf("listing namespaces: %w", err)
	}
	background := metav1.DeletePropagationBackground
	var errs []error
	for _, ns := range list.Items {
		if ns.DeletionTimestamp != nil {
			continue
		}
		err := client.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{
			PropagationPolicy: &background,
			Preconditions:     &metav1.Preconditions{UID: &ns.UID},
		})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			errs = append(errs, fmt.Errorf("deleting namespace %s: %w", ns.Name, err))
		}
	}
	return len(list.Items), errors.Join(errs...)
}

// namespacesResource is emptied through the namespace lifecycle, never by
// deleting namespace objects in bulk.
var namespacesResource = corev1.SchemeGroupVersion.WithResource("namespaces").GroupResource()

// tenantWide returns the resources of rs whose objects belong to the tenant
// as a whole rather than to a namespace, without namespaces themselves.
func tenantWide(rs []content.Resource) []content.Resource {
	return slices.DeleteFunc(content.Namespaced(rs, false), func(r content.Resource) bool {
		return r.GroupResource() == namespacesResource
	})
}

func (c *Controller) updateStatus(ctx context.Context, t *tenancyv1.Tenant) (*tenancyv1.Tenant, error) {
	u, err := toUnstructured(t)
	if err != nil {
		return nil, err
	}
	stored, err := c.tenants.UpdateStatus(ctx, u, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("updating tenant status: %w", err)
	}
	return fromUnstructured(stored)
}

func fromUnstructured(u *unstructured.Unstructured) (*tenancyv1.Tenant, error) {
	t := &tenancyv1.Tenant{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, t); err != nil {
		return nil, fmt.Errorf("decoding tenant %s: %w", u.GetName(), err)
	}
	return t, nil
}

func toUnstructured(t *tenancyv1.Tenant) (*unstructured.Unstructured, error) {
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(t)
	if err != nil {
		return nil, fmt.Errorf("encoding tenant %s: %w", t.Name, err)
	}
	u := &unstructured.Unstructured{Object: obj}
	u.SetGroupVersionKind(tenancyv1.SchemeGroupVersion.WithKind("Tenant"))
	return u, nil
}

// withoutFinalizer returns finalizers without f, in a new slice.
func withoutFinalizer(finalizers []string, f string) []string {
	return slices.DeleteFunc(slices.Clone(finalizers), func(x string) bool { return x == f })
}
