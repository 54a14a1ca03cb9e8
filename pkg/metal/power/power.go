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

// Package power switches servers on and off and makes them boot from the
// network through their BMC. Driver hides the protocol the BMC speaks; the
// redfish and ipmi packages implement it.
package power

import (
	"context"
	"errors"
)

// State is a server's power state as its BMC reports it.
type State string

// Power states.
const (
	StateOn  State = "On"
	StateOff State = "Off"
	// StateUnknown is a state the BMC reported that is neither on nor off.
	StateUnknown State = "Unknown"
)

// Driver controls one server through its BMC. Every method is one
// conversation with the BMC, bounded by ctx and the driver's own timeout.
type Driver interface {
	// State returns the server's power state.
	State(ctx context.Context) (State, error)
	// On powers the server on; it does nothing if it is on.
	On(ctx context.Context) error
	// Off cuts the power without asking the operating system; it does
	// nothing if the server is off.
	Off(ctx context.Context) error
	// Cycle turns the power off and on again, or on if it is off.
	Cycle(ctx context.Context) error
	// PXEOnce makes the server boot from the network at its next boot
	// only.
	PXEOnce(ctx context.Context) error
}

var (
	// ErrUnreachable is wrapped by errors of BMCs that did not answer:
	// refused connections, timeouts, no route. Retrying later may help.
	// Errors that do not wrap it come from a BMC that answered and refused.
	ErrUnreachable = errors.New("BMC unreachable")
	// ErrUnauthorized is wrapped by errors of BMCs that rejected the
	// credentials, where the protocol tells (Redfish, IPMI 2.0).
	ErrUnauthorized = errors.New("BMC rejected the credentials")
)
