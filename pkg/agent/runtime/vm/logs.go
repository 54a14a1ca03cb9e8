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
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

// followInterval is how often a followed console log is checked for more.
const followInterval = 200 * time.Millisecond

// errLimit ends a copy that reached LimitBytes.
var errLimit = errors.New("log limit reached")

// Logs implements runtime.Runtime: it writes the VM's serial console log.
// Each boot of the VM has its own log; Previous selects the one before the
// current boot. QEMU writes the console to the file as the guest prints, so
// lines carry no time: Timestamps is ignored, and SinceTime only skips a
// log that was last written before it. Follow ends when ctx ends, when the
// VM stops, or when it restarts (its log is then a new file).
func (r *Runtime) Logs(ctx context.Context, pod *v1.Pod, container string, opts runtime.LogOptions, w io.Writer) error {
	name := vmName(pod)
	if container != "" && container != name {
		return fmt.Errorf("pod %s/%s has no container %q, only the VM %q", pod.Namespace, pod.Name, container, name)
	}
	if err := validUID(pod.UID); err != nil {
		return err
	}
	dir := r.podDir(pod.UID)
	path := filepath.Join(dir, consoleFile)
	if opts.Previous {
		path = filepath.Join(dir, prevConsoleFile)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		if opts.Previous {
			return fmt.Errorf("previous terminated VM %q in pod %s/%s not found", name, pod.Namespace, pod.Name)
		}
		return fmt.Errorf("VM %q in pod %s/%s has not started", name, pod.Namespace, pod.Name)
	}
	if err != nil {
		return fmt.Errorf("opening the console log: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("reading the console log: %w", err)
	}

	offset := int64(0)
	switch {
	case opts.SinceTime != nil && info.ModTime().Before(*opts.SinceTime):
		offset = info.Size()
	case opts.TailLines > 0:
		if offset, err = tailOffset(f, info.Size(), opts.TailLines); err != nil {
			return fmt.Errorf("reading the console log: %w", err)
		}
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return fmt.Errorf("reading the console log: %w", err)
	}
	out := io.Writer(w)
	if opts.LimitBytes > 0 {
		out = &limitWriter{w: w, n: opts.LimitBytes}
	}
	copyAll := func() (int64, error) {
		n, err := io.Copy(out, f)
		if errors.Is(err, errLimit) {
			return n, errLimit
		}
		return n, err
	}
	if _, err := copyAll(); err != nil || !opts.Follow || opts.Previous {
		return ignoreLimit(err)
	}

	t := time.NewTicker(followInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		n, err := copyAll()
		if err != nil {
			return ignoreLimit(err)
		}
		if n > 0 {
			continue
		}
		if !r.logFollowable(pod.UID, info) {
			// Whatever came in between.
			_, err := copyAll()
			return ignoreLimit(err)
		}
	}
}

// logFollowable reports whether the followed log may still grow: the VM
// runs and its log is still the file being read.
func (r *Runtime) logFollowable(uid types.UID, following fs.FileInfo) bool {
	dir := r.podDir(uid)
	cur, err := os.Stat(filepath.Join(dir, consoleFile))
	if err != nil || !os.SameFile(cur, following) {
		return false
	}
	st, err := r.loadState(uid)
	if err != nil {
		return false
	}
	return findQEMU(dir, st) != 0
}

func ignoreLimit(err error) error {
	if errors.Is(err, errLimit) {
		return nil
	}
	return err
}

// tailOffset returns where the last n lines of f (of size bytes) start.
func tailOffset(f *os.File, size, n int64) (int64, error) {
	const chunk = 8192
	end := size
	// A final newline ends the last line; it does not start another.
	if end > 0 {
		b := make([]byte, 1)
		if _, err := f.ReadAt(b, end-1); err != nil {
			return 0, err
		}
		if b[0] == '\n' {
			end--
		}
	}
	buf := make([]byte, chunk)
	for pos := end; pos > 0; {
		start := max(pos-chunk, 0)
		b := buf[:pos-start]
		if _, err := f.ReadAt(b, start); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		for i := len(b) - 1; i >= 0; i-- {
			if b[i] == '\n' {
				if n--; n == 0 {
					return start + int64(i) + 1, nil
				}
			}
		}
		pos = start
	}
	return 0, nil
}

// limitWriter writes at most n bytes, then fails with errLimit.
type limitWriter struct {
	w io.Writer
	n int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errLimit
	}
	if int64(len(p)) > l.n {
		m, err := l.w.Write(p[:l.n])
		l.n -= int64(m)
		if err == nil {
			err = errLimit
		}
		return m, err
	}
	m, err := l.w.Write(p)
	l.n -= int64(m)
	return m, err
}
