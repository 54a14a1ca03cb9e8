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
	"fmt"
	"os"

	"github.com/arcturus-cloud/arcturus/pkg/initramfs"
)

// initMarker starts the line the bench's guest /init prints on the serial
// console, followed by the guest's uptime in seconds.
const initMarker = "arcturus-bench-init uptime="

// benchInit is the guest's /init: it reports the uptime at which user space
// started and then idles.
const benchInit = `#!/bin/sh
/bin/busybox mount -t proc proc /proc
echo "` + initMarker + `$(/bin/busybox cut -d' ' -f1 /proc/uptime)"
while :; do /bin/busybox sleep 3600; done
`

// writeInitramfs writes an initramfs holding the static busybox at
// busybox and benchInit as /init into path.
func writeInitramfs(path, busybox string) error {
	if err := initramfs.CheckStatic(busybox); err != nil {
		return fmt.Errorf("%w (Debian: busybox-static)", err)
	}
	data, err := os.ReadFile(busybox)
	if err != nil {
		return fmt.Errorf("reading busybox: %w", err)
	}
	a := initramfs.NewArchive()
	a.Dir("proc")
	a.File("bin/busybox", 0o755, data)
	a.Symlink("bin/sh", "busybox")
	// The kernel opens /dev/console for /init.
	a.CharDev("dev/console", 5, 1)
	a.File("init", 0o755, []byte(benchInit))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := a.Write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// newestKernel is the newest readable /boot/vmlinuz-*.
func newestKernel() (string, error) {
	k, err := initramfs.FindKernel()
	if err != nil {
		return "", fmt.Errorf("%w (Debian: linux-image-amd64); give --vm-kernel", err)
	}
	return k.Path, nil
}
