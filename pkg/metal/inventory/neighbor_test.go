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

package inventory

import (
	"os"
	"os/exec"
	"runtime"
	"testing"

	"github.com/vishvananda/netns"
	"k8s.io/apimachinery/pkg/util/rand"
)

// TestImpostor checks the neighbour-table test in a network namespace of
// its own, with a static entry for a machine on a veth.
func TestImpostor(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	name := "arc-neigh-" + rand.String(5)
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	run("netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "delete", name).Run() })
	run("-n", name, "link", "add", "a0", "type", "veth", "peer", "name", "b0")
	run("-n", name, "addr", "add", "10.77.0.1/24", "dev", "a0")
	run("-n", name, "link", "set", "a0", "up")
	run("-n", name, "neigh", "add", "10.77.0.2", "lladdr", "52:54:00:00:00:02", "dev", "a0", "nud", "permanent")

	results := make(chan [3]bool, 1)
	go func() {
		// The thread is left in the namespace and ends with the goroutine.
		runtime.LockOSThread()
		ns, err := netns.GetFromName(name)
		if err != nil {
			t.Error(err)
			close(results)
			return
		}
		defer ns.Close()
		if err := netns.Set(ns); err != nil {
			t.Error(err)
			close(results)
			return
		}
		results <- [3]bool{
			Impostor("10.77.0.2", []string{"52:54:00:00:00:02", "52:54:00:00:00:03"}),
			Impostor("10.77.0.2", []string{"52:54:00:00:00:09"}),
			Impostor("10.77.0.3", []string{"52:54:00:00:00:09"}),
		}
	}()
	r, ok := <-results
	if !ok {
		return
	}
	if r[0] {
		t.Error("the machine with the neighbour's MAC was taken for an impostor")
	}
	if !r[1] {
		t.Error("a request from another machine's MAC was not refused")
	}
	if r[2] {
		t.Error("an address without a neighbour entry must get the benefit of the doubt")
	}
}
