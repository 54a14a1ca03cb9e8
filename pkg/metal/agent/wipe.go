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

package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
)

const (
	// wipeEdge is how much a fast wipe zeroes at each end of a disk: the
	// MBR or GPT header and partition array at the start, the backup GPT
	// and RAID superblocks at the end.
	wipeEdge = 1 << 20
	// wipeChunk is the size of a full wipe's writes: large enough for disks
	// to stream, small enough to notice cancellation and show progress.
	wipeChunk = 4 << 20
)

// wipeProgress counts the bytes written by a wipe, out of its total.
type wipeProgress struct {
	done, total atomic.Int64
}

func (p *wipeProgress) percent() int32 {
	total := p.total.Load()
	if total == 0 {
		return 0
	}
	return int32(p.done.Load() * 100 / total)
}

// wipe wipes the disks at paths, in parallel since each has its own
// bandwidth, and returns the errors of all that failed.
func wipe(ctx context.Context, paths []string, mode metalv1alpha1.WipeMode, p *wipeProgress) error {
	if mode != metalv1alpha1.WipeFast && mode != metalv1alpha1.WipeFull {
		return fmt.Errorf("unknown wipe mode %q", mode)
	}
	type disk struct {
		f    *os.File
		size int64
	}
	var disks []disk
	defer func() {
		for _, d := range disks {
			d.f.Close()
		}
	}()
	for _, path := range paths {
		// O_EXCL on a block device fails while anything has it open, such
		// as a mounted file system.
		f, err := os.OpenFile(path, os.O_RDWR|unix.O_EXCL|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("wipe: %w", err)
		}
		size, err := f.Seek(0, io.SeekEnd)
		if err != nil {
			f.Close()
			return fmt.Errorf("wipe: size of %s: %w", path, err)
		}
		disks = append(disks, disk{f, size})
		if mode == metalv1alpha1.WipeFull {
			p.total.Add(size)
		} else {
			p.total.Add(min(2*wipeEdge, size))
		}
	}

	var wg sync.WaitGroup
	errs := make([]error, len(disks))
	for i, d := range disks {
		wg.Go(func() {
			if err := wipeDisk(ctx, d.f, d.size, mode, p); err != nil {
				errs[i] = fmt.Errorf("wipe %s: %w", d.f.Name(), err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func wipeDisk(ctx context.Context, f *os.File, size int64, mode metalv1alpha1.WipeMode, p *wipeProgress) error {
	head := min(wipeEdge, size)
	if mode == metalv1alpha1.WipeFull {
		if err := zero(ctx, f, 0, size, p); err != nil {
			return err
		}
	} else {
		// Discarding first lets SSDs forget everything; the zeroes that
		// follow make the ends read back zero whatever discard does.
		if err := discard(f, size); err != nil {
			return err
		}
		if err := zero(ctx, f, 0, head, p); err != nil {
			return err
		}
		if err := zero(ctx, f, max(size-wipeEdge, head), size, p); err != nil {
			return err
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	// Dropping the device's page cache makes the check read the disk.
	// Regular files (tests) have no such ioctl.
	if err := unix.IoctlSetInt(int(f.Fd()), unix.BLKFLSBUF, 0); err != nil && err != unix.ENOTTY {
		return fmt.Errorf("flush buffers: %w", err)
	}
	for _, off := range []int64{0, max(size-wipeEdge, 0)} {
		if err := checkZero(f, off, min(wipeEdge, size)); err != nil {
			return err
		}
	}
	// Let the kernel forget the partitions it read at boot; it fails
	// harmlessly on disks without partitions support.
	_ = unix.IoctlSetInt(int(f.Fd()), unix.BLKRRPART, 0)
	return nil
}

// zeroes is the source of every wipe's writes, shared read-only by the
// disks wiped at once; made on first use so that the processes of this
// binary that never wipe do not carry it.
var zeroes = sync.OnceValue(func() []byte { return make([]byte, wipeChunk) })

// zero writes zeroes from start to end, counting them in p.
func zero(ctx context.Context, f *os.File, start, end int64, p *wipeProgress) error {
	for off := start; off < end; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := f.WriteAt(zeroes()[:min(wipeChunk, end-off)], off)
		p.done.Add(int64(n))
		off += int64(n)
		if err != nil {
			return fmt.Errorf("writing at %d: %w", off, err)
		}
	}
	return nil
}

// discard tells the disk that no block holds data any more (BLKDISCARD).
// Disks without discard support, and regular files, are left as they are.
func discard(f *os.File, size int64) error {
	r := [2]uint64{0, uint64(size)}
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), unix.BLKDISCARD, uintptr(unsafe.Pointer(&r)))
	switch errno {
	case 0, unix.EOPNOTSUPP, unix.ENOTTY:
		return nil
	default:
		return fmt.Errorf("discard: %w", errno)
	}
}

func checkZero(f *os.File, off, n int64) error {
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, off); err != nil {
		return fmt.Errorf("reading back at %d: %w", off, err)
	}
	if i := slices.IndexFunc(buf, func(b byte) bool { return b != 0 }); i >= 0 {
		return fmt.Errorf("byte %d is not zero after wiping", off+int64(i))
	}
	return nil
}
