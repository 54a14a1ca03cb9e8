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
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arcturus-cloud/arcturus/pkg/agent"
	"github.com/arcturus-cloud/arcturus/pkg/agent/cni"
	"github.com/arcturus-cloud/arcturus/pkg/agent/containerd"
	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime/cri"
	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime/vm"
)

// BusyboxImageName is the image StartNode imports into every node.
const BusyboxImageName = "local/busybox:1"

// Node is a real node: an in-process agent with its own containerd.
type Node struct {
	Name    string
	DataDir string
	Agent   *Component
	options *agent.Options
}

// RequireNodeRuntime skips the test unless this machine can run real
// containers: root, containerd, runc and the CNI plugins.
func RequireNodeRuntime(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("real containers need root")
	}
	for _, bin := range []string{"containerd", "runc"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed: %v", bin, err)
		}
	}
	for _, dir := range cni.DefaultBinDirs {
		if _, err := os.Stat(filepath.Join(dir, "bridge")); err == nil {
			return
		}
	}
	t.Skip("the CNI plugins are not installed")
}

// StartNode runs the agent of a real node named name against s, with a
// managed containerd in a data directory of the test, waits until the
// node is Ready and imports the busybox image into it. At the end of the
// test it removes every pod the node still runs and stops.
func (s *Server) StartNode(t testing.TB, name string) *Node {
	t.Helper()
	RequireNodeRuntime(t)
	o := agent.NewOptions()
	o.NodeName = name
	o.DataDir = TempDir(t, "node-")
	o.HealthAddress = ""
	o.Port = int32(FreePorts(t, 1)[0])
	// Nodes of different tests get a pod network of their own, so that a
	// pod left by one never answers for another's.
	o.PodCIDR = fmt.Sprintf("10.%d.%d.0/24", 200+rand.IntN(50), rand.IntN(256))
	o.PodBridge = fmt.Sprintf("arct%x", rand.Uint32())
	n := &Node{Name: name, DataDir: o.DataDir, options: o}
	// Cleanups run last first: the bridge goes once the pods are gone,
	// which happens after the agent has stopped.
	t.Cleanup(func() { removeLink(t, o.PodBridge) })
	t.Cleanup(func() { n.removeAllPods(t) })
	n.Agent = s.StartAgent(t, o)

	nodes := Clientset(t, s.AdminConfig()).CoreV1().Nodes()
	Eventually(t, time.Minute, "node "+name+" Ready", func(ctx context.Context) error {
		node, err := nodes.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return nil
			}
		}
		return fmt.Errorf("conditions %v", node.Status.Conditions)
	})
	archive := BusyboxArchive(t, BusyboxImageName)
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := containerd.Import(context.Background(), n.Socket(), f, ""); err != nil {
		t.Fatalf("importing busybox: %v", err)
	}
	return n
}

// Socket is the node's containerd socket.
func (n *Node) Socket() string {
	return containerd.Socket(filepath.Join(n.DataDir, "agent", "containerd"))
}

// Restart stops the agent and starts it again on the same data directory.
func (n *Node) Restart(t testing.TB, s *Server) {
	t.Helper()
	n.Agent.Stop(t)
	n.Agent = s.StartAgent(t, n.options)
}

// CRI connects to the node's runtime as the agent does.
func (n *Node) CRI(t testing.TB) *cri.Runtime {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := cri.New(ctx, cri.Config{Endpoint: n.Socket(), Dir: filepath.Join(n.DataDir, "agent", "pods")})
	if err != nil {
		t.Fatalf("connecting to the node's CRI: %v", err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	return r
}

// removeAllPods leaves no container running behind the test. The agent
// has stopped its containerd by now (the containers outlive it), so it
// starts it again for the cleanup.
func (n *Node) removeAllPods(t testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	agentDir := filepath.Join(n.DataDir, "agent")
	d, err := containerd.Start(ctx, containerd.Config{
		Dir: filepath.Join(agentDir, "containerd"), CNIBinDirs: cni.DefaultBinDirs, CNIConfDir: filepath.Join(agentDir, "cni", "net.d"),
	})
	if err != nil {
		t.Logf("starting containerd to clean node %s: %v", n.Name, err)
		return
	}
	defer d.Stop()
	r, err := cri.New(ctx, cri.Config{Endpoint: n.Socket(), Dir: filepath.Join(agentDir, "pods")})
	if err != nil {
		return
	}
	defer r.Close(ctx)
	if vms, err := vm.New(vm.Config{StateDir: filepath.Join(agentDir, "vms"), Sandboxes: r}); err == nil {
		if refs, err := vms.Pods(ctx); err == nil {
			for _, ref := range refs {
				if err := vms.RemovePod(ctx, ref.UID); err != nil {
					t.Logf("removing VM pod %s/%s: %v", ref.Namespace, ref.Name, err)
				}
			}
		}
	}
	refs, err := r.Pods(ctx)
	if err != nil {
		t.Logf("listing pods left on node %s: %v", n.Name, err)
		return
	}
	for _, ref := range refs {
		if err := r.RemovePod(ctx, ref.UID); err != nil {
			t.Logf("removing pod %s/%s: %v", ref.Namespace, ref.Name, err)
		}
	}
}

// removeLink removes the network link name, if there is one.
func removeLink(t testing.TB, name string) {
	link, err := netlink.LinkByName(name)
	if err != nil {
		return
	}
	if err := netlink.LinkDel(link); err != nil {
		t.Errorf("removing %s: %v", name, err)
	}
}
