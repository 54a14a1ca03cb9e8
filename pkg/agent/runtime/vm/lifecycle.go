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
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime"
	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime/vm/qmp"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

// StopPod implements runtime.Runtime: it presses the ACPI power button,
// waits up to grace for the guest to power off, then makes QEMU quit. The
// VM is never started again; its files stay until RemovePod.
func (r *Runtime) StopPod(ctx context.Context, pod *v1.Pod, grace time.Duration) error {
	if err := validUID(pod.UID); err != nil {
		return err
	}
	defer r.lockPod(pod.UID)()
	if _, err := os.Stat(r.podDir(pod.UID)); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	s, err := r.newSyncer(ctx, pod)
	if err != nil {
		return err
	}
	s.st.Stopped = true
	if err := r.saveState(pod.UID, s.st); err != nil {
		return err
	}
	if pid := findQEMU(s.dir, s.st); pid != 0 {
		err = s.stop(ctx, pid, grace)
	} else {
		s.recordExit()
	}
	return errors.Join(err, r.saveState(pod.UID, s.st))
}

func (s *syncer) stop(ctx context.Context, pid int, grace time.Duration) error {
	c, err := dialQMP(ctx, s.dir)
	if err != nil {
		// Without QMP nothing graceful is possible.
		s.log.Info("QMP unavailable, killing QEMU", "err", err)
		s.adopt(pid)
		s.st.Boot.QuitRequested = true
		if err := s.r.saveState(s.pod.UID, s.st); err != nil {
			return err
		}
		if err := killQEMU(context.WithoutCancel(ctx), pid, s.dir); err != nil {
			return err
		}
		s.finishBoot(exitState{At: time.Now(), Reason: ReasonStopped, Message: "QEMU was killed: it did not answer on QMP", Requested: true})
		return nil
	}
	defer c.Close()

	exit := exitState{Reason: ReasonStopped, Message: "the VM was stopped", Requested: true}
	qctx, cancel := context.WithTimeout(ctx, qmpTimeout)
	status, err := c.QueryStatus(qctx)
	cancel()
	switch {
	case err != nil:
		s.log.Info("Cannot query the VM status, stopping QEMU", "err", err)
	case status.Status == qmp.StatusShutdown:
		exit.Success, exit.Message = true, "the guest powered off"
	case grace > 0 && status.Status != qmp.StatusPrelaunch:
		s.event(corev1.EventTypeNormal, ReasonShuttingDown, fmt.Sprintf("pressed the ACPI power button; stopping QEMU if the guest is still running after %s", grace))
		if s.powerOff(ctx, c, status.Status, grace) {
			exit.Success, exit.Message = true, "the guest powered off"
		} else {
			exit.Message = fmt.Sprintf("the guest did not power off within %s; QEMU was stopped", grace)
		}
	}
	exit.At = time.Now()
	s.event(corev1.EventTypeNormal, ReasonStopped, exit.Message)
	return s.quit(ctx, c, pid, exit)
}

// powerOff presses the power button of a VM in run state status and
// reports whether the guest powered off within grace.
func (s *syncer) powerOff(ctx context.Context, c *qmp.Client, status string, grace time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, grace)
	defer cancel()
	// A paused or suspended guest cannot see the power button.
	switch status {
	case qmp.StatusSuspended:
		_ = c.Execute(ctx, "system_wakeup", nil, nil)
	case qmp.StatusRunning:
	default:
		_ = c.Execute(ctx, "cont", nil, nil)
	}
	if err := c.Execute(ctx, "system_powerdown", nil, nil); err != nil {
		s.log.Info("Cannot press the power button", "err", err)
		return false
	}
	s.st.PowerdownAt = time.Now()
	// With -no-shutdown, SHUTDOWN means the guest powered off and QEMU
	// stopped it.
	_, err := c.WaitEvent(ctx, "SHUTDOWN")
	return err == nil
}

// RemovePod implements runtime.Runtime: it kills any QEMU of the pod,
// removes the pod's network links and sandbox and then its directory.
func (r *Runtime) RemovePod(ctx context.Context, uid types.UID) error {
	if err := validUID(uid); err != nil {
		return err
	}
	defer r.lockPod(uid)()
	log := klog.FromContext(ctx).WithValues("uid", uid)
	dir := r.podDir(uid)
	if _, err := os.Stat(dir); err == nil {
		st, err := r.loadState(uid)
		if err != nil {
			log.Info("Ignoring unreadable VM state", "err", err)
			st = &podState{}
		}
		// Besides the recorded pids, any process serving the pod's QMP
		// socket: nothing of the pod may outlive it.
		pids := qemuProcesses(dir)
		if pid := findQEMU(dir, st); pid != 0 {
			pids = append(pids, pid)
		}
		for _, pid := range pids {
			if err := killQEMU(ctx, pid, dir); err != nil {
				return err
			}
			forgetChild(pid)
		}
		if st.Boot != nil {
			forgetChild(st.Boot.PID)
		}
		if st.Network != nil {
			if err := unbridgeVM(st.Network); err != nil {
				log.Info("Cannot remove the VM's bridge, leaving it to the sandbox removal", "err", err)
			}
		}
	}
	if sb := r.cfg.Sandboxes; sb != nil {
		if err := sb.RemoveSandbox(ctx, uid); err != nil {
			return fmt.Errorf("removing the pod sandbox: %w", err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing the pod directory: %w", err)
	}
	return nil
}

// qemuProcesses finds the processes whose command line names the QMP
// socket of the pod in dir.
func qemuProcesses(dir string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	needle := []byte(qemuEscape(filepath.Join(dir, qmpSocketFile)))
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, needle) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Pods implements runtime.Runtime: the pods that have a directory. A
// directory without a readable record is listed by its UID alone, so that
// the agent removes it.
func (r *Runtime) Pods(ctx context.Context) ([]runtime.PodRef, error) {
	entries, err := os.ReadDir(r.cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", r.cfg.StateDir, err)
	}
	var refs []runtime.PodRef
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		ref := runtime.PodRef{UID: types.UID(e.Name())}
		var rec podRecord
		if err := readJSON(filepath.Join(r.cfg.StateDir, e.Name(), podFile), &rec); err == nil && rec.UID == ref.UID {
			ref.Tenant, ref.Namespace, ref.Name = rec.Tenant, rec.Namespace, rec.Name
		}
		refs = append(refs, ref)
	}
	return refs, nil
}
