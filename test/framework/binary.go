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

package framework

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// CommandTimeout bounds one run of the arcturus binary.
const CommandTimeout = 60 * time.Second

// binary is the arcturus binary built for this test binary's tests.
var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Run runs the tests of a package and removes the arcturus binary they
// built. Call it from TestMain: os.Exit(framework.Run(m)).
func Run(m *testing.M) int {
	code := m.Run()
	if binary.dir != "" {
		if err := os.RemoveAll(binary.dir); err != nil {
			fmt.Fprintf(os.Stderr, "removing %s: %v\n", binary.dir, err)
		}
	}
	return code
}

// BinaryPath builds the arcturus command, once per test binary, and returns
// its path.
func BinaryPath(t testing.TB) string {
	t.Helper()
	binary.once.Do(func() {
		binary.dir, binary.err = os.MkdirTemp("", "arcturus-bin-")
		if binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "arcturus")
		build := exec.Command("go", "build", "-o", binary.path, "github.com/arcturus-cloud/arcturus/cmd/arcturus")
		// Static, as the Makefile builds it: the metal plane boots this
		// binary as the inventory agent's /init.
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			binary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatalf("building arcturus: %v", binary.err)
	}
	return binary.path
}

// Command prepares a run of the arcturus binary with args that ends with
// ctx. Its kubectl keeps its discovery cache in a directory of the test.
func Command(ctx context.Context, t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(ctx, BinaryPath(t), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG=", "KUBECACHEDIR="+t.TempDir())
	return cmd
}

// Arcturus runs the arcturus binary with args and returns its output.
func Arcturus(t testing.TB, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), CommandTimeout)
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := Command(ctx, t, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// Kubectl runs the embedded upstream kubectl (arcturus kubectl) with a
// kubeconfig and returns its output.
func Kubectl(t testing.TB, kubeconfig string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return Arcturus(t, KubectlArgs(kubeconfig, args...)...)
}

// KubectlArgs are the arcturus arguments that run kubectl with args.
func KubectlArgs(kubeconfig string, args ...string) []string {
	return append([]string{"kubectl", "--kubeconfig", kubeconfig}, args...)
}
