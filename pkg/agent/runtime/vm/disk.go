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
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// qemuImgTimeout bounds qemu-img runs, which only read headers.
const qemuImgTimeout = time.Minute

// diskInfo is the part of `qemu-img info --output=json` the runtime checks.
type diskInfo struct {
	Format          string `json:"format"`
	VirtualSize     int64  `json:"virtual-size"`
	BackingFilename string `json:"backing-filename"`
	FormatSpecific  struct {
		Type string `json:"type"`
		Data struct {
			Corrupt  bool   `json:"corrupt"`
			DataFile string `json:"data-file"`
		} `json:"data"`
	} `json:"format-specific"`
}

// invalidDiskError is a disk image the VM cannot boot from; the pod gets
// reason InvalidDiskImage.
type invalidDiskError struct{ msg string }

func (e *invalidDiskError) Error() string { return e.msg }

// inspectDisk checks that path is a qcow2 or raw image that stands alone
// and returns its format. An image that refers to other files (a backing
// file, an external data file) is refused: its references would be resolved
// on the node, giving the guest access to arbitrary host files.
func (r *Runtime) inspectDisk(ctx context.Context, path string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, qemuImgTimeout)
	defer cancel()
	// -U: the image may be open in running VMs, as their backing file.
	out, err := r.runQEMUImg(ctx, "info", "-U", "--output=json", path)
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("inspecting the disk image: %w", err)
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return "", &invalidDiskError{fmt.Sprintf("qemu-img cannot read the disk image: %s", err)}
		}
		return "", err
	}
	var info diskInfo
	if err := json.Unmarshal(out, &info); err != nil {
		return "", &invalidDiskError{fmt.Sprintf("unexpected qemu-img info output: %v", err)}
	}
	switch {
	case info.Format != "qcow2" && info.Format != "raw":
		return "", &invalidDiskError{fmt.Sprintf("disk image format %q is not supported, use qcow2 or raw", info.Format)}
	case info.VirtualSize <= 0:
		return "", &invalidDiskError{"disk image is empty"}
	case info.BackingFilename != "":
		return "", &invalidDiskError{fmt.Sprintf("disk image refers to a backing file (%s); flatten it with qemu-img convert", info.BackingFilename)}
	case info.FormatSpecific.Data.DataFile != "":
		return "", &invalidDiskError{"disk image has an external data file; flatten it with qemu-img convert"}
	case info.FormatSpecific.Data.Corrupt:
		return "", &invalidDiskError{"disk image is marked corrupt"}
	}
	return info.Format, nil
}

// createOverlay creates the pod's qcow2 overlay of base once. Writes of the
// guest go to the overlay, which lives as long as the pod: restarts of the
// VM keep the guest's disk, as a reboot would.
func (r *Runtime) createOverlay(ctx context.Context, base, overlay string) error {
	if _, err := os.Stat(overlay); err == nil {
		return nil
	}
	format, err := r.inspectDisk(ctx, base)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, qemuImgTimeout)
	defer cancel()
	tmp := overlay + ".tmp"
	os.Remove(tmp)
	if _, err := r.runQEMUImg(ctx, "create", "-q", "-f", "qcow2", "-F", format, "-b", base, tmp); err != nil {
		os.Remove(tmp)
		var exit *exec.ExitError
		if ctx.Err() == nil && errors.As(err, &exit) {
			return &invalidDiskError{fmt.Sprintf("creating the overlay: %s", err)}
		}
		return fmt.Errorf("creating the overlay: %w", err)
	}
	if err := os.Rename(tmp, overlay); err != nil {
		return fmt.Errorf("creating the overlay: %w", err)
	}
	return nil
}

// runQEMUImg runs qemu-img; errors carry its message.
func (r *Runtime) runQEMUImg(ctx context.Context, args ...string) ([]byte, error) {
	if r.qemuImg == "" {
		return nil, fmt.Errorf("qemu-img binary %q not found", r.cfg.QEMUImg)
	}
	cmd := exec.CommandContext(ctx, r.qemuImg, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("%w: %s", err, msg)
		}
		return nil, err
	}
	return out, nil
}
