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

package bench

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"
)

// process is a child process the bench started: a server or an agent.
type process struct {
	cmd *exec.Cmd
	// exited is closed when the process has exited; waitErr is then its
	// exit status.
	exited  chan struct{}
	waitErr error
}

// startProcess starts cmd and waits for it in the background.
func startProcess(cmd *exec.Cmd) (*process, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// bound returns a context that also ends when the process exits, so that
// measurements stop when what they measure has died.
func (p *process) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-p.exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// terminate sends SIGTERM and waits for the process to exit, killing it
// after timeout. what names it in errors; a process that had exited
// already is an error too.
func (p *process) terminate(what string, timeout time.Duration) error {
	select {
	case <-p.exited:
		if p.waitErr != nil {
			return fmt.Errorf("%s exited early: %w", what, p.waitErr)
		}
		return fmt.Errorf("%s exited early, with status 0", what)
	default:
	}
	var errs []error
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		errs = append(errs, fmt.Errorf("stopping the %s: %w", what, err))
	}
	select {
	case <-p.exited:
		if p.waitErr != nil {
			errs = append(errs, fmt.Errorf("%s stopped with an error: %w", what, p.waitErr))
		}
	case <-time.After(timeout):
		errs = append(errs, fmt.Errorf("%s did not stop within %v; killed it", what, timeout))
		if err := p.cmd.Process.Kill(); err != nil {
			errs = append(errs, fmt.Errorf("killing the %s: %w", what, err))
		}
		<-p.exited
	}
	return errors.Join(errs...)
}
