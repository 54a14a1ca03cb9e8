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

package agent

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/klog/v2/ktesting"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
	"github.com/arcturus-cloud/arcturus/pkg/metal/agentapi"
)

// fakeService plays the metal service: it records what the agent sends and
// answers with what answer returns for it.
type fakeService struct {
	*httptest.Server
	mu            sync.Mutex
	registrations []agentapi.Registration
	heartbeats    []agentapi.Heartbeat
}

// answer gets the request's path and body (a Registration or Heartbeat)
// and returns the HTTP status and the instruction. The service calls it
// with its lock held, one request at a time.
type answer func(path string, body any) (int, agentapi.Instruction)

func newFakeService(t *testing.T, answer answer) *fakeService {
	s := &fakeService{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, agentapi.MaxRequestBytes))
		var body any
		switch r.URL.Path {
		case agentapi.RegisterPath:
			var reg agentapi.Registration
			if err := dec.Decode(&reg); err != nil {
				t.Errorf("registration: %v", err)
			}
			s.registrations = append(s.registrations, reg)
			body = reg
		case agentapi.HeartbeatPath:
			var hb agentapi.Heartbeat
			if err := dec.Decode(&hb); err != nil {
				t.Errorf("heartbeat: %v", err)
			}
			s.heartbeats = append(s.heartbeats, hb)
			body = hb
		default:
			http.NotFound(w, r)
			return
		}
		code, inst := answer(r.URL.Path, body)
		if code != http.StatusOK {
			http.Error(w, "unavailable", code)
			return
		}
		if err := json.NewEncoder(w).Encode(inst); err != nil {
			t.Error(err)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// recorded returns what the agent sent, and the phases of its heartbeats.
func (s *fakeService) recorded() ([]agentapi.Registration, []agentapi.Heartbeat, []metalv1alpha1.AgentPhase) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var phases []metalv1alpha1.AgentPhase
	for _, hb := range s.heartbeats {
		phases = append(phases, hb.Phase)
	}
	return slices.Clone(s.registrations), slices.Clone(s.heartbeats), phases
}

