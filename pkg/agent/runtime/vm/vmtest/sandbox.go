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

package vmtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

// Sandboxes is a runtime.Sandboxes on real kernel objects, as a simple
// point-to-point CNI plugin would make them: each pod gets a network
// namespace (ip netns add) and a veth pair. The pod end is eth0 in the
// namespace with the pod's address in a /24 of its own and a default route;
// the host end carries the gateway address of that /24.
type Sandboxes struct {
	t     testing.TB
	mu    sync.Mutex
	boxes map[types.UID]SandboxInfo
}

// SandboxInfo describes one sandbox.
type SandboxInfo struct {
	// Name of the namespace in /run/netns.
	Name      string
	NetNS     string
	HostLink  string
	PodIP     string
	GatewayIP string
	PrefixLen int
}

var _ runtime.Sandboxes = &Sandboxes{}

// NewSandboxes returns sandboxes that are all removed when the test ends.
// It skips the test unless it runs as root with iproute2 installed.
func NewSandboxes(t testing.TB) *Sandboxes {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip (iproute2) not installed")
	}
	s := &Sandboxes{t: t, boxes: map[types.UID]SandboxInfo{}}
	t.Cleanup(func() {
		s.mu.Lock()
		uids := make([]types.UID, 0, len(s.boxes))
		for uid := range s.boxes {
			uids = append(uids, uid)
		}
		s.mu.Unlock()
		for _, uid := range uids {
			if err := s.RemoveSandbox(context.Background(), uid); err != nil {
				t.Errorf("removing sandbox: %v", err)
			}
		}
	})
	return s
}

// Info returns the sandbox of uid, if it exists.
func (s *Sandboxes) Info(uid types.UID) (SandboxInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.boxes[uid]
	return b, ok
}

// EnsureSandbox creates the pod's namespace and veth pair once.
func (s *Sandboxes) EnsureSandbox(ctx context.Context, pod *v1.Pod) (runtime.Sandbox, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.boxes[pod.UID]; ok {
		return runtime.Sandbox{ID: b.Name, NetNS: b.NetNS, IPs: []string{b.PodIP}}, nil
	}
	sum := sha256.Sum256([]byte(pod.UID))
	id := hex.EncodeToString(sum[:4])
	subnet, err := freeSubnet()
	if err != nil {
		return runtime.Sandbox{}, err
	}
	b := SandboxInfo{
		Name:      "arcvmt-" + id,
		NetNS:     "/run/netns/arcvmt-" + id,
		HostLink:  "avt" + id,
		PodIP:     subnet + ".2",
		GatewayIP: subnet + ".1",
		PrefixLen: 24,
	}
	steps := [][]string{
		{"netns", "add", b.Name},
		{"link", "add", b.HostLink, "type", "veth", "peer", "name", "eth0", "netns", b.Name},
		{"addr", "add", fmt.Sprintf("%s/%d", b.GatewayIP, b.PrefixLen), "dev", b.HostLink},
		{"link", "set", b.HostLink, "up"},
		{"-n", b.Name, "link", "set", "lo", "up"},
		{"-n", b.Name, "addr", "add", fmt.Sprintf("%s/%d", b.PodIP, b.PrefixLen), "dev", "eth0"},
		{"-n", b.Name, "link", "set", "eth0", "up"},
		{"-n", b.Name, "route", "add", "default", "via", b.GatewayIP},
	}
	for _, args := range steps {
		if out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput(); err != nil {
			_ = exec.Command("ip", "netns", "del", b.Name).Run()
			_ = exec.Command("ip", "link", "del", b.HostLink).Run()
			return runtime.Sandbox{}, fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, out)
		}
	}
	s.boxes[pod.UID] = b
	return runtime.Sandbox{ID: b.Name, NetNS: b.NetNS, IPs: []string{b.PodIP}}, nil
}

// RemoveSandbox deletes the namespace, which takes the veth pair with it.
func (s *Sandboxes) RemoveSandbox(ctx context.Context, uid types.UID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.boxes[uid]
	if !ok {
		return nil
	}
	if out, err := exec.CommandContext(ctx, "ip", "netns", "del", b.Name).CombinedOutput(); err != nil {
		if _, serr := os.Stat(b.NetNS); serr == nil {
			return fmt.Errorf("ip netns del %s: %w: %s", b.Name, err, out)
		}
	}
	_ = exec.Command("ip", "link", "del", b.HostLink).Run()
	delete(s.boxes, uid)
	return nil
}

// Ping sends one ICMP echo from the host to ip and reports whether it was
// answered. It uses ping or, if that is missing, busybox ping.
func Ping(ctx context.Context, ip string) error {
	args := []string{"-c", "1", "-W", "1", ip}
	name := "ping"
	if _, err := exec.LookPath(name); err != nil {
		name, args = "busybox", append([]string{"ping"}, args...)
	}
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// freeSubnet picks a 10.213.x.0/24 that no host interface uses.
func freeSubnet() (string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", err
	}
	used := map[string]bool{}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if ip4 := ipn.IP.To4(); ip4 != nil {
				used[fmt.Sprintf("%d.%d.%d", ip4[0], ip4[1], ip4[2])] = true
			}
		}
	}
	for range 100 {
		s := fmt.Sprintf("10.213.%d", 1+rand.IntN(253))
		if !used[s] {
			return s, nil
		}
	}
	return "", fmt.Errorf("no free 10.213.x.0/24 subnet")
}
