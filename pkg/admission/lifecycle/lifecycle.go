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

// Package lifecycle is the admission plugin that keeps objects out of
// namespaces and tenants that do not exist or are going away: Kubernetes'
// NamespaceLifecycle, made tenant-aware, plus the same rule for tenants.
package lifecycle

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/admission"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// PluginName names the plugin in admission metrics.
const PluginName = "TenantNamespaceLifecycle"

// immortalNamespaces cannot be deleted while their tenant lives.
var immortalNamespaces = map[string]bool{
	metav1.NamespaceDefault: true, metav1.NamespaceSystem: true, metav1.NamespacePublic: true,
}

// Lifecycle refuses new objects in missing or terminating namespaces and
// tenants, and deletion of the namespaces every tenant keeps.
type Lifecycle struct {
	*admission.Handler
	namespaces NamespaceLookup
	tenants    tenancy.Lookup
}

// NamespaceLookup tells whether a namespace of the tenant of ctx exists and
// whether it is terminating.
type NamespaceLookup func(ctx context.Context, name string) (exists, terminating bool, err error)

var _ admission.ValidationInterface = &Lifecycle{}

// New returns the plugin.
func New(namespaces NamespaceLookup, tenants tenancy.Lookup) *Lifecycle {
	return &Lifecycle{
		Handler:    admission.NewHandler(admission.Create, admission.Delete),
		namespaces: namespaces,
		tenants:    tenants,
	}
}

func (l *Lifecycle) Validate(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	// Subresources (a binding, a status) act on objects already admitted.
	if a.GetSubresource() != "" {
		return nil
	}
	t, _ := tenancy.From(ctx)
	terminating, err := l.tenantTerminating(ctx, t)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	isNamespace := a.GetResource().GroupResource() == corev1.Resource("namespaces")
	if a.GetOperation() == admission.Delete {
		if isNamespace && immortalNamespaces[a.GetName()] && !terminating {
			return apierrors.NewForbidden(a.GetResource().GroupResource(), a.GetName(), fmt.Errorf("this namespace may not be deleted"))
		}
		return nil
	}
	if terminating {
		return admission.NewForbidden(a, fmt.Errorf("unable to create new content in tenant %s because it is being terminated", t))
	}
	if isNamespace || a.GetNamespace() == "" {
		return nil
	}
	exists, terminating, err := l.namespaces(ctx, a.GetNamespace())
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("looking up namespace %s: %w", a.GetNamespace(), err))
	}
	if !exists {
		return apierrors.NewNotFound(corev1.Resource("namespaces"), a.GetNamespace())
	}
	if terminating {
		return admission.NewForbidden(a, fmt.Errorf("unable to create new content in namespace %s because it is being terminated", a.GetNamespace()))
	}
	return nil
}

func (l *Lifecycle) tenantTerminating(ctx context.Context, t tenancy.Name) (bool, error) {
	if t == "" || t == tenancy.System || t.IsWildcard() {
		return false, nil
	}
	_, terminating, err := l.tenants(ctx, t)
	if err != nil {
		return false, fmt.Errorf("looking up tenant %s: %w", t, err)
	}
	return terminating, nil
}
