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

// Package server is the controller of bare-metal Servers: it keeps their
// power, their readiness and their binding's status where the lifecycle
// says they should be, and decommissions deleted servers.
package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
	"github.com/arcturus-cloud/arcturus/pkg/metal/inventory"
	"github.com/arcturus-cloud/arcturus/pkg/metal/lifecycle"
	"github.com/arcturus-cloud/arcturus/pkg/metal/power"
)

// PowerPoll is how often a server's power state is read from its BMC.
const PowerPoll = 30 * time.Second

// DriverFor returns the power driver of server s.
type DriverFor func(ctx context.Context, s *metalv1alpha1.Server) (power.Driver, error)

// Reconciler reconciles Servers.
type Reconciler struct {
	Client   client.Client
	Recorder record.EventRecorder
	Drivers  DriverFor
	Timing   lifecycle.Timing
	Now      func() time.Time
}

// SetupWithManager registers the controller: servers, and the binding
// named after each.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("metal-server").
		For(&metalv1alpha1.Server{}).
		Watches(&metalv1alpha1.ServerBinding{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
			return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: obj.GetName()}}}
		})).
		Complete(r)
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile moves one server a step along its lifecycle.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var s metalv1alpha1.Server
	if err := r.Client.Get(ctx, req.NamespacedName, &s); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	binding, err := inventory.Binding(ctx, r.Client, s.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	if s.DeletionTimestamp != nil {
		return r.decommission(ctx, &s, binding)
	}
	before := s.DeepCopy()

	driver, bmcErr := r.driver(ctx, &s)
	if driver != nil {
		state, err := driver.State(ctx)
		bmcErr = err
		if err == nil {
			s.Status.Power = metalv1alpha1.PowerState(state)
		}
	}
	lifecycle.Derive(&s, binding != nil)
	plan := lifecycle.Plan(&s, binding != nil, r.now(), r.Timing)
	if plan.Op != lifecycle.PowerNone && bmcErr == nil && driver != nil {
		bmcErr = r.act(ctx, &s, driver, plan)
	}
	setBMCCondition(&s, bmcErr, r.now())
	if err := r.writeStatus(ctx, before, &s); err != nil {
		return ctrl.Result{}, err
	}
	if binding != nil {
		if err := r.updateBinding(ctx, binding, &s); err != nil {
			return ctrl.Result{}, err
		}
	}
	if bmcErr != nil {
		// Retried with back-off by the workqueue.
		return ctrl.Result{}, fmt.Errorf("server %s: %w", s.Name, bmcErr)
	}
	if s.Spec.BMC == nil {
		return ctrl.Result{}, nil
	}
	wait := PowerPoll
	if plan.Wait > 0 && plan.Wait < wait {
		wait = plan.Wait
	}
	return ctrl.Result{RequeueAfter: wait}, nil
}

// driver returns the power driver of s, nil when it has no BMC.
func (r *Reconciler) driver(ctx context.Context, s *metalv1alpha1.Server) (power.Driver, error) {
	if s.Spec.BMC == nil {
		s.Status.Power = metalv1alpha1.PowerUnknown
		return nil, nil
	}
	d, err := r.Drivers(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("BMC: %w", err)
	}
	return d, nil
}

// act carries out plan and records it.
func (r *Reconciler) act(ctx context.Context, s *metalv1alpha1.Server, d power.Driver, plan lifecycle.PowerPlan) error {
	logger := klog.FromContext(ctx).WithValues("server", s.Name, "action", plan.Op, "pxe", plan.PXE, "reason", plan.Reason)
	if plan.PXE {
		if err := d.PXEOnce(ctx); err != nil {
			return fmt.Errorf("setting a network boot: %w", err)
		}
	}
	var err error
	switch plan.Op {
	case lifecycle.PowerOn:
		err = d.On(ctx)
	case lifecycle.PowerOff:
		err = d.Off(ctx)
	case lifecycle.PowerCycle:
		err = d.Cycle(ctx)
	}
	powerActions.WithLabelValues(string(plan.Op), outcome(err)).Inc()
	if err != nil {
		logger.Error(err, "Power action failed")
		r.Recorder.Eventf(s, corev1.EventTypeWarning, "PowerFailed", "Power %s (%s) failed: %v", plan.Op, plan.Reason, err)
		return fmt.Errorf("power %s: %w", plan.Op, err)
	}
	logger.Info("Power action")
	r.Recorder.Eventf(s, corev1.EventTypeNormal, "Power"+string(plan.Op), "Power %s: %s", plan.Op, plan.Reason)
	s.Status.LastPowerAction = &metalv1alpha1.PowerAction{Action: string(plan.Op), PXE: plan.PXE, Reason: plan.Reason, Time: metav1.NewTime(r.now())}
	if plan.Op == lifecycle.PowerOff {
		s.Status.Power = metalv1alpha1.PowerOff
	} else {
		s.Status.Power = metalv1alpha1.PowerOn
	}
	return nil
}

