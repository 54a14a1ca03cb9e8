package integration

import (
	"context"
	"os"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"github.com/arcturus-cloud/arcturus/test/framework"
)

func TestMain(m *testing.M) { os.Exit(framework.Run(m)) }

func TestProbe(t *testing.T) {
	s := framework.StartServer(t)
	admin := framework.Clientset(t, s.AdminConfig())
	ns, err := admin.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{})
	t.Logf("system namespaces: %v %v", ns, err)
	acme := framework.Clientset(t, s.TenantConfig("acme", "alice", "arcturus:tenant-admins"))
	_, err = acme.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{})
	t.Logf("acme list ns: %v", err)
	s.CreateTenant(t, "acme")
}
