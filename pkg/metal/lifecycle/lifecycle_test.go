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

package lifecycle

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
	"github.com/arcturus-cloud/arcturus/pkg/metal/agentapi"
)

var (
	now    = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	timing = Timing{Heartbeat: 5 * time.Second, AgentTimeout: 30 * time.Second, BootTimeout: 5 * time.Minute, HeartbeatRecord: 15 * time.Second}
)

// server builds a server from options applied in order.
func server(opts ...func(*metalv1alpha1.Server)) *metalv1alpha1.Server {
	s := &metalv1alpha1.Server{ObjectMeta: metav1.ObjectMeta{Name: "s"}}
	s.Status.Power = metalv1alpha1.PowerOff
	for _, o := range opts {
		o(s)
	}
	return s
}

func accepted(s *metalv1alpha1.Server) { s.Spec.Accepted = true }
func clean(s *metalv1alpha1.Server)    { s.Status.IsClean = true }
func poweredOn(s *metalv1alpha1.Server) {
	s.Status.Power = metalv1alpha1.PowerOn
}
func withBMC(s *metalv1alpha1.Server) {
	s.Spec.BMC = &metalv1alpha1.BMC{Redfish: &metalv1alpha1.RedfishBMC{Endpoint: "http://bmc"}}
}
func deleting(s *metalv1alpha1.Server) {
	t := metav1.NewTime(now)
	s.DeletionTimestamp = &t
}
func booted(s *metalv1alpha1.Server) { MarkEnvironmentBooted(s, "e", now) }
func agentAgo(d time.Duration, phase metalv1alpha1.AgentPhase) func(*metalv1alpha1.Server) {
	return func(s *metalv1alpha1.Server) {
		t := metav1.NewTime(now.Add(-d))
		s.Status.Agent = &metalv1alpha1.AgentStatus{Phase: phase, LastHeartbeatTime: &t}
	}
}
func actedAgo(d time.Duration) func(*metalv1alpha1.Server) {
	return func(s *metalv1alpha1.Server) {
		s.Status.LastPowerAction = &metalv1alpha1.PowerAction{Action: "On", Time: metav1.NewTime(now.Add(-d))}
	}
}

func bootedAgo(d time.Duration) func(*metalv1alpha1.Server) {
	return func(s *metalv1alpha1.Server) { MarkBooted(s, now.Add(-d)) }
}

var binding = &metalv1alpha1.ServerBinding{ObjectMeta: metav1.ObjectMeta{Name: "s"}}

