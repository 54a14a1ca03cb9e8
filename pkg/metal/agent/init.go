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
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/initramfs"
)

// rebootDelay is how long the agent shows a fatal error on the console
// before it reboots to try again.
const rebootDelay = time.Minute

// Init runs the agent as the init process (PID 1) of its initramfs. It
// mounts the kernel's file systems, loads the kernel modules the initramfs
// carries, reaps orphaned processes, and runs the agent with the network
// configured from DHCP. It never returns, since the kernel panics when
// PID 1 exits: when the agent fails, it logs the error, waits and reboots.
// Anywhere else (see IsInit) it returns an error at once rather than mount
// over a running system.
func Init(opts Options) error {
	if !IsInit() {
		return errors.New("the inventory agent runs only as the /init of its initramfs")
	}
	ctx := context.Background()
	log := klog.FromContext(ctx)
	err := setup(ctx)
	if err == nil {
		go reap()
		opts.ConfigureNetwork = true
		err = Run(ctx, opts)
	}
	if err == nil {
		err = errors.New("the agent stopped")
	}
	for {
		log.Error(err, "The inventory agent failed, rebooting", "in", rebootDelay)
		klog.Flush()
		time.Sleep(rebootDelay)
		err = halt(unix.LINUX_REBOOT_CMD_RESTART)
	}
}

// IsInit says whether the process is the /init the kernel started from an
// initramfs. PID 1 alone is not enough: containers run their entrypoint as
// PID 1 too.
func IsInit() bool {
	return os.Getpid() == 1 && len(os.Args) > 0 && os.Args[0] == "/init"
}

// mounts are the file systems init mounts, in order.
var mounts = []struct{ dir, fstype string }{
	{"/proc", "proc"},
	{"/sys", "sysfs"},
	{"/dev", "devtmpfs"},
	{"/run", "tmpfs"},
	{"/tmp", "tmpfs"},
}

// setup mounts the kernel's file systems and loads the modules.
func setup(ctx context.Context) error {
	for _, m := range mounts {
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			return fmt.Errorf("mount %s: %w", m.dir, err)
		}
		if err := unix.Mount(m.fstype, m.dir, m.fstype, unix.MS_NOSUID|unix.MS_NOEXEC, ""); err != nil && err != unix.EBUSY {
			return fmt.Errorf("mount %s on %s: %w", m.fstype, m.dir, err)
		}
	}
	if err := loadModules(ctx, "/"); err != nil {
		return err
	}
	return waitEntropy(ctx)
}

// waitEntropy blocks until the kernel's random number generator is
// initialized. The DHCP client polls for random numbers and gives up after
// a while, but only a blocking read makes the kernel gather entropy from
// CPU timing jitter, which machines without a hardware source (such as VMs
// whose CPU lacks RDRAND) need.
func waitEntropy(ctx context.Context) error {
	b := make([]byte, 1)
	if _, err := unix.Getrandom(b, unix.GRND_NONBLOCK); err != unix.EAGAIN {
		return nil
	}
	log := klog.FromContext(ctx)
	log.Info("Waiting for the kernel's random number generator")
	start := time.Now()
	for {
		_, err := unix.Getrandom(b, 0)
		if err == nil {
			break
		}
		if err != unix.EINTR {
			return fmt.Errorf("getrandom: %w", err)
		}
	}
	log.Info("The kernel's random number generator is ready", "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// loadModules loads the modules listed in the initramfs's load order under
// root, each after those it needs. A module that fails to load is logged
// and skipped: one driver's failure must not keep the agent from using the
// others.
func loadModules(ctx context.Context, root string) error {
	log := klog.FromContext(ctx)
	f, err := os.Open(filepath.Join(root, initramfs.LoadOrder))
	if errors.Is(err, os.ErrNotExist) {
		return nil // a kernel with its drivers built in
	}
	if err != nil {
		return fmt.Errorf("kernel modules: %w", err)
	}
	defer f.Close()
	start, loaded := time.Now(), 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.TrimSpace(sc.Text())
		if p == "" {
			continue
		}
		switch err := loadModule(filepath.Join(root, initramfs.ModulesDir, p)); {
		case err == nil:
			loaded++
		case errors.Is(err, unix.ENODEV):
			// Such as crc32c-intel on a CPU without SSE 4.2.
			log.V(1).Info("A kernel module found nothing to drive", "module", p)
		default:
			log.Error(err, "Cannot load a kernel module", "module", p)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("kernel modules: %w", err)
	}
	log.Info("Loaded the kernel modules", "count", loaded, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

func loadModule(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.FinitModule(int(f.Fd()), "", 0); err != nil && err != unix.EEXIST {
		return err
	}
	return nil
}

// reap waits for the processes that end up children of PID 1, so that
// they do not stay zombies.
func reap() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGCHLD)
	for range sigs {
		for {
			pid, err := unix.Wait4(-1, nil, unix.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
