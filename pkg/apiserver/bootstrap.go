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

package apiserver

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/tenant"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// ensureSystemTenant creates the Tenant object of the system tenant, so that
// it is listed like any other and its space is bootstrapped the same way,
// and the system namespaces at once, as kube-apiserver does: the Leases
// through which controllers and schedulers elect a leader live in
// kube-system, and the controllers that would otherwise create it wait for
// a leader.
func ensureSystemTenant(ctx context.Context, loopback *rest.Config) error {
	client, err := TenancyClient(loopback)
	if err != nil {
		return err
	}
	core, err := kubernetes.NewForConfig(loopback)
	if err != nil {
		return fmt.Errorf("core client: %w", err)
	}
	system := &tenancyv1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Name: string(tenancy.System)},
		Spec:       tenancyv1.TenantSpec{DisplayName: "System"},
	}
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		err := client.Post().Resource("tenants").Body(system).Do(ctx).Error()
		if err != nil && !apierrors.IsAlreadyExists(err) {
			// The server may not serve the group yet.
			return false, nil
		}
		for _, name := range tenant.SystemNamespaces {
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
			if _, err := core.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return false, nil
			}
		}
		return true, nil
	})
}

// TenancyClient returns a REST client for tenancy.arcturus.io/v1.
func TenancyClient(config *rest.Config) (*rest.RESTClient, error) {
	cfg := rest.CopyConfig(config)
	cfg.GroupVersion = &tenancyv1.SchemeGroupVersion
	cfg.APIPath = "/apis"
	cfg.NegotiatedSerializer = Codecs.WithoutConversion()
	cfg.ContentType = runtime.ContentTypeJSON
	client, err := rest.RESTClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("tenancy client: %w", err)
	}
	return client, nil
}
