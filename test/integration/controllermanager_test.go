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

package integration

import (
	"context"
	"os/exec"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arcturus-cloud/arcturus/test/framework"
)

// TestControllerManagerFailover runs the controllers as two
// `arcturus controller-manager` processes beside a server that runs none,
// kills the leader, and expects the standby to do the work (here: bootstrap
// a new tenant) within 15 seconds.
func TestControllerManagerFailover(t *testing.T) {
	s := framework.StartServer(t, framework.WithoutControllers())
	args := []string{"controller-manager", "--kubeconfig", s.AdminKubeconfigPath(), "--health-address", ""}
	start := func() *exec.Cmd {
		cmd := framework.Command(context.Background(), t, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	leader := start()
	defer func() { _ = leader.Process.Kill(); _ = leader.Wait() }()
	// The leader works: a tenant gets its default namespace.
	s.CreateTenant(t, acme)

	standby := start()
	defer func() { _ = standby.Process.Signal(syscall.SIGTERM); _ = standby.Wait() }()
	admin := typed(t, s.AdminConfig())
	framework.Eventually(t, schedulingTimeout, "the standby following", func(ctx context.Context) error {
		_, err := admin.CoordinationV1().Leases(metav1.NamespaceSystem).Get(ctx, "arcturus-controller-manager", metav1.GetOptions{})
		return err
	})
	time.Sleep(2 * time.Second)

	if err := leader.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	s.CreateTenant(t, beta)
	took := time.Since(killed)
	t.Logf("the standby bootstrapped a tenant %v after the leader was killed", took.Round(100*time.Millisecond))
	if took > 15*time.Second {
		t.Errorf("failover took %v, want at most 15s", took)
	}
}
