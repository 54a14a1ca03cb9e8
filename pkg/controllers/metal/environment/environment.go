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

// Package environment is the controller of Environments: it fetches and
// verifies their kernels and initrds, and says whether they are Ready.
package environment

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
	"github.com/arcturus-cloud/arcturus/pkg/metal/assets"
)

// recheck is how often a Ready environment's files are checked again, so
// that a deleted or replaced file shows.
const recheck = 5 * time.Minute

// Reconciler reconciles Environments.
type Reconciler struct {
	Client client.Client
	Assets *assets.Store
}

// SetupWithManager registers the controller.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).Named("metal-environment").For(&metalv1alpha1.Environment{}).Complete(r)
}

// Reconcile makes one environment's files ready.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var env metalv1alpha1.Environment
	if err := r.Client.Get(ctx, req.NamespacedName, &env); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	files := map[string]metalv1alpha1.Asset{"kernel": env.Spec.Kernel}
	if env.Spec.Initrd != nil {
		files["initrd"] = *env.Spec.Initrd
	}
	cond := metav1.Condition{Type: "Ready", Status: metav1.ConditionTrue, Reason: "AssetsReady",
		Message: "the kernel and initrd are fetched and verified", ObservedGeneration: env.Generation}
	var failed error
	for name, a := range files {
		if _, err := r.Assets.Path(ctx, a); err != nil {
			failed = fmt.Errorf("%s: %w", name, err)
			cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, "AssetUnavailable", failed.Error()
			break
		}
	}
	before := env.DeepCopy()
	if meta.SetStatusCondition(&env.Status.Conditions, cond) {
		if err := r.Client.Status().Patch(ctx, &env, client.MergeFrom(before)); err != nil {
			return ctrl.Result{}, fmt.Errorf("writing the status of environment %s: %w", env.Name, err)
		}
	}
	if failed != nil {
		return ctrl.Result{}, fmt.Errorf("environment %s: %w", env.Name, failed)
	}
	return ctrl.Result{RequeueAfter: recheck}, nil
}