// serverRoot is a copy of the test tree with the disks in /dev, of 0xAA.
func serverRoot(t *testing.T) string {
	root := copyTree(t, "testdata/root")
	if err := os.Mkdir(filepath.Join(root, "dev"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"nvme0n1", "sda", "sdb", "vda"} {
		fakeDisk(t, filepath.Join(root, "dev", d), 3*mib)
	}
	return root
}

func noAddresses(string) ([]string, error) { return nil, nil }

func TestRunWipesAndPowersOff(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	wait := agentapi.Instruction{Action: agentapi.ActionWait, HeartbeatSeconds: 1}
	wipe := func(mode metalv1alpha1.WipeMode) agentapi.Instruction {
		return agentapi.Instruction{Action: agentapi.ActionWipe, WipeMode: mode, HeartbeatSeconds: 1}
	}
	// A fast wipe, then a full one, as when the operator changed the
	// server's wipe mode meanwhile, then power off.
	mode := metalv1alpha1.WipeFast
	s := newFakeService(t, func(path string, body any) (int, agentapi.Instruction) {
		hb, ok := body.(agentapi.Heartbeat)
		switch {
		case !ok:
			return http.StatusOK, wait
		case hb.Phase == metalv1alpha1.AgentWaiting, hb.Phase == metalv1alpha1.AgentWiping:
			return http.StatusOK, wipe(mode)
		case hb.Phase == metalv1alpha1.AgentWiped && hb.Wiped == metalv1alpha1.WipeFast:
			mode = metalv1alpha1.WipeFull
			return http.StatusOK, wipe(mode)
		default:
			return http.StatusOK, agentapi.Instruction{Action: agentapi.ActionPowerOff}
		}
	})
	root := serverRoot(t)
	// The URL comes from the kernel's command line.
	if err := os.WriteFile(filepath.Join(root, "proc/cmdline"), []byte("console=ttyS0 "+agentapi.KernelArgURL+"="+s.URL+"/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	poweredOff := 0
	err := Run(ctx, Options{
		Root:      root,
		Addresses: noAddresses,
		PowerOff:  func() error { poweredOff++; return nil },
		Reboot:    func() error { t.Error("rebooted"); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if poweredOff != 1 {
		t.Errorf("powered off %d times", poweredOff)
	}
	regs, hbs, phases := s.recorded()
	if len(regs) != 1 || regs[0].UUID != "4c4c4544-0042-3110-8052-b4c04f4d3232" || len(regs[0].Hardware.Storage.Disks) != 4 {
		t.Fatalf("registrations: %+v", regs)
	}
	want := []metalv1alpha1.AgentPhase{
		metalv1alpha1.AgentWaiting,
		metalv1alpha1.AgentWiping, metalv1alpha1.AgentWiped,
		metalv1alpha1.AgentWiping, metalv1alpha1.AgentWiped,
		metalv1alpha1.AgentPoweringOff,
	}
	if !slices.Equal(phases, want) {
		t.Fatalf("phases %v, want %v", phases, want)
	}
	for i, mode := range map[int]metalv1alpha1.WipeMode{2: metalv1alpha1.WipeFast, 4: metalv1alpha1.WipeFull} {
		if hb := hbs[i]; hb.Wiped != mode || hb.UUID != regs[0].UUID {
			t.Errorf("heartbeat %d: %+v, want wiped %s", i, hb, mode)
		}
	}
	for _, d := range []string{"nvme0n1", "sda", "sdb", "vda"} {
		data := readFile(t, filepath.Join(root, "dev", d))
		checkBytes(t, d, data, 0, len(data), 0)
	}
}

func TestRunRetriesAndRegistersAgain(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	// The first registration fails; the first heartbeat finds a service
	// that forgot the server; the registration that follows gets a reboot.
	registrations, heartbeats := 0, 0
	s := newFakeService(t, func(path string, _ any) (int, agentapi.Instruction) {
		if path == agentapi.RegisterPath {
			registrations++
			switch registrations {
			case 1:
				return http.StatusServiceUnavailable, agentapi.Instruction{}
			case 2:
				return http.StatusOK, agentapi.Instruction{Action: agentapi.ActionWait, HeartbeatSeconds: 1}
			default:
				return http.StatusOK, agentapi.Instruction{Action: agentapi.ActionReboot}
			}
		}
		heartbeats++
		if heartbeats == 1 {
			return http.StatusNotFound, agentapi.Instruction{}
		}
		return http.StatusOK, agentapi.Instruction{Action: agentapi.ActionWait}
	})
	rebooted := false
	err := Run(ctx, Options{
		URL:       s.URL,
		Root:      serverRoot(t),
		Addresses: noAddresses,
		PowerOff:  func() error { t.Error("powered off"); return nil },
		Reboot:    func() error { rebooted = true; return errors.New("reboot failed") },
	})
	if err == nil || err.Error() != "reboot failed" || !rebooted {
		t.Errorf("Run returned %v, rebooted %v; want the reboot's error", err, rebooted)
	}
	regs, _, phases := s.recorded()
	if len(regs) != 3 {
		t.Errorf("%d registrations, want 3", len(regs))
	}
	want := []metalv1alpha1.AgentPhase{metalv1alpha1.AgentWaiting, metalv1alpha1.AgentPoweringOff}
	if !slices.Equal(phases, want) {
		t.Errorf("phases %v, want %v", phases, want)
	}
}

func TestRunEndsWithContext(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	s := newFakeService(t, func(string, any) (int, agentapi.Instruction) {
		return http.StatusInternalServerError, agentapi.Instruction{}
	})
	ctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel()
	err := Run(ctx, Options{URL: s.URL, Root: serverRoot(t), Addresses: noAddresses})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run returned %v, want the context's error", err)
	}
	if err := Run(ctx, Options{Root: t.TempDir()}); err == nil {
		t.Error("no error without a URL")
	}
}

func TestRunReportsWipeFailure(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	root := serverRoot(t)
	removeAll(t, root, "dev/sda")
	s := newFakeService(t, func(path string, body any) (int, agentapi.Instruction) {
		if hb, ok := body.(agentapi.Heartbeat); ok && hb.Message != "" && hb.Phase == metalv1alpha1.AgentWaiting {
			return http.StatusOK, agentapi.Instruction{Action: agentapi.ActionPowerOff}
		}
		return http.StatusOK, agentapi.Instruction{Action: agentapi.ActionWipe, HeartbeatSeconds: 1}
	})
	start := time.Now()
	err := Run(ctx, Options{
		URL:       s.URL,
		Root:      root,
		Addresses: noAddresses,
		PowerOff:  func() error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []metalv1alpha1.AgentPhase{metalv1alpha1.AgentWiping, metalv1alpha1.AgentWaiting, metalv1alpha1.AgentPoweringOff}
	_, hbs, phases := s.recorded()
	if !slices.Equal(phases, want) {
		t.Fatalf("phases %v, want %v", phases, want)
	}
	if msg := hbs[1].Message; !strings.Contains(msg, "wipe failed") || !strings.Contains(msg, "sda") {
		t.Errorf("message %q, want the wipe's error", msg)
	}
	// The failure waits for the heartbeat interval.
	if d := time.Since(start); d < time.Second {
		t.Errorf("reported the failure after %s, before the heartbeat interval", d)
	}
}
