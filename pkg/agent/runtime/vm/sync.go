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
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime"
	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime/vm/qmp"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/internal/logtail"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// Reasons in the VM status and in Events.
const (
	ReasonStarted          = "Started"
	ReasonPaused           = "Paused"
	ReasonResumed          = "Resumed"
	ReasonShuttingDown     = "ShuttingDown"
	ReasonShutdown         = "Shutdown"
	ReasonStopped          = "Stopped"
	ReasonCompleted        = "Completed"
	ReasonPoweredOff       = "PoweredOff"
	ReasonFailed           = "Failed"
	ReasonQEMUExited       = "QEMUExited"
	ReasonStartError       = "StartError"
	ReasonInternalError    = "InternalError"
	ReasonGuestPanicked    = "GuestPanicked"
	ReasonIOError          = "IOError"
	ReasonSuspended        = "Suspended"
	ReasonUnresponsive     = "Unresponsive"
	ReasonCrashLoopBackOff = "CrashLoopBackOff"
	ReasonBackOff          = "BackOff"
	ReasonInvalidDiskImage = "InvalidDiskImage"
	ReasonInvalidResources = "InvalidResources"
	ReasonInvalidSpec      = "InvalidSpec"
	ReasonErrImagePull     = "ErrImagePull"
)

// view is the observed state of the VM that becomes its status.
type view struct {
	state   v1.VirtualMachineState
	power   v1.VirtualMachinePowerState
	reason  string
	message string
}

// podFailure is a start failure that belongs to the pod, not the runtime.
type podFailure struct {
	state   v1.VirtualMachineState
	reason  string
	message string
}

func (f *podFailure) Error() string { return f.reason + ": " + f.message }

// syncer carries one call's view of a pod.
type syncer struct {
	r   *Runtime
	pod *v1.Pod
	st  *podState
	dir string
	log klog.Logger
	now time.Time
}

func (r *Runtime) newSyncer(ctx context.Context, pod *v1.Pod) (*syncer, error) {
	st, err := r.loadState(pod.UID)
	if err != nil {
		return nil, err
	}
	return &syncer{
		r:   r,
		pod: pod,
		st:  st,
		dir: r.podDir(pod.UID),
		log: klog.FromContext(ctx).WithValues("pod", klog.KObj(pod), "uid", pod.UID),
		now: time.Now(),
	}, nil
}

// SyncPod implements runtime.Runtime.
func (r *Runtime) SyncPod(ctx context.Context, pod *v1.Pod) (runtime.PodStatus, error) {
	if pod.Spec.VirtualMachine == nil {
		return runtime.PodStatus{}, fmt.Errorf("pod %s/%s has no virtualMachine", pod.Namespace, pod.Name)
	}
	if err := validUID(pod.UID); err != nil {
		return runtime.PodStatus{}, err
	}
	defer r.lockPod(pod.UID)()
	if err := r.ensurePodDir(pod); err != nil {
		return runtime.PodStatus{}, err
	}
	s, err := r.newSyncer(ctx, pod)
	if err != nil {
		return runtime.PodStatus{}, err
	}
	v, err := s.sync(ctx)
	if serr := r.saveState(pod.UID, s.st); serr != nil {
		err = errors.Join(err, serr)
	}
	return s.status(v), err
}

// ensurePodDir creates the pod's directory and its record.
func (r *Runtime) ensurePodDir(pod *v1.Pod) error {
	dir := r.podDir(pod.UID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the pod directory: %w", err)
	}
	path := filepath.Join(dir, podFile)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	return writeJSON(path, podRecord{
		UID:       pod.UID,
		Tenant:    string(tenancy.OfObject(pod.Annotations)),
		Namespace: pod.Namespace,
		Name:      pod.Name,
	})
}

func (s *syncer) sync(ctx context.Context) (view, error) {
	desired := desiredPower(s.pod)
	if s.st.Stopped {
		desired = v1.PowerStateShutdown
	}
	if pid := findQEMU(s.dir, s.st); pid != 0 {
		v, running, err := s.syncRunning(ctx, pid, desired)
		if err != nil || running {
			return v, err
		}
	}
	s.recordExit()
	return s.syncStopped(ctx, desired)
}

