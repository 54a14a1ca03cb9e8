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
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/utils/ptr"

	"github.com/arcturus-cloud/arcturus/pkg/agent"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
	"github.com/arcturus-cloud/arcturus/test/framework"
)

const agentTimeout = 30 * time.Second

func simulatedAgent(nodes int) *agent.Options {
	o := agent.NewOptions()
	o.Simulate = nodes
	o.SimulateCPU = resource.QuantityValue{Quantity: resource.MustParse("4")}
	o.HealthAddress = ""
	return o
}

// TestSimulatedNodes runs an agent with simulated nodes and checks what the
// rest of the region sees of them: Nodes with capacity, labels and
// conditions, Leases renewed every 10 s, pods of every tenant going Running
// (same names in two tenants), pods the node cannot fit rejected with an
// Event, graceful deletion, and an agent restart that finishes a deletion
// begun while it was down.
func TestSimulatedNodes(t *testing.T) {
	s := framework.StartServer(t)
	s.CreateTenant(t, acme)
	s.CreateTenant(t, beta)
	admin := typed(t, s.AdminConfig())
	ctx := context.Background()

	a := s.StartAgent(t, simulatedAgent(3))

	framework.Eventually(t, agentTimeout, "three Ready nodes", func(ctx context.Context) error {
		nodes, err := admin.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: v1.LabelSimulated + "=true"})
		if err != nil {
			return err
		}
		if len(nodes.Items) != 3 {
			return fmt.Errorf("%d nodes", len(nodes.Items))
		}
		for _, n := range nodes.Items {
			for _, c := range []corev1.NodeConditionType{corev1.NodeReady, v1.NodeContainerRuntimeReady, v1.NodeVMRuntimeReady} {
				if status := nodeCondition(&n, c); status != corev1.ConditionTrue {
					return fmt.Errorf("node %s: %s is %q", n.Name, c, status)
				}
			}
			if cpu := n.Status.Allocatable[corev1.ResourceCPU]; cpu.String() != "4" {
				return fmt.Errorf("node %s: allocatable cpu %s", n.Name, cpu.String())
			}
			if n.Labels[corev1.LabelHostname] != n.Name || n.Labels[corev1.LabelTopologyZone] == "" {
				return fmt.Errorf("node %s: labels %v", n.Name, n.Labels)
			}
		}
		return nil
	})

	t.Run("leases are renewed", func(t *testing.T) {
		leases := admin.CoordinationV1().Leases(corev1.NamespaceNodeLease)
		var first *metav1.MicroTime
		framework.Eventually(t, agentTimeout, "lease of sim-00000", func(ctx context.Context) error {
			l, err := leases.Get(ctx, "sim-00000", metav1.GetOptions{})
			if err != nil {
				return err
			}
			first = l.Spec.RenewTime
			return nil
		})
		framework.Eventually(t, agentTimeout, "a renewal", func(ctx context.Context) error {
			l, err := leases.Get(ctx, "sim-00000", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if !l.Spec.RenewTime.After(first.Time) {
				return fmt.Errorf("renew time still %v", l.Spec.RenewTime)
			}
			if len(l.OwnerReferences) != 1 || l.OwnerReferences[0].Kind != "Node" {
				return fmt.Errorf("lease owners %v", l.OwnerReferences)
			}
			return nil
		})
	})

	pods := map[string]*client.Core{}
	for _, tenant := range []string{acme, beta} {
		c, err := client.NewCore(s.TenantAdmin(t, tenant, user), nil)
		if err != nil {
			t.Fatal(err)
		}
		pods[tenant] = c
	}
	create := func(t *testing.T, tenant string, pod *v1.Pod) *v1.Pod {
		t.Helper()
		out := &v1.Pod{}
		if err := pods[tenant].RESTClient().Post().Namespace(pod.Namespace).Resource("pods").Body(pod).Do(ctx).Into(out); err != nil {
			t.Fatalf("creating pod in %s: %v", tenant, err)
		}
		return out
	}
	get := func(ctx context.Context, tenant, name string) (*v1.Pod, error) {
		return pods[tenant].GetPod(ctx, tenancy.Name(tenant), metav1.NamespaceDefault, name)
	}

	t.Run("pods of two tenants run", func(t *testing.T) {
		for _, tenant := range []string{acme, beta} {
			create(t, tenant, simPod("web", "sim-00001", "500m"))
			vm := simPod("vm", "sim-00002", "")
			vm.Spec.Containers = nil
			vm.Spec.VirtualMachine = &v1.VirtualMachineSpec{Kernel: &v1.KernelBoot{Kernel: "/boot/vmlinuz"}}
			create(t, tenant, vm)
		}
		ips := map[string]string{}
		for _, tenant := range []string{acme, beta} {
			framework.Eventually(t, agentTimeout, tenant+" pods Running", func(ctx context.Context) error {
				for _, name := range []string{"web", "vm"} {
					p, err := get(ctx, tenant, name)
					if err != nil {
						return err
					}
					if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" || !podReady(p) {
						return fmt.Errorf("%s/%s: phase %s, ip %q", tenant, name, p.Status.Phase, p.Status.PodIP)
					}
					if name == "vm" && (p.Status.VirtualMachineStatus == nil || p.Status.VirtualMachineStatus.State != v1.VirtualMachineRunning) {
						return fmt.Errorf("%s/vm: vm status %+v", tenant, p.Status.VirtualMachineStatus)
					}
					if prev, dup := ips[p.Status.PodIP]; dup && prev != tenant+"/"+name {
						return fmt.Errorf("%s/%s has the IP of %s", tenant, name, prev)
					}
					ips[p.Status.PodIP] = tenant + "/" + name
				}
				return nil
			})
		}
	})

	t.Run("a pod that does not fit is rejected", func(t *testing.T) {
		create(t, acme, simPod("huge", "sim-00000", "5"))
		framework.Eventually(t, agentTimeout, "huge Failed", func(ctx context.Context) error {
			p, err := get(ctx, acme, "huge")
			if err != nil {
				return err
			}
			if p.Status.Phase != corev1.PodFailed || p.Status.Reason != "OutOfcpu" {
				return fmt.Errorf("phase %s, reason %q", p.Status.Phase, p.Status.Reason)
			}
			return nil
		})
		events := typed(t, s.TenantAdmin(t, acme, user)).CoreV1().Events(metav1.NamespaceDefault)
		framework.Eventually(t, agentTimeout, "an OutOfcpu event", func(ctx context.Context) error {
			list, err := events.List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("involvedObject.name", "huge").String()})
			if err != nil {
				return err
			}
			for _, e := range list.Items {
				if e.Reason == "OutOfcpu" && e.Type == corev1.EventTypeWarning && e.Source.Host == "sim-00000" {
					return nil
				}
			}
			return fmt.Errorf("events %v", list.Items)
		})
	})

	t.Run("deletion", func(t *testing.T) {
		if err := pods[beta].DeletePod(ctx, beta, metav1.NamespaceDefault, "web", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitGone(t, func(ctx context.Context) error { _, err := get(ctx, beta, "web"); return err })
		if _, err := get(ctx, acme, "web"); err != nil {
			t.Errorf("acme's web after deleting beta's: %v", err)
		}
	})

	t.Run("restart finishes a deletion begun while down", func(t *testing.T) {
		a.Stop(t)
		if err := pods[acme].DeletePod(ctx, acme, metav1.NamespaceDefault, "web", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](30)}); err != nil {
			t.Fatal(err)
		}
		p, err := get(ctx, acme, "web")
		if err != nil || p.DeletionTimestamp == nil {
			t.Fatalf("a bound pod went away with no agent to stop it: %v, %v", p, err)
		}
		s.StartAgent(t, simulatedAgent(3))
		waitGone(t, func(ctx context.Context) error { _, err := get(ctx, acme, "web"); return err })
		p, err = get(ctx, beta, "vm")
		if err != nil || p.Status.Phase != corev1.PodRunning {
			t.Errorf("beta's vm after the restart: %v, %v", p, err)
		}
	})
}

func simPod(name, node, cpu string) *v1.Pod {
	p := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: metav1.NamespaceDefault},
		Spec: v1.PodSpec{PodSpec: corev1.PodSpec{
			NodeName:   node,
			Containers: []corev1.Container{{Name: "c", Image: "local/busybox:1"}},
		}},
	}
	if cpu != "" {
		p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}
	}
	return p
}

func nodeCondition(n *corev1.Node, t corev1.NodeConditionType) corev1.ConditionStatus {
	for _, c := range n.Status.Conditions {
		if c.Type == t {
			return c.Status
		}
	}
	return ""
}

func podReady(p *v1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
