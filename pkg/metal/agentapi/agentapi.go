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

// Package agentapi is the protocol between the inventory agent, running on a
// server that network-booted into it, and the metal service. The agent
// registers the hardware it found, then heartbeats with its progress; each
// answer tells it what to do next. Everything is JSON over HTTP POST, so a
// server needs nothing but an address to take part.
package agentapi

import (
	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
)

// Paths of the agent's API on the metal service's HTTP endpoint.
const (
	RegisterPath  = "/agent/v1/register"
	HeartbeatPath = "/agent/v1/heartbeat"
)

// MaxRequestBytes bounds a request body; a real server's report is a few KiB.
const MaxRequestBytes = 1 << 20

// KernelArgURL is the kernel argument that tells the agent the metal
// service's base URL, such as arcturus.metal.url=http://10.0.0.1:8081.
const KernelArgURL = "arcturus.metal.url"

// Registration is the agent's first report after boot.
type Registration struct {
	// UUID is the SMBIOS system UUID, lowercase, as Linux shows it in
	// /sys/class/dmi/id/product_uuid.
	UUID     string                 `json:"uuid"`
	Hardware metalv1alpha1.Hardware `json:"hardware"`
}

// Heartbeat is the agent's periodic report.
type Heartbeat struct {
	UUID  string                   `json:"uuid"`
	Phase metalv1alpha1.AgentPhase `json:"phase"`
	// WipeProgress is the share of the disks' bytes wiped, in percent.
	WipeProgress int32 `json:"wipeProgress,omitempty"`
	// Wiped, with phase Wiped, is how the disks were wiped.
	Wiped metalv1alpha1.WipeMode `json:"wiped,omitempty"`
	// Message is the agent's state in words; errors go here.
	Message string `json:"message,omitempty"`
}

// Action is what the metal service asks of the agent.
type Action string

const (
	// ActionWait: keep heartbeating; the server is not accepted yet, or
	// the service has nothing for it.
	ActionWait Action = "wait"
	// ActionWipe: wipe every disk with Instruction.WipeMode, reporting
	// progress, then report phase Wiped.
	ActionWipe Action = "wipe"
	// ActionPowerOff: power the server off.
	ActionPowerOff Action = "poweroff"
	// ActionReboot: reboot, so that the server boots what the service
	// now serves it.
	ActionReboot Action = "reboot"
)

// Instruction answers a registration or heartbeat.
type Instruction struct {
	Action   Action                 `json:"action"`
	WipeMode metalv1alpha1.WipeMode `json:"wipeMode,omitempty"`
	// HeartbeatSeconds is how long to wait before the next heartbeat.
	HeartbeatSeconds int32 `json:"heartbeatSeconds"`
}
