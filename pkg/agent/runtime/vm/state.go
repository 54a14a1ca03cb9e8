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

package vm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// Files in a pod's directory.
const (
	podFile         = "pod.json"
	stateFile       = "state.json"
	overlayFile     = "overlay.qcow2"
	seedFile        = "seed.iso"
	consoleFile     = "console.log"
	prevConsoleFile = "console.log.1"
	qemuLogFile     = "qemu.log"
	pidFile         = "qemu.pid"
	qmpSocketFile   = "qmp.sock"
)

// podRecord identifies the pod a directory belongs to. It is written once,
// for Pods to list pods whose API object the agent may no longer have.
type podRecord struct {
	UID       types.UID `json:"uid"`
	Tenant    string    `json:"tenant,omitempty"`
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
}

// podState is what the runtime remembers about a pod's VM across calls and
// agent restarts.
type podState struct {
	// RestartCount counts starts after the first.
	RestartCount int32 `json:"restartCount"`
	// Boot is the current or last QEMU process.
	Boot *bootState `json:"boot,omitempty"`
	// LastExit is how the last boot ended.
	LastExit *exitState `json:"lastExit,omitempty"`
	// StartFailure is why the last attempt to start failed before QEMU
	// ran (a bad image, bad resources); it is retried with back-off.
	StartFailure *exitState `json:"startFailure,omitempty"`
	// BackOff is the delay before the next restart and NextStart the time
	// it ends, as in Kubernetes' CrashLoopBackOff.
	BackOff   time.Duration `json:"backOff,omitempty"`
	NextStart time.Time     `json:"nextStart,omitempty"`
	// Stopped is set by StopPod: the pod is terminating and its VM is
	// never started again.
	Stopped bool `json:"stopped,omitempty"`
	// PowerdownAt is when the ACPI power button was pressed for
	// powerState Shutdown; after the grace period QEMU is told to quit.
	PowerdownAt time.Time `json:"powerdownAt,omitempty"`
	// Network is the guest's network, once the VM was bridged.
	Network *guestNetwork `json:"network,omitempty"`
	// LastEvent deduplicates warning events that repeat on every sync.
	LastEvent string `json:"lastEvent,omitempty"`
}

type bootState struct {
	PID         int       `json:"pid"`
	StartedAt   time.Time `json:"startedAt"`
	Accelerator string    `json:"accelerator"`
	CPUs        int32     `json:"cpus"`
	Memory      int64     `json:"memory"`
	// QuitRequested is set before the runtime makes QEMU exit, so that the
	// exit is not taken for a crash even if the agent dies meanwhile.
	QuitRequested bool `json:"quitRequested,omitempty"`
	// Exited is set once the end of this boot was recorded in LastExit.
	Exited bool `json:"exited,omitempty"`
}

type exitState struct {
	At      time.Time `json:"at"`
	Reason  string    `json:"reason"`
	Message string    `json:"message,omitempty"`
	// Success is an exit with code 0 semantics: the guest powered off.
	Success bool `json:"success,omitempty"`
	// Requested is an exit the pod asked for (powerState Shutdown,
	// StopPod); it does not count toward back-off.
	Requested bool `json:"requested,omitempty"`
}

func (r *Runtime) podDir(uid types.UID) string {
	return filepath.Join(r.cfg.StateDir, string(uid))
}

// validUID keeps a UID from naming a path outside the state directory.
func validUID(uid types.UID) error {
	s := string(uid)
	if s == "" || s == "." || s == ".." || filepath.Base(s) != s {
		return fmt.Errorf("invalid pod UID %q", s)
	}
	return nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}

// writeJSON replaces path atomically, so a crash leaves the old or the new
// content, never a mix.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, b)
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// loadState returns the pod's state, empty if it has none yet.
func (r *Runtime) loadState(uid types.UID) (*podState, error) {
	st := &podState{}
	err := readJSON(filepath.Join(r.podDir(uid), stateFile), st)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	return st, err
}

func (r *Runtime) saveState(uid types.UID, st *podState) error {
	return writeJSON(filepath.Join(r.podDir(uid), stateFile), st)
}
