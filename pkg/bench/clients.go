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

package bench

import (
	"context"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"

	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
	"github.com/arcturus-cloud/arcturus/pkg/apiserver"
	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// connection is one HTTP transport, and so in practice one HTTP/2
// connection, shared by every client built on it.
type connection struct {
	config *rest.Config
	http   *http.Client
}

// newConnection returns a connection of its own for the identity of admin,
// named in its user agent, with client-side throttling set to qps and burst.
func newConnection(admin *rest.Config, name string, qps float32, burst int) (*connection, error) {
	cfg := rest.CopyConfig(admin)
	cfg.QPS, cfg.Burst = qps, burst
	cfg.UserAgent = "arcturus-bench/" + name
	hc, err := client.HTTPClients(cfg, 1)
	if err != nil {
		return nil, fmt.Errorf("transport for %s: %w", name, err)
	}
	return &connection{config: cfg, http: hc[0]}, nil
}

// core is a core/v1 client of tenant t over the connection.
func (c *connection) core(t tenancy.Name) (corev1client.CoreV1Interface, error) {
	client, err := corev1client.NewForConfigAndClient(tenancy.ConfigFor(c.config, t), c.http)
	if err != nil {
		return nil, fmt.Errorf("client of tenant %s: %w", t, err)
	}
	return client, nil
}

// close closes the connection once its requests are done.
func (c *connection) close() { c.http.CloseIdleConnections() }

// payload is the 16 bytes of data every ConfigMap carries.
const payload = "0123456789abcdef"

func createConfigMap(ctx context.Context, core corev1client.CoreV1Interface, namespace, name string) error {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Data:       map[string]string{"data": payload},
	}
	_, err := core.ConfigMaps(namespace).Create(ctx, cm, metav1.CreateOptions{})
	return err
}

// createPod creates a minimal valid pod. Nothing runs it.
func createPod(ctx context.Context, core corev1client.CoreV1Interface, namespace, name string) error {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
	_, err := core.Pods(namespace).Create(ctx, pod, metav1.CreateOptions{})
	return err
}

func createNamespace(ctx context.Context, core corev1client.CoreV1Interface, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := core.Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	return nil
}

func createTenant(ctx context.Context, client rest.Interface, name tenancy.Name) error {
	t := &tenancyv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: string(name)}}
	if err := client.Post().Resource("tenants").Body(t).Do(ctx).Error(); err != nil {
		return fmt.Errorf("creating tenant %s: %w", name, err)
	}
	return nil
}

// tenancyClient is a tenancy.arcturus.io client with the connection's
// throttling, on client-go's cached transport for the identity, as any
// client would be.
func (c *connection) tenancyClient() (rest.Interface, error) {
	return apiserver.TenancyClient(c.config)
}
