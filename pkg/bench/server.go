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
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	// readyTimeout bounds how long a server may take to answer /readyz.
	readyTimeout = 2 * time.Minute
	// stopTimeout bounds how long a server may take to exit after SIGTERM.
	stopTimeout = time.Minute
	// maxLoggedErrors is how many error lines of the server's log are shown.
	maxLoggedErrors = 20
)

// childServer is an `arcturus server` the bench runs as a separate process
// with its own data directory and ports, so that its memory can be read
// from /proc.
type childServer struct {
	*process
	// dir holds the data directory and the server's log.
	dir string
	log *os.File
}

// startChild starts this executable's server subcommand with embedded etcd,
// and the flags extra, and returns once it is ready, with the configuration
// of its admin.
func startChild(ctx context.Context, watchCache bool, extra ...string) (*childServer, *rest.Config, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("finding the arcturus executable: %w", err)
	}
	dir, err := os.MkdirTemp("", "arcturus-bench-")
	if err != nil {
		return nil, nil, fmt.Errorf("creating the server's directory: %w", err)
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, nil, errors.Join(err, os.RemoveAll(dir))
	}
	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("creating the server log: %w", err), os.RemoveAll(dir))
	}
	dataDir := filepath.Join(dir, "data")
	args := append([]string{"server",
		"--data-dir", dataDir,
		"--secure-port", strconv.Itoa(ports[0]),
		"--embedded-etcd-client-port", strconv.Itoa(ports[1]),
		"--embedded-etcd-peer-port", strconv.Itoa(ports[2]),
		"--watch-cache=" + strconv.FormatBool(watchCache),
	}, extra...)
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	proc, err := startProcess(cmd)
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("starting %s server: %w", exe, err), logFile.Close(), os.RemoveAll(dir))
	}
	c := &childServer{process: proc, dir: dir, log: logFile}
	cfg, err := waitReady(ctx, filepath.Join(dataDir, "admin.kubeconfig"), c.exited)
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("server in %s: %w", dir, err), c.stop(nil))
	}
	return c, cfg, nil
}

// stop sends SIGTERM, waits for the server to exit (killing it after
// stopTimeout), shows the error lines of its log on logTo when it is not nil
// and removes its directory.
func (c *childServer) stop(logTo func(format string, args ...any)) error {
	var errs []error
	if err := c.terminate("server", stopTimeout); err != nil {
		errs = append(errs, err)
	}
	if logTo != nil {
		if err := showLogErrors(c.log.Name(), logTo); err != nil {
			errs = append(errs, err)
		}
	}
	if err := c.log.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing the server log: %w", err))
	}
	if err := os.RemoveAll(c.dir); err != nil {
		errs = append(errs, fmt.Errorf("removing the server's directory: %w", err))
	}
	return errors.Join(errs...)
}

// showLogErrors shows the klog error lines (those starting with E) of a
// server log.
func showLogErrors(path string, logTo func(format string, args ...any)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reading the server log: %w", err)
	}
	defer f.Close()
	var lines []string
	total := 0
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 64*1024), 1024*1024)
	for scanner.Scan() {
		if line := scanner.Text(); len(line) > 1 && line[0] == 'E' && line[1] >= '0' && line[1] <= '9' {
			total++
			if len(lines) < maxLoggedErrors {
				lines = append(lines, line)
			}
		}
	}
	if err := scanner.Err(); err != nil {
		return fmt.Errorf("reading the server log: %w", err)
	}
	logTo("server log: %d error lines", total)
	for _, l := range lines {
		logTo("  %s", l)
	}
	return nil
}

// waitReady waits for a server to write its admin kubeconfig and answer
// /readyz, giving up when exited is closed.
func waitReady(ctx context.Context, kubeconfig string, exited <-chan struct{}) (*rest.Config, error) {
	var (
		cfg     *rest.Config
		client  rest.Interface
		lastErr error
	)
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, readyTimeout, true, func(ctx context.Context) (bool, error) {
		select {
		case <-exited:
			return false, errors.New("server exited before becoming ready")
		default:
		}
		if client == nil {
			// The kubeconfig may not be written, or not completely.
			c, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
			if err != nil {
				lastErr = err
				return false, nil
			}
			cs, err := kubernetes.NewForConfig(c)
			if err != nil {
				return false, fmt.Errorf("client for %s: %w", c.Host, err)
			}
			cfg, client = c, cs.Discovery().RESTClient()
		}
		_, lastErr = client.Get().AbsPath("/readyz").DoRaw(ctx)
		return lastErr == nil, nil
	})
	if err != nil {
		return nil, fmt.Errorf("waiting for /readyz (last error: %v): %w", lastErr, err)
	}
	return cfg, nil
}

// freePorts returns n loopback TCP ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