// syncRunning applies the desired power state to a running QEMU. running is
// false when QEMU was made to exit (the guest powered off, failed, or did
// not shut down in time) and the VM is now stopped.
func (s *syncer) syncRunning(ctx context.Context, pid int, desired v1.VirtualMachinePowerState) (view, bool, error) {
	c, err := dialQMP(ctx, s.dir)
	if err != nil {
		if ctx.Err() != nil {
			return view{}, true, err
		}
		if !alive(pid, s.dir) {
			return view{}, false, nil // it just exited
		}
		// Still starting, or wedged; QEMU is left alone and asked again on
		// the next sync.
		if s.st.Boot != nil && s.now.Sub(s.st.Boot.StartedAt) < qmpReadyTimeout {
			return view{state: v1.VirtualMachineCreating, power: v1.PowerStateShutdown, reason: "Starting"}, true, nil
		}
		msg := fmt.Sprintf("QEMU (pid %d) does not answer on QMP: %v", pid, err)
		s.warnOnce(ReasonUnresponsive, msg)
		return view{state: v1.VirtualMachineFailed, power: v1.PowerStateRunning, reason: ReasonUnresponsive, message: msg}, true, nil
	}
	defer c.Close()
	qctx, cancel := context.WithTimeout(ctx, qmpTimeout)
	defer cancel()
	status, err := c.QueryStatus(qctx)
	if err != nil {
		return view{}, true, fmt.Errorf("querying the VM status: %w", err)
	}

	running := view{state: v1.VirtualMachineRunning, power: v1.PowerStateRunning}
	paused := view{state: v1.VirtualMachinePaused, power: v1.PowerStatePaused}

	switch status.Status {
	case qmp.StatusShutdown:
		// The guest powered off; QEMU stays only because of -no-shutdown.
		exit := exitState{At: s.now, Reason: ReasonCompleted, Message: "the guest powered off", Success: true}
		if !s.st.PowerdownAt.IsZero() {
			exit.Reason, exit.Message, exit.Requested = ReasonShutdown, "the guest powered off as requested", true
		}
		s.event(corev1.EventTypeNormal, ReasonPoweredOff, exit.Message)
		return view{}, false, s.quit(ctx, c, pid, exit)

	case qmp.StatusInternalError, qmp.StatusGuestPanicked:
		exit := exitState{At: s.now, Reason: ReasonInternalError, Message: "QEMU stopped the VM after an emulation error"}
		if status.Status == qmp.StatusGuestPanicked {
			exit.Reason, exit.Message = ReasonGuestPanicked, "the guest kernel panicked"
		}
		s.event(corev1.EventTypeWarning, ReasonFailed, exit.Message)
		return view{}, false, s.quit(ctx, c, pid, exit)

	case qmp.StatusRunning:
		switch desired {
		case v1.PowerStatePaused:
			if err := c.Execute(qctx, "stop", nil, nil); err != nil {
				return running, true, fmt.Errorf("pausing the VM: %w", err)
			}
			s.event(corev1.EventTypeNormal, ReasonPaused, "paused the VM")
			return paused, true, nil
		case v1.PowerStateShutdown:
			return s.powerdown(ctx, c, pid)
		}
		if !s.st.PowerdownAt.IsZero() {
			running.reason, running.message = ReasonShuttingDown, "the guest is powering off"
		}
		return running, true, nil

	case qmp.StatusSuspended:
		if desired == v1.PowerStateRunning {
			if err := c.Execute(qctx, "system_wakeup", nil, nil); err != nil {
				return paused, true, fmt.Errorf("waking the VM: %w", err)
			}
			return running, true, nil
		}
		if desired == v1.PowerStateShutdown {
			return s.quitNow(ctx, c, pid)
		}
		paused.reason, paused.message = ReasonSuspended, "the guest suspended itself"
		return paused, true, nil

	default:
		// paused, prelaunch (started with -S), io-error (paused on a host
		// I/O error), and transitional states.
		prelaunch := status.Status == qmp.StatusPrelaunch
		if status.Status == qmp.StatusIOError && desired != v1.PowerStateShutdown {
			// Resuming would only retry the failing I/O; a person has to
			// look at the host first.
			paused.reason, paused.message = ReasonIOError, "QEMU paused the VM after a host I/O error"
			s.warnOnce(ReasonIOError, paused.message)
			return paused, true, nil
		}
		switch desired {
		case v1.PowerStateRunning:
			if err := c.Execute(qctx, "cont", nil, nil); err != nil {
				return paused, true, fmt.Errorf("resuming the VM: %w", err)
			}
			if !prelaunch {
				s.event(corev1.EventTypeNormal, ReasonResumed, "resumed the VM")
			}
			return running, true, nil
		case v1.PowerStateShutdown:
			if prelaunch {
				// Never ran: nothing to shut down gracefully.
				return s.quitNow(ctx, c, pid)
			}
			// A paused guest cannot see the power button.
			if err := c.Execute(qctx, "cont", nil, nil); err != nil {
				return paused, true, fmt.Errorf("resuming the VM to power it off: %w", err)
			}
			return s.powerdown(ctx, c, pid)
		}
		return paused, true, nil
	}
}

