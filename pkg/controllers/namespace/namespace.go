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

// Package namespace is the namespace lifecycle controller. A deleted
// namespace stays Terminating while its spec.finalizers hold "kubernetes";
// this controller deletes everything in it, in every tenant, and then
// removes that finalizer so that the server deletes the namespace.
package namespace

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/content"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/runner"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/tenantclient"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// resync looks at every Terminating namespace again now and then, as the
// Kubernetes namespace controller does.
const resync = 5 * time.Minute

// Controller empties and finalizes deleted namespaces of every tenant.
type Controller struct {
	clients *tenantclient.Factory
	lw      cache.ListerWatcher
}

// New returns a controller that talks to the server base addresses. base
// must be a system identity and carry no /tenants/ prefix: the controller
// watches namespaces across all tenants and addresses each tenant itself.
func New(base *rest.Config) (*Controller, error) {
	clients, err := tenantclient.New(base)
	if err != nil {
		return nil, err
	}
	all, err := clients.Kubernetes(tenancy.Wildcard)
	if err != nil {
		return nil, err
	}
	return &Controller{
		clients: clients,
		lw:      cache.NewListWatchFromClient(all.CoreV1().RESTClient(), "namespaces", metav1.NamespaceAll, fields.Everything()),
	}, nil
}

// Run reconciles namespaces with the given number of workers until ctx ends.
// It may be called once.
func (c *Controller) Run(ctx context.Context, workers int) {
	runner.Run(ctx, runner.Config{
		Name:          "namespace-controller",
		ListerWatcher: c.lw,
		ObjectType:    &corev1.Namespace{},
		Key:           key,
		// Deletion is never undone, so a namespace seen without it needs
		// nothing until an update with it arrives.
		Filter: func(obj any) bool {
			m, err := meta.Accessor(obj)
			return err == nil && m.GetDeletionTimestamp() != nil
		},
		Reconcile: c.reconcile,
		Workers:   workers,
		Resync:    resync,
	})
}

// key is the queue key of a namespace: "<tenant>/<name>". Names alone would
// collide across tenants.
func key(obj any) (string, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return "", fmt.Errorf("keying namespace: %w", err)
	}
	t := tenancy.OfObject(m.GetAnnotations())
	if t == "" {
		return "", fmt.Errorf("namespace %q has no %s annotation", m.GetName(), tenancy.Annotation)
	}
	return string(t) + "/" + m.GetName(), nil
}

func splitKey(key string) (tenancy.Name, string, error) {
	t, name, ok := strings.Cut(key, "/")
	if !ok || t == "" || name == "" {
		return "", "", fmt.Errorf("malformed namespace key %q", key)
	}
	return tenancy.Name(t), name, nil
}

func (c *Controller) reconcile(ctx context.Context, key string) error {
	tenant, name, err := splitKey(key)
	if err != nil {
		return err
	}
	client, err := c.clients.Kubernetes(tenant)
	if err != nil {
		return err
	}
	// The live object, not the watched one: a namespace deleted and made
	// again under the same name must not lose its new contents.
	ns, err := client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("getting namespace: %w", err)
	}
	if ns.DeletionTimestamp == nil || !slices.Contains(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
		return nil
	}

	remaining, err := c.deleteContent(ctx, client, tenant, ns)
	if err != nil {
		return err
	}
	if len(remaining) > 0 {
		return fmt.Errorf("content remains: %s: %w", remaining, runner.ErrWaiting)
	}

	ns.Spec.Finalizers = withoutFinalizer(ns.Spec.Finalizers, corev1.FinalizerKubernetes)
	if _, err := client.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("removing finalizer %q: %w", corev1.FinalizerKubernetes, err)
	}
	klog.FromContext(ctx).V(2).Info("Namespace emptied and finalized")
	return nil
}