func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, power.ErrUnreachable):
		return "unreachable"
	}
	return "error"
}

func setBMCCondition(s *metalv1alpha1.Server, err error, now time.Time) {
	if s.Spec.BMC == nil {
		meta.RemoveStatusCondition(&s.Status.Conditions, metalv1alpha1.ServerBMCReachable)
		return
	}
	c := metav1.Condition{Type: metalv1alpha1.ServerBMCReachable, Status: metav1.ConditionTrue, Reason: "Reachable",
		Message: "the BMC answered", LastTransitionTime: metav1.NewTime(now), ObservedGeneration: s.Generation}
	if err != nil {
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, "Error", err.Error()
		if errors.Is(err, power.ErrUnreachable) {
			c.Reason = "Unreachable"
		}
		s.Status.Power = metalv1alpha1.PowerUnknown
	}
	meta.SetStatusCondition(&s.Status.Conditions, c)
}

func (r *Reconciler) writeStatus(ctx context.Context, before, s *metalv1alpha1.Server) error {
	if apiequality.Semantic.DeepEqual(before.Status, s.Status) {
		return nil
	}
	if err := r.Client.Status().Patch(ctx, s, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("writing the status of server %s: %w", s.Name, err)
	}
	return nil
}

// updateBinding marks the binding Ready once its server booted its
// Environment.
func (r *Reconciler) updateBinding(ctx context.Context, b *metalv1alpha1.ServerBinding, s *metalv1alpha1.Server) error {
	c := metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "Booting",
		Message: "the server has not fetched its Environment's boot script yet", LastTransitionTime: metav1.NewTime(r.now())}
	if lifecycle.EnvironmentBooted(s) {
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, "EnvironmentBooted", "the server booted its Environment"
	}
	before := b.DeepCopy()
	if !meta.SetStatusCondition(&b.Status.Conditions, c) {
		return nil
	}
	if err := r.Client.Status().Patch(ctx, b, client.MergeFrom(before)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("writing the status of binding %s: %w", b.Name, err)
	}
	return nil
}

// decommission releases a deleted server, powers it off and lets it go.
func (r *Reconciler) decommission(ctx context.Context, s *metalv1alpha1.Server, b *metalv1alpha1.ServerBinding) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(s, metalv1alpha1.ServerFinalizer) {
		return ctrl.Result{}, nil
	}
	if b != nil {
		if err := r.Client.Delete(ctx, b); err != nil && !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("releasing decommissioned server %s: %w", s.Name, err)
		}
	}
	driver, err := r.driver(ctx, s)
	if err == nil && driver != nil {
		err = driver.Off(ctx)
		powerActions.WithLabelValues(string(lifecycle.PowerOff), outcome(err)).Inc()
	}
	if err != nil {
		r.Recorder.Eventf(s, corev1.EventTypeWarning, "DecommissionFailed", "Powering the server off failed: %v", err)
		return ctrl.Result{}, fmt.Errorf("decommissioning server %s: %w", s.Name, err)
	}
	before := s.DeepCopy()
	controllerutil.RemoveFinalizer(s, metalv1alpha1.ServerFinalizer)
	if err := r.Client.Patch(ctx, s, client.MergeFrom(before)); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	klog.FromContext(ctx).Info("Server decommissioned", "server", s.Name)
	return ctrl.Result{}, nil
}