// powerdown presses the ACPI power button once and, when the guest has not
// powered off within the pod's grace period, makes QEMU quit.
func (s *syncer) powerdown(ctx context.Context, c *qmp.Client, pid int) (view, bool, error) {
	grace := shutdownGrace(s.pod)
	if s.st.PowerdownAt.IsZero() {
		qctx, cancel := context.WithTimeout(ctx, qmpTimeout)
		defer cancel()
		if err := c.Execute(qctx, "system_powerdown", nil, nil); err != nil {
			return view{}, true, fmt.Errorf("pressing the power button: %w", err)
		}
		s.st.PowerdownAt = s.now
		s.event(corev1.EventTypeNormal, ReasonShuttingDown, fmt.Sprintf("pressed the ACPI power button; stopping QEMU if the guest is still running after %s", grace))
	}
	if s.now.Sub(s.st.PowerdownAt) < grace {
		return view{
			state:   v1.VirtualMachineRunning,
			power:   v1.PowerStateRunning,
			reason:  ReasonShuttingDown,
			message: fmt.Sprintf("waiting up to %s for the guest to power off", grace),
		}, true, nil
	}
	exit := exitState{At: s.now, Reason: ReasonShutdown, Message: fmt.Sprintf("the guest did not power off within %s; QEMU was stopped", grace), Requested: true}
	s.event(corev1.EventTypeNormal, ReasonStopped, exit.Message)
	return view{}, false, s.quit(ctx, c, pid, exit)
}

// quitNow stops QEMU at once for powerState Shutdown.
func (s *syncer) quitNow(ctx context.Context, c *qmp.Client, pid int) (view, bool, error) {
	exit := exitState{At: s.now, Reason: ReasonShutdown, Message: "the VM was stopped", Requested: true}
	return view{}, false, s.quit(ctx, c, pid, exit)
}

// quit makes QEMU exit and records how the boot ended. The intent is saved
// first: an agent that dies before recording the exit must not take it
// for a crash.
func (s *syncer) quit(ctx context.Context, c *qmp.Client, pid int, exit exitState) error {
	s.adopt(pid)
	s.st.Boot.QuitRequested = true
	if err := s.r.saveState(s.pod.UID, s.st); err != nil {
		return err
	}
	// A stop that has begun is finished even if the caller gives up; each
	// step is bounded.
	ctx = context.WithoutCancel(ctx)
	qctx, cancel := context.WithTimeout(ctx, qmpTimeout)
	_ = c.Execute(qctx, "quit", nil, nil) // the reply may be lost as QEMU exits
	cancel()
	c.Close()
	if err := waitGone(ctx, pid, s.dir, quitTimeout); err != nil {
		if err := killQEMU(ctx, pid, s.dir); err != nil {
			return err
		}
	}
	s.finishBoot(exit)
	return nil
}

// adopt makes sure the state describes the QEMU with pid, which it may
// not when the state was lost or the agent died right after starting it.
func (s *syncer) adopt(pid int) {
	if b := s.st.Boot; b == nil || b.PID != pid || b.Exited {
		s.st.Boot = &bootState{PID: pid, StartedAt: s.now}
	}
}