// deleteContent deletes every object in ns, reports how it went in the
// namespace's conditions, and returns what is still there. It updates ns in
// place to the stored version after the condition update.
func (c *Controller) deleteContent(ctx context.Context, client kubernetes.Interface, tenant tenancy.Name, ns *corev1.Namespace) (content.Counts, error) {
	dyn, err := c.clients.Dynamic(tenant)
	if err != nil {
		return nil, err
	}
	disc, err := c.clients.Discovery(tenant)
	if err != nil {
		return nil, err
	}
	// Discovery may fail for some groups only: delete what is known, but
	// finalize only once it succeeds for all.
	resources, discoverErr := content.Discover(ctx, disc)
	resources = content.Namespaced(resources, true)
	deleteErr := content.Delete(ctx, dyn, resources, ns.Name)
	remaining, listErr := content.Remaining(ctx, dyn, resources, ns.Name)
	statusErr := updateConditions(ctx, client, ns, conditions(discoverErr, deleteErr, remaining))
	if err := errors.Join(discoverErr, deleteErr, listErr, statusErr); err != nil {
		return nil, err
	}
	return remaining, nil
}

// conditions are the deletion conditions Kubernetes' namespace controller
// reports, with its reasons, so that kubectl describe explains a namespace
// stuck in Terminating.
func conditions(discoverErr, deleteErr error, remaining content.Counts) []corev1.NamespaceCondition {
	discovery := corev1.NamespaceCondition{Type: corev1.NamespaceDeletionDiscoveryFailure, Status: corev1.ConditionFalse,
		Reason: "ResourcesDiscovered", Message: "All resources successfully discovered"}
	if discoverErr != nil {
		discovery.Status, discovery.Reason, discovery.Message = corev1.ConditionTrue, "DiscoveryFailed", discoverErr.Error()
	}
	deletion := corev1.NamespaceCondition{Type: corev1.NamespaceDeletionContentFailure, Status: corev1.ConditionFalse,
		Reason: "ContentDeleted", Message: "All content successfully deleted, may be waiting on finalization"}
	if deleteErr != nil {
		deletion.Status, deletion.Reason, deletion.Message = corev1.ConditionTrue, "ContentDeletionFailed", deleteErr.Error()
	}
	left := corev1.NamespaceCondition{Type: corev1.NamespaceContentRemaining, Status: corev1.ConditionFalse,
		Reason: "ContentRemoved", Message: "All content successfully removed"}
	if len(remaining) > 0 {
		left.Status, left.Reason, left.Message = corev1.ConditionTrue, "SomeResourcesRemain", "Some resources are remaining: "+remaining.String()
	}
	return []corev1.NamespaceCondition{discovery, deletion, left}
}

// updateConditions writes conds to the namespace's status if they differ
// from what it has, and leaves ns as stored.
func updateConditions(ctx context.Context, client kubernetes.Interface, ns *corev1.Namespace, conds []corev1.NamespaceCondition) error {
	updated := ns.DeepCopy()
	if !setConditions(&updated.Status, conds, metav1.Now()) {
		return nil
	}
	stored, err := client.CoreV1().Namespaces().UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("updating namespace conditions: %w", err)
	}
	*ns = *stored
	return nil
}

// setConditions merges conds into status by type. A condition whose status
// changes gets the transition time now; the others keep theirs. It reports
// whether anything changed.
func setConditions(status *corev1.NamespaceStatus, conds []corev1.NamespaceCondition, now metav1.Time) bool {
	changed := false
	for _, c := range conds {
		i := slices.IndexFunc(status.Conditions, func(x corev1.NamespaceCondition) bool { return x.Type == c.Type })
		if i < 0 {
			c.LastTransitionTime = now
			status.Conditions = append(status.Conditions, c)
			changed = true
			continue
		}
		old := &status.Conditions[i]
		if old.Status == c.Status && old.Reason == c.Reason && old.Message == c.Message {
			continue
		}
		c.LastTransitionTime = old.LastTransitionTime
		if old.Status != c.Status {
			c.LastTransitionTime = now
		}
		*old = c
		changed = true
	}
	return changed
}

// withoutFinalizer returns finalizers without f, in a new slice.
func withoutFinalizer(finalizers []corev1.FinalizerName, f corev1.FinalizerName) []corev1.FinalizerName {
	return slices.DeleteFunc(slices.Clone(finalizers), func(x corev1.FinalizerName) bool { return x == f })
}
