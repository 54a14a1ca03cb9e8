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

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime/vm/vmtest"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
	"github.com/arcturus-cloud/arcturus/test/framework"
)

const vmTimeout = 3 * time.Minute

// TestVirtualMachines runs a VM pod on a real node: QEMU boots a kernel and
// initrd with a cloud-init seed and a NIC on the pod network, its serial
// console is kubectl logs, powerState pauses, resumes and shuts it down,
// and deleting the pod leaves no QEMU behind.
func TestVirtualMachines(t *testing.T) {
	kernel := vmtest.Boot(t)
	c := newCluster(t)
	core, err := client.NewCore(c.server.TenantAdmin(t, tenant, "alice"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	manifest := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: tiny
spec:
  nodeName: %s
  restartPolicy: Always
  virtualMachine:
    kernel:
      kernel: %s
      initrd: %s
      args: %q
    resources:
      requests: {cpu: "1", memory: 256Mi}
    userData: "hello from user-data"
    publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2e0e2e test@arcturus"
`, nodeName, kernel.Kernel, kernel.Initrd, kernel.Args)
	path := filepath.Join(t.TempDir(), "tiny.yaml")
	if err := os.WriteFile(path, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c.kubectl(t, "apply", "-f", path)

	get := func(ctx context.Context) (*v1.Pod, error) {
		return core.GetPod(ctx, tenancy.Name(tenant), metav1.NamespaceDefault, "tiny")
	}
	waitVM := func(what string, ok func(*v1.Pod) error) *v1.Pod {
		t.Helper()
		var pod *v1.Pod
		framework.Eventually(t, vmTimeout, what, func(ctx context.Context) error {
			p, err := get(ctx)
			if err != nil {
				return err
			}
			pod = p
			return ok(p)
		})
		return pod
	}
	vmState := func(state v1.VirtualMachineState, power v1.VirtualMachinePowerState) func(*v1.Pod) error {
		return func(p *v1.Pod) error {
			vs := p.Status.VirtualMachineStatus
			if vs == nil || vs.State != state || vs.PowerState != power {
				return fmt.Errorf("phase %s, vm %+v", p.Status.Phase, vs)
			}
			return nil
		}
	}

	pod := waitVM("VM running", vmState(v1.VirtualMachineRunning, v1.PowerStateRunning))
	t.Logf("created to Running in %s", time.Since(start).Round(time.Millisecond))
	if pod.Status.Phase != corev1.PodRunning || pod.Status.PodIP == "" {
		t.Errorf("phase %s, pod IP %q", pod.Status.Phase, pod.Status.PodIP)
	}
	if vs := pod.Status.VirtualMachineStatus; vs.CPUs != 1 || vs.Accelerator == "" {
		t.Errorf("vm status %+v", vs)
	}

	framework.Eventually(t, vmTimeout, "the guest booted, reached its gateway and read its seed", func(context.Context) error {
		out, _, err := framework.Kubectl(t, c.kubeconfig, "logs", "tiny")
		if err != nil {
			return err
		}
		for _, want := range []string{vmtest.BootedMarker, vmtest.PingOKMarker, "hello from user-data", pod.Status.PodIP} {
			if !strings.Contains(out, want) {
				return fmt.Errorf("console lacks %q", want)
			}
		}
		return nil
	})

	// Containers and VMs share the pod network.
	pinger := busybox("pinger", corev1.RestartPolicyNever)
	pinger.Spec.Containers[0].Command = []string{"ping", "-c", "3", "-W", "2", pod.Status.PodIP}
	c.create(t, pinger)
	c.waitPod(t, "pinger", "Succeeded (a container reached the VM)", phase(corev1.PodSucceeded))

	setPower := func(state v1.VirtualMachinePowerState) {
		t.Helper()
		c.kubectl(t, "patch", "pod", "tiny", "--type=merge", "-p", fmt.Sprintf(`{"spec":{"virtualMachine":{"powerState":%q}}}`, state))
	}
	setPower(v1.PowerStatePaused)
	waitVM("VM paused", vmState(v1.VirtualMachinePaused, v1.PowerStatePaused))
	setPower(v1.PowerStateRunning)
	waitVM("VM resumed", vmState(v1.VirtualMachineRunning, v1.PowerStateRunning))
	setPower(v1.PowerStateShutdown)
	off := waitVM("VM shut down", vmState(v1.VirtualMachineStopped, v1.PowerStateShutdown))
	if off.Status.Phase != corev1.PodRunning {
		t.Errorf("a VM asked to shut down leaves its pod %s, want Running", off.Status.Phase)
	}

	c.kubectl(t, "delete", "pod", "tiny", "--grace-period=5")
	expectHostClean(t, pod.UID, pod.Status.PodIP)
	if _, err := get(ctx); err == nil {
		t.Error("pod still there after kubectl delete returned")
	}
	if entries, _ := os.ReadDir(filepath.Join(c.node.DataDir, "agent", "vms")); len(entries) > 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("VM state left after deletion: %v", names)
	}
}