// recordExit notices a boot that ended without the runtime making it end:
// QEMU crashed or was killed.
func (s *syncer) recordExit() {
	b := s.st.Boot
	if b == nil || b.Exited {
		return
	}
	if b.QuitRequested {
		// The runtime asked QEMU to quit and then lost track (the agent
		// restarted); the exit was intended.
		s.finishBoot(exitState{At: s.now, Reason: ReasonStopped, Message: "QEMU was stopped", Requested: true})
		return
	}
	how := exitDescription(b.PID)
	if how == "" {
		how = "exited"
	}
	msg := "QEMU " + how + " unexpectedly"
	if tail := logtail.Last(filepath.Join(s.dir, qemuLogFile)); tail != "" {
		msg += ": " + tail
	}
	s.event(corev1.EventTypeWarning, ReasonFailed, msg)
	s.finishBoot(exitState{At: s.now, Reason: ReasonQEMUExited, Message: msg})
}

// finishBoot records the end of the current boot and arms the back-off for
// a restart the pod did not ask for.
func (s *syncer) finishBoot(exit exitState) {
	b := s.st.Boot
	b.Exited = true
	forgetChild(b.PID)
	s.st.LastExit = &exit
	if exit.Requested {
		s.st.NextStart = time.Time{}
		return
	}
	s.armBackOff(exit.At.Sub(b.StartedAt), exit.At)
}

// armBackOff sets when the VM may start again, as the kubelet does for
// containers: the first restart is immediate, the next ones wait
// InitialBackOff, doubling up to MaxBackOff; a VM that ran for BackOffReset
// starts over.
func (s *syncer) armBackOff(ranFor time.Duration, at time.Time) {
	cfg := s.r.cfg
	if ranFor >= cfg.BackOffReset {
		s.st.BackOff = 0
	}
	s.st.NextStart = at.Add(s.st.BackOff)
	if s.st.BackOff == 0 {
		s.st.BackOff = cfg.InitialBackOff
	} else {
		s.st.BackOff = min(2*s.st.BackOff, cfg.MaxBackOff)
	}
}

// syncStopped decides whether a VM that is not running starts, following
// the desired power state and the restart policy.
func (s *syncer) syncStopped(ctx context.Context, desired v1.VirtualMachinePowerState) (view, error) {
	stopped := view{state: v1.VirtualMachineStopped, power: v1.PowerStateShutdown}
	last := s.st.LastExit
	if last != nil {
		stopped.reason, stopped.message = last.Reason, last.Message
		if !last.Success && !last.Requested {
			stopped.state = v1.VirtualMachineFailed
		}
	}
	if s.st.Stopped || desired == v1.PowerStateShutdown {
		if last == nil {
			stopped.reason = ReasonShutdown
			stopped.message = "powerState is Shutdown"
		}
		return stopped, nil
	}

	fail := s.st.StartFailure
	switch {
	case fail != nil:
		// Retried whatever the restart policy: the VM never ran.
	case s.st.Boot == nil, last == nil, last.Requested:
		// First start, or started again after a requested stop.
	default:
		switch restartPolicy(s.pod) {
		case corev1.RestartPolicyNever:
			return stopped, nil
		case corev1.RestartPolicyOnFailure:
			if last.Success {
				return stopped, nil
			}
		}
	}

	if wait := s.st.NextStart.Sub(s.now); wait > 0 {
		if fail != nil {
			msg := fmt.Sprintf("%s (retrying in %s)", fail.Message, wait.Round(time.Second))
			return view{state: failureState(fail.Reason), power: v1.PowerStateShutdown, reason: fail.Reason, message: msg}, nil
		}
		msg := fmt.Sprintf("back-off %s restarting the VM; last exit: %s: %s", wait.Round(time.Second), last.Reason, last.Message)
		s.warnOnce(ReasonBackOff, fmt.Sprintf("back-off restarting the VM; %s: %s", last.Reason, last.Message))
		stopped.reason, stopped.message = ReasonCrashLoopBackOff, msg
		return stopped, nil
	}
	return s.start(ctx, desired)
}

func failureState(reason string) v1.VirtualMachineState {
	if reason == ReasonErrImagePull {
		return v1.VirtualMachinePending
	}
	return v1.VirtualMachineFailed
}