func TestBoot(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    *metalv1alpha1.Server
		b    *metalv1alpha1.ServerBinding
		want BootKind
	}{
		{"unknown server", nil, nil, BootAgent},
		{"not accepted", server(), nil, BootAgent},
		{"not accepted but bound", server(), binding, BootAgent},
		{"accepted, unbound", server(accepted), nil, BootAgent},
		{"bound, first boot", server(accepted), binding, BootEnvironment},
		{"bound, booted before", server(accepted, booted), binding, BootDisk},
		{"bound, booted before, PXE always", server(accepted, booted, func(s *metalv1alpha1.Server) { s.Spec.PXEBootAlways = true }), binding, BootEnvironment},
		{"being deleted", server(accepted, deleting), binding, BootAgent},
	} {
		if got := Boot(tc.s, tc.b); got != tc.want {
			t.Errorf("%s: Boot = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestInstruct(t *testing.T) {
	full := func(s *metalv1alpha1.Server) { s.Spec.WipeMode = metalv1alpha1.WipeFull }
	for _, tc := range []struct {
		name string
		s    *metalv1alpha1.Server
		b    *metalv1alpha1.ServerBinding
		want agentapi.Action
		mode metalv1alpha1.WipeMode
	}{
		{"not accepted waits", server(), nil, agentapi.ActionWait, ""},
		{"dirty is wiped fast", server(accepted), nil, agentapi.ActionWipe, metalv1alpha1.WipeFast},
		{"full wipe on request", server(accepted, full), nil, agentapi.ActionWipe, metalv1alpha1.WipeFull},
		{"clean powers off", server(accepted, clean), nil, agentapi.ActionPowerOff, ""},
		{"bound reboots into its environment", server(accepted), binding, agentapi.ActionReboot, ""},
		{"deleted powers off", server(accepted, deleting), nil, agentapi.ActionPowerOff, ""},
	} {
		in := Instruct(tc.s, tc.b, timing)
		if in.Action != tc.want || in.WipeMode != tc.mode || in.HeartbeatSeconds != 5 {
			t.Errorf("%s: Instruct = %+v, want %s %s every 5 s", tc.name, in, tc.want, tc.mode)
		}
	}
}

func TestPlan(t *testing.T) {
	for _, tc := range []struct {
		name  string
		s     *metalv1alpha1.Server
		bound bool
		want  PowerOp
		pxe   bool
	}{
		{"no BMC", server(accepted), false, PowerNone, false},
		{"not accepted", server(withBMC), false, PowerNone, false},
		{"power unknown", server(withBMC, accepted, func(s *metalv1alpha1.Server) { s.Status.Power = metalv1alpha1.PowerUnknown }), false, PowerNone, false},
		{"dirty and off: on into the agent", server(withBMC, accepted), false, PowerOn, true},
		{"dirty and on without agent: cycle into the agent", server(withBMC, accepted, poweredOn), false, PowerCycle, true},
		{"dirty with agent wiping", server(withBMC, accepted, poweredOn, agentAgo(time.Second, metalv1alpha1.AgentWiping)), false, PowerNone, false},
		{"dirty, last action recent", server(withBMC, accepted, poweredOn, actedAgo(time.Minute)), false, PowerNone, false},
		{"dirty, last action stale", server(withBMC, accepted, poweredOn, actedAgo(10*time.Minute)), false, PowerCycle, true},
		{"dirty, agent rebooted it a minute ago", server(withBMC, accepted, poweredOn, agentAgo(time.Minute, metalv1alpha1.AgentRegistered)), false, PowerNone, false},
		{"clean and on, agent gone", server(withBMC, accepted, clean, poweredOn, agentAgo(time.Hour, metalv1alpha1.AgentWaiting)), false, PowerOff, false},
		{"clean and on, agent powering off", server(withBMC, accepted, clean, poweredOn, agentAgo(2*time.Second, metalv1alpha1.AgentPoweringOff)), false, PowerNone, false},
		{"clean and on, agent powered off long ago", server(withBMC, accepted, clean, poweredOn, agentAgo(time.Minute, metalv1alpha1.AgentPoweringOff)), false, PowerOff, false},
		{"clean and off", server(withBMC, accepted, clean), false, PowerNone, false},
		{"bound and off: on into its environment", server(withBMC, accepted), true, PowerOn, true},
		{"bound, agent running: it reboots itself", server(withBMC, accepted, poweredOn, agentAgo(time.Second, metalv1alpha1.AgentWaiting)), true, PowerNone, false},
		{"bound and booted", server(withBMC, accepted, poweredOn, booted), true, PowerNone, false},
		{"deleted", server(withBMC, accepted, poweredOn, deleting, actedAgo(time.Second)), false, PowerOff, false},
		{"bound while off, the agent just powered it off: on at once", server(withBMC, accepted, clean, agentAgo(20*time.Second, metalv1alpha1.AgentPoweringOff)), true, PowerOn, true},
		{"released, its Environment came up after the last action: cycle at once", server(withBMC, accepted, poweredOn, actedAgo(2*time.Minute), bootedAgo(time.Minute)), false, PowerCycle, true},
		{"booting its Environment, not up yet", server(withBMC, accepted, poweredOn, bootedAgo(3*time.Minute), actedAgo(2*time.Minute)), true, PowerNone, false},
	} {
		got := Plan(tc.s, tc.bound, now, timing)
		if got.Op != tc.want || got.PXE != tc.pxe {
			t.Errorf("%s: Plan = %+v, want %q pxe=%v", tc.name, got, tc.want, tc.pxe)
		}
		if got.Op == PowerNone && got.Wait < 0 {
			t.Errorf("%s: negative wait %v", tc.name, got.Wait)
		}
	}
}

func TestDerive(t *testing.T) {
	s := server(accepted, clean)
	if !Derive(s, false) || !s.Status.Ready {
		t.Fatalf("an accepted clean unbound server must become ready: %+v", s.Status)
	}
	if Derive(s, false) {
		t.Error("a second Derive changed nothing but reported a change")
	}
	booted(s)
	if !Derive(s, true) || s.Status.Ready || !s.Status.InUse || s.Status.IsClean {
		t.Errorf("a bound server is in use, dirty and not ready: %+v", s.Status)
	}
	if !EnvironmentBooted(s) {
		t.Error("binding must keep EnvironmentBooted")
	}
	if !Derive(s, false) || s.Status.InUse || EnvironmentBooted(s) || s.Status.Ready {
		t.Errorf("a released server is unused, not ready until wiped, and forgets its boot: %+v", s.Status)
	}
	cordoned := server(accepted, clean, func(s *metalv1alpha1.Server) { s.Spec.Cordoned = true })
	Derive(cordoned, false)
	if cordoned.Status.Ready {
		t.Error("a cordoned server must not be ready")
	}
}

func TestEnvironmentName(t *testing.T) {
	ref := func(n string) *corev1.LocalObjectReference { return &corev1.LocalObjectReference{Name: n} }
	s := server()
	if got := EnvironmentName(s, nil, nil); got != metalv1alpha1.EnvironmentDefault {
		t.Errorf("default: %s", got)
	}
	class := &metalv1alpha1.ServerClass{Spec: metalv1alpha1.ServerClassSpec{EnvironmentRef: ref("class")}}
	if got := EnvironmentName(s, nil, class); got != "class" {
		t.Errorf("class: %s", got)
	}
	s.Spec.EnvironmentRef = ref("server")
	if got := EnvironmentName(s, nil, class); got != "server" {
		t.Errorf("server: %s", got)
	}
	b := &metalv1alpha1.ServerBinding{Spec: metalv1alpha1.ServerBindingSpec{EnvironmentRef: ref("binding")}}
	if got := EnvironmentName(s, b, class); got != "binding" {
		t.Errorf("binding: %s", got)
	}
}
