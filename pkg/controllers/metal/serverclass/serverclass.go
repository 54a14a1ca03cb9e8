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

// Package serverclass is the controller of ServerClasses: it lists the
// servers of each class, available and in use.
package serverclass

import (
	"context"
	"fmt"
	"path"
	"slices"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
)

// Reconciler reconciles ServerClasses.
type Reconciler struct {
	Client client.Client
}

// SetupWithManager registers the controller: every class is looked at
// again when any server changes.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("metal-serverclass").
		For(&metalv1alpha1.ServerClass{}).
		Watches(&metalv1alpha1.Server{}, handler.EnqueueRequestsFromMapFunc(r.allClasses)).
		Complete(r)
}

func (r *Reconciler) allClasses(ctx context.Context, _ client.Object) []reconcile.Request {
	var classes metalv1alpha1.ServerClassList
	if err := r.Client.List(ctx, &classes); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(classes.Items))
	for _, c := range classes.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKey{Name: c.Name}})
	}
	return reqs
}

// Reconcile lists the servers of one class.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var class metalv1alpha1.ServerClass
	if err := r.Client.Get(ctx, req.NamespacedName, &class); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	var servers metalv1alpha1.ServerList
	if err := r.Client.List(ctx, &servers); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing servers: %w", err)
	}
	status := metalv1alpha1.ServerClassStatus{}
	for i := range servers.Items {
		s := &servers.Items[i]
		ok, err := Qualifies(&class, s)
		if err != nil {
			return ctrl.Result{}, fmt.Errorf("server class %s: %w", class.Name, err)
		}
		switch {
		case !ok:
		case s.Status.InUse:
			status.InUse = append(status.InUse, s.Name)
		case s.Status.Ready:
			status.Available = append(status.Available, s.Name)
		}
	}
	slices.Sort(status.Available)
	slices.Sort(status.InUse)
	if apiequality.Semantic.DeepEqual(class.Status, status) {
		return ctrl.Result{}, nil
	}
	before := class.DeepCopy()
	class.Status = status
	if err := r.Client.Status().Patch(ctx, &class, client.MergeFrom(before)); err != nil {
		return ctrl.Result{}, fmt.Errorf("writing the status of server class %s: %w", class.Name, err)
	}
	return ctrl.Result{}, nil
}

// Qualifies is whether server s belongs to class c: its labels match the
// class's selector and its hardware meets one of its qualifiers. A server
// whose hardware is unknown meets only a class without qualifiers.
func Qualifies(c *metalv1alpha1.ServerClass, s *metalv1alpha1.Server) (bool, error) {
	if c.Spec.Selector != nil {
		sel, err := metav1.LabelSelectorAsSelector(c.Spec.Selector)
		if err != nil {
			return false, fmt.Errorf("selector: %w", err)
		}
		if !sel.Matches(labels.Set(s.Labels)) {
			return false, nil
		}
	}
	if len(c.Spec.Qualifiers) == 0 {
		return true, nil
	}
	if s.Spec.Hardware == nil {
		return false, nil
	}
	for i := range c.Spec.Qualifiers {
		if meets(&c.Spec.Qualifiers[i], s.Spec.Hardware) {
			return true, nil
		}
	}
	return false, nil
}

func meets(q *metalv1alpha1.HardwareQualifier, h *metalv1alpha1.Hardware) bool {
	match := func(pattern, value string) bool {
		if pattern == "" {
			return true
		}
		ok, _ := path.Match(pattern, value)
		return ok
	}
	if !match(q.SystemManufacturer, h.System.Manufacturer) || !match(q.SystemProductName, h.System.ProductName) {
		return false
	}
	if q.ProcessorProductName != "" && !slices.ContainsFunc(h.Compute.Processors, func(p metalv1alpha1.Processor) bool {
		return match(q.ProcessorProductName, p.ProductName)
	}) {
		return false
	}
	threads := h.Compute.TotalThreadCount
	if threads < q.MinThreads || (q.MaxThreads > 0 && threads > q.MaxThreads) {
		return false
	}
	if q.MinMemory != nil && h.Memory.Total.Cmp(*q.MinMemory) < 0 {
		return false
	}
	if q.MaxMemory != nil && h.Memory.Total.Cmp(*q.MaxMemory) > 0 {
		return false
	}
	if q.MinDiskSize != nil && !slices.ContainsFunc(h.Storage.Disks, func(d metalv1alpha1.Disk) bool {
		return d.Size.Cmp(*q.MinDiskSize) >= 0
	}) {
		return false
	}
	return true
}
