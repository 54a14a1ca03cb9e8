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

package framework

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// TenantReadyTimeout bounds how long the tenant controller may take to
// create a new tenant's default namespace.
const TenantReadyTimeout = 30 * time.Second

// ConfigFor returns a copy of cfg that addresses tenant explicitly: its
// requests go to /tenants/<tenant>/... Tenant "*" addresses every tenant.
func ConfigFor(cfg *rest.Config, tenant string) *rest.Config {
	return tenancy.ConfigFor(cfg, tenancy.Name(tenant))
}

// Dynamic returns a dynamic client for cfg.
func Dynamic(t testing.TB, cfg *rest.Config) *dynamic.DynamicClient {
	t.Helper()
	c, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("dynamic client for %s: %v", cfg.Host, err)
	}
	return c
}

// Clientset returns a typed client for cfg.
func Clientset(t testing.TB, cfg *rest.Config) *kubernetes.Clientset {
	t.Helper()
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("client for %s: %v", cfg.Host, err)
	}
	return c
}

// KubeconfigFile writes cfg (server URL, CA and client certificate) as a
// kubeconfig file for kubectl and returns its path.
func KubeconfigFile(t testing.TB, cfg *rest.Config) string {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["arcturus"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["arcturus"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	kc.Contexts["arcturus"] = &clientcmdapi.Context{Cluster: "arcturus", AuthInfo: "arcturus", Namespace: "default"}
	kc.CurrentContext = "arcturus"
	data, err := clientcmd.Write(*kc)
	if err != nil {
		t.Fatalf("encoding kubeconfig: %v", err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("writing kubeconfig: %v", err)
	}
	return path
}

// CreateTenant creates tenant name as the system admin and waits until the
// tenant controller has created its default namespace.
func (s *Server) CreateTenant(t testing.TB, name string) {
	t.Helper()
	admin := s.AdminConfig()
	tenants := Dynamic(t, admin).Resource(tenancyv1.SchemeGroupVersion.WithResource("tenants"))
	tenant := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": tenancyv1.SchemeGroupVersion.String(),
		"kind":       "Tenant",
		"metadata":   map[string]any{"name": name},
	}}
	ctx := context.Background()
	if _, err := tenants.Create(ctx, tenant, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating tenant %s: %v", name, err)
	}
	waitForDefaultNamespace(t, ConfigFor(admin, name), "tenant "+name+" has its default namespace")
}

// TenantAdmin returns the configuration of user, an admin of tenant (a
// member of tenancy.AdminsGroup), once the tenant's RBAC lets it read the
// tenant's default namespace: the server learns of new RBAC objects through
// a cache, a moment after they are written.
func (s *Server) TenantAdmin(t testing.TB, tenant, user string) *rest.Config {
	t.Helper()
	cfg := s.TenantConfig(tenant, user, tenancy.AdminsGroup)
	waitForDefaultNamespace(t, cfg, "admin "+user+" of tenant "+tenant+" may read its default namespace")
	return cfg
}

// waitForDefaultNamespace waits until cfg can read the default namespace.
func waitForDefaultNamespace(t testing.TB, cfg *rest.Config, what string) {
	t.Helper()
	namespaces := Clientset(t, cfg).CoreV1().Namespaces()
	Eventually(t, TenantReadyTimeout, what, func(ctx context.Context) error {
		_, err := namespaces.Get(ctx, metav1.NamespaceDefault, metav1.GetOptions{})
		return err
	})
}
