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

// Package lifecycle is the bare-metal plane's state machine in pure
// functions: what a server boots when it network-boots, what its inventory
// agent should do, and which power action brings it where it should be.
// The boot services, the agent's API and the server controller all decide
// through it, so they never disagree.
package lifecycle

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
	"github.com/arcturus-cloud/arcturus/pkg/metal/agentapi"
)

// Timing is how long the plane waits for servers and agents.
type Timing struct {
	// Heartbeat is how often agents report.
	Heartbeat time.Duration
	// AgentTimeout is how long after its last heartbeat an agent counts as
	// gone.
	AgentTimeout time.Duration
	// BootTimeout is how long a power action is given to produce a booted
	// agent or Environment before the next one.
	BootTimeout time.Duration
	// HeartbeatRecord is how often a heartbeat that changes nothing else is
	// written to the server's status.
	HeartbeatRecord time.Duration
}

// DefaultTiming suits real servers, whose firmware takes minutes to boot.
var DefaultTiming = Timing{
	Heartbeat:       5 * time.Second,
	AgentTimeout:    45 * time.Second,
	BootTimeout:     10 * time.Minute,
	HeartbeatRecord: 15 * time.Second,
}

// BootKind is what a network-booting server is given.
type BootKind string

const (
	// BootAgent boots the inventory agent.
	BootAgent BootKind = "agent"
	// BootEnvironment boots the server's Environment with its config.
	BootEnvironment BootKind = "environment"
	// BootDisk hands the server over to its disk.
	BootDisk BootKind = "disk"
)

// Boot says what server s boots, given its binding b (nil when unbound).
// A server nobody knows boots the agent, which registers it.
func Boot(s *metalv1alpha1.Server, b *metalv1alpha1.ServerBinding) BootKind {
	switch {
	case s == nil, s.DeletionTimestamp != nil, !s.Spec.Accepted, b == nil:
		return BootAgent
	case EnvironmentBooted(s) && !s.Spec.PXEBootAlways:
		return BootDisk
	default:
		return BootEnvironment
	}
}

// EnvironmentBooted is whether the bound server s already fetched its
// Environment's boot script.
func EnvironmentBooted(s *metalv1alpha1.Server) bool {
	return meta.IsStatusConditionTrue(s.Status.Conditions, metalv1alpha1.ServerEnvironmentBooted)
}

// EnvironmentName is the Environment a bound server boots: the binding's,
// else the server's, else its class's, else "default".
func EnvironmentName(s *metalv1alpha1.Server, b *metalv1alpha1.ServerBinding, class *metalv1alpha1.ServerClass) string {
	switch {
	case b != nil && b.Spec.EnvironmentRef != nil:
		return b.Spec.EnvironmentRef.Name
	case s.Spec.EnvironmentRef != nil:
		return s.Spec.EnvironmentRef.Name
	case class != nil && class.Spec.EnvironmentRef != nil:
		return class.Spec.EnvironmentRef.Name
	}
	return metalv1alpha1.EnvironmentDefault
}

// BootFromDiskMethod is the server's, else its class's, else ipxe-exit.
func BootFromDiskMethod(s *metalv1alpha1.Server, class *metalv1alpha1.ServerClass) metalv1alpha1.BootFromDiskMethod {
	switch {
	case s.Spec.BootFromDiskMethod != "":
		return s.Spec.BootFromDiskMethod
	case class != nil && class.Spec.BootFromDiskMethod != "":
		return class.Spec.BootFromDiskMethod
	}
	return metalv1alpha1.BootFromDiskExit
}

// Instruct says what the agent on server s should do next. s is as stored
// after the agent's report was recorded; b is its binding, if any.
func Instruct(s *metalv1alpha1.Server, b *metalv1alpha1.ServerBinding, t Timing) agentapi.Instruction {
	in := agentapi.Instruction{Action: agentapi.ActionWait, HeartbeatSeconds: int32(t.Heartbeat / time.Second)}
	switch {
	case s.DeletionTimestamp != nil:
		in.Action = agentapi.ActionPowerOff
	case !s.Spec.Accepted:
	case b != nil:
		// Bound while in the agent: reboot into the Environment.
		in.Action = agentapi.ActionReboot
	case !s.Status.IsClean:
		in.Action = agentapi.ActionWipe
		in.WipeMode = s.Spec.WipeMode
		if in.WipeMode == "" {
			in.WipeMode = metalv1alpha1.WipeFast
		}
	default:
		in.Action = agentapi.ActionPowerOff
	}
	return in
}

// AgentConnected is whether server s's agent heartbeats and is not on its
// way out.
func AgentConnected(s *metalv1alpha1.Server, now time.Time, t Timing) bool {
	a := s.Status.Agent
	if a == nil || a.LastHeartbeatTime == nil || a.Phase == metalv1alpha1.AgentPoweringOff {
		return false
	}
	return now.Sub(a.LastHeartbeatTime.Time) < t.AgentTimeout
}