// start prepares and starts a new boot of the VM.
func (s *syncer) start(ctx context.Context, desired v1.VirtualMachinePowerState) (view, error) {
	l, err := s.prepare(ctx)
	var pf *podFailure
	if errors.As(err, &pf) {
		s.st.StartFailure = &exitState{At: s.now, Reason: pf.reason, Message: pf.message}
		s.armBackOff(0, s.now)
		s.event(corev1.EventTypeWarning, pf.reason, pf.message)
		return view{state: pf.state, power: v1.PowerStateShutdown, reason: pf.reason, message: pf.message}, nil
	}
	if err != nil {
		return view{state: v1.VirtualMachineCreating, power: v1.PowerStateShutdown, reason: "Creating", message: err.Error()}, err
	}
	l.paused = desired == v1.PowerStatePaused

	// Each boot has its own console log; the previous one stays for
	// kubectl logs --previous.
	first := s.st.Boot == nil
	if !first {
		console := filepath.Join(s.dir, consoleFile)
		if err := os.Rename(console, filepath.Join(s.dir, prevConsoleFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return view{}, fmt.Errorf("rotating the console log: %w", err)
		}
	}

	pid, err := s.r.startQEMU(ctx, l)
	if pid != 0 {
		if !first {
			s.st.RestartCount++
		}
		s.st.Boot = &bootState{PID: pid, StartedAt: time.Now(), Accelerator: l.accel, CPUs: l.cpus, Memory: l.memory}
		s.st.StartFailure = nil
		s.st.PowerdownAt = time.Time{}
		s.st.LastEvent = ""
		// Saved at once: from here on a QEMU runs that the next agent
		// must find.
		if serr := s.r.saveState(s.pod.UID, s.st); serr != nil {
			err = errors.Join(err, serr)
		}
	}
	var exited *qemuExitedError
	switch {
	case errors.As(err, &exited):
		msg := "QEMU failed to start: " + exited.Error()
		s.event(corev1.EventTypeWarning, ReasonFailed, msg)
		s.finishBoot(exitState{At: time.Now(), Reason: ReasonStartError, Message: msg})
		return view{state: v1.VirtualMachineFailed, power: v1.PowerStateShutdown, reason: ReasonStartError, message: msg}, nil
	case err != nil && pid != 0:
		// Started but never answered: do not leave it behind.
		kerr := killQEMU(context.WithoutCancel(ctx), pid, s.dir)
		s.finishBoot(exitState{At: time.Now(), Reason: ReasonStartError, Message: err.Error()})
		return view{state: v1.VirtualMachineFailed, power: v1.PowerStateShutdown, reason: ReasonStartError, message: err.Error()}, kerr
	case err != nil:
		return view{state: v1.VirtualMachineCreating, power: v1.PowerStateShutdown}, err
	}

	s.event(corev1.EventTypeNormal, ReasonStarted, fmt.Sprintf("started the VM (%s, %d vCPU, %s memory)",
		l.accel, l.cpus, resource.NewQuantity(l.memory, resource.BinarySI)))
	s.log.V(2).Info("Started VM", "pid", pid, "accelerator", l.accel)
	if l.paused {
		return view{state: v1.VirtualMachinePaused, power: v1.PowerStatePaused}, nil
	}
	return view{state: v1.VirtualMachineRunning, power: v1.PowerStateRunning}, nil
}

// prepare gets everything a boot needs: resources, files, the disk overlay,
// the network and the seed. Problems of the pod are *podFailure.
func (s *syncer) prepare(ctx context.Context) (launch, error) {
	spec := s.pod.Spec.VirtualMachine
	cpus, memory, err := vmResources(spec.Resources)
	if err != nil {
		return launch{}, &podFailure{v1.VirtualMachineFailed, ReasonInvalidResources, err.Error()}
	}
	if spec.Image == "" && (spec.Kernel == nil || spec.Kernel.Kernel == "") {
		return launch{}, &podFailure{v1.VirtualMachineFailed, ReasonInvalidSpec, "the VM has neither an image nor a kernel"}
	}
	l := launch{
		dir:    s.dir,
		name:   s.pod.Namespace + "/" + s.pod.Name,
		accel:  s.r.Accelerator(),
		cpus:   cpus,
		memory: memory,
		seed:   filepath.Join(s.dir, seedFile),
	}
	if isUUID(string(s.pod.UID)) {
		l.uuid = string(s.pod.UID)
	}

	if spec.Kernel != nil && spec.Kernel.Kernel != "" {
		if l.kernel, err = s.resolve(ctx, spec.Kernel.Kernel); err != nil {
			return launch{}, err
		}
		if spec.Kernel.Initrd != "" {
			if l.initrd, err = s.resolve(ctx, spec.Kernel.Initrd); err != nil {
				return launch{}, err
			}
		}
	}
	if spec.Image != "" {
		l.disk = filepath.Join(s.dir, overlayFile)
		if _, err := os.Stat(l.disk); err != nil {
			base, err := s.resolve(ctx, spec.Image)
			if err != nil {
				return launch{}, err
			}
			if err := s.r.createOverlay(ctx, base, l.disk); err != nil {
				var bad *invalidDiskError
				if errors.As(err, &bad) {
					return launch{}, &podFailure{v1.VirtualMachineFailed, ReasonInvalidDiskImage, fmt.Sprintf("image %s: %s", spec.Image, bad.msg)}
				}
				return launch{}, err
			}
		}
	}

	if sb := s.r.cfg.Sandboxes; sb != nil {
		sandbox, err := sb.EnsureSandbox(ctx, s.pod)
		if err != nil {
			return launch{}, fmt.Errorf("setting up the pod network: %w", err)
		}
		gn, err := bridgeVM(sandbox.NetNS, guestMAC(s.pod.UID), s.st.Network, func(gn *guestNetwork) error {
			s.st.Network = gn
			return s.r.saveState(s.pod.UID, s.st)
		})
		if err != nil {
			return launch{}, fmt.Errorf("bridging the VM onto the pod network: %w", err)
		}
		s.st.Network = gn
		l.net = gn
	}

	if l.kernel != "" {
		args := ""
		if spec.Kernel != nil {
			args = spec.Kernel.Args
		}
		l.cmdline = kernelArgs(args, s.pod, l.net)
	}

	seed, err := seedImage(s.pod, l.net)
	if err != nil {
		return launch{}, err
	}
	if err := writeFileAtomic(l.seed, seed); err != nil {
		return launch{}, err
	}
	return l, nil
}

// resolve turns a kernel, initrd or disk reference into a file: absolute
// paths are files on the node, anything else an OCI image.
func (s *syncer) resolve(ctx context.Context, ref string) (string, error) {
	if filepath.IsAbs(ref) {
		if _, err := os.Stat(ref); err != nil {
			return "", &podFailure{v1.VirtualMachineFailed, ReasonInvalidSpec, fmt.Sprintf("file %s: %v", ref, errors.Unwrap(err))}
		}
		return ref, nil
	}
	if s.r.cfg.Images == nil {
		return "", &podFailure{v1.VirtualMachinePending, ReasonErrImagePull, fmt.Sprintf("cannot pull %s: the node has no image service", ref)}
	}
	spec := s.pod.Spec.VirtualMachine
	path, err := s.r.cfg.Images.ImageFile(ctx, ref, pullPolicy(ref, spec.ImagePullPolicy))
	if err != nil {
		if ctx.Err() != nil {
			return "", err
		}
		return "", &podFailure{v1.VirtualMachinePending, ReasonErrImagePull, fmt.Sprintf("pulling %s: %v", ref, err)}
	}
	return path, nil
}

// status builds what SyncPod reports.
func (s *syncer) status(v view) runtime.PodStatus {
	vs := &v1.VirtualMachineStatus{
		Name:         vmName(s.pod),
		State:        v.state,
		PowerState:   v.power,
		RestartCount: s.st.RestartCount,
		Reason:       v.reason,
		Message:      v.message,
		Ready:        v.state == v1.VirtualMachineRunning && v.power == v1.PowerStateRunning && v.reason != ReasonShuttingDown,
	}
	if b := s.st.Boot; b != nil {
		vs.Accelerator = b.Accelerator
		vs.CPUs = b.CPUs
		vs.Memory = resource.NewQuantity(b.Memory, resource.BinarySI)
	}
	var st runtime.PodStatus
	st.VirtualMachine = vs
	if n := s.st.Network; n != nil {
		st.PodIPs = n.ips()
	}
	return st
}

func (s *syncer) event(eventType, reason, message string) {
	if rec := s.r.cfg.Recorder; rec != nil {
		rec.Event(s.pod, eventType, reason, message)
	}
}

// warnOnce emits a warning that would otherwise repeat on every sync only
// when it changes.
func (s *syncer) warnOnce(reason, message string) {
	key := reason + ": " + message
	if s.st.LastEvent == key {
		return
	}
	s.st.LastEvent = key
	s.event(corev1.EventTypeWarning, reason, message)
}