// PowerOp is a power operation.
type PowerOp string

const (
	PowerNone  PowerOp = ""
	PowerOn    PowerOp = "On"
	PowerOff   PowerOp = "Off"
	PowerCycle PowerOp = "Cycle"
)

// PowerPlan is the power action a server needs, and when to look again.
type PowerPlan struct {
	Op PowerOp
	// PXE sets the next boot to the network first.
	PXE    bool
	Reason string
	// Wait is how long until the plan should be made again even if nothing
	// changes: a pending action's remaining time.
	Wait time.Duration
}

// Plan decides the power action server s needs, given whether it is bound.
func Plan(s *metalv1alpha1.Server, bound bool, now time.Time, t Timing) PowerPlan {
	if s.Spec.BMC == nil {
		return PowerPlan{}
	}
	power := s.Status.Power
	agent := AgentConnected(s, now, t)
	var want PowerPlan
	switch {
	case s.DeletionTimestamp != nil:
		if power != metalv1alpha1.PowerOff {
			want = PowerPlan{Op: PowerOff, Reason: "decommissioning"}
		}
	case !s.Spec.Accepted, power == metalv1alpha1.PowerUnknown || power == "":
	case bound && !EnvironmentBooted(s) && !agent:
		want = PowerPlan{Op: PowerCycle, PXE: true, Reason: "booting its Environment"}
	case bound:
	case !s.Status.IsClean && !agent:
		want = PowerPlan{Op: PowerCycle, PXE: true, Reason: "booting into the agent to be wiped"}
	case s.Status.IsClean && power == metalv1alpha1.PowerOn && !agent:
		want = PowerPlan{Op: PowerOff, Reason: "clean and unused"}
	}
	if want.Op == PowerCycle && power == metalv1alpha1.PowerOff {
		want.Op = PowerOn
	}
	if want.Op == PowerNone || s.DeletionTimestamp != nil {
		return want
	}
	if wait := pending(s, want.Op, now, t); wait > 0 {
		return PowerPlan{Wait: wait}
	}
	return want
}

// pending is how long to leave server s alone before op, because what was
// started last may still finish: an agent powering itself off is given a
// few heartbeats; a boot, whether a power action or the agent's own reboot
// started it, is given BootTimeout unless the server came up since.
// Nothing boots a server that is off.
func pending(s *metalv1alpha1.Server, op PowerOp, now time.Time, t Timing) time.Duration {
	var heartbeat time.Time
	if a := s.Status.Agent; a != nil && a.LastHeartbeatTime != nil {
		heartbeat = a.LastHeartbeatTime.Time
	}
	if op == PowerOff {
		return 3*t.Heartbeat - now.Sub(heartbeat)
	}
	if s.Status.Power != metalv1alpha1.PowerOn {
		return 0
	}
	start := heartbeat
	if a := s.Status.LastPowerAction; a != nil && a.Time.After(start) {
		start = a.Time.Time
	}
	if booted := s.Status.LastBootTime; booted != nil && !booted.Time.Before(start) {
		return 0
	}
	return t.BootTimeout - now.Sub(start)
}

// MarkBooted records that server s came up at now.
func MarkBooted(s *metalv1alpha1.Server, now time.Time) {
	t := metav1.NewTime(now)
	s.Status.LastBootTime = &t
}

// Derive sets the status fields that follow from others: in use when bound,
// ready when accepted, not cordoned, clean, unused and not being deleted.
// It reports whether it changed anything.
func Derive(s *metalv1alpha1.Server, bound bool) bool {
	before := s.Status
	s.Status.InUse = bound
	if bound {
		s.Status.IsClean = false
	} else {
		meta.RemoveStatusCondition(&s.Status.Conditions, metalv1alpha1.ServerEnvironmentBooted)
	}
	s.Status.Ready = s.Spec.Accepted && !s.Spec.Cordoned && s.Status.IsClean && !bound && s.DeletionTimestamp == nil
	return before.InUse != s.Status.InUse || before.IsClean != s.Status.IsClean || before.Ready != s.Status.Ready ||
		len(before.Conditions) != len(s.Status.Conditions)
}

// MarkEnvironmentBooted records that the bound server fetched the boot
// script of Environment env.
func MarkEnvironmentBooted(s *metalv1alpha1.Server, env string, now time.Time) bool {
	return meta.SetStatusCondition(&s.Status.Conditions, metav1.Condition{
		Type: metalv1alpha1.ServerEnvironmentBooted, Status: metav1.ConditionTrue, Reason: "ScriptServed",
		Message: fmt.Sprintf("fetched the boot script of Environment %s", env), LastTransitionTime: metav1.NewTime(now),
		ObservedGeneration: s.Generation,
	})
}
