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

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/arcturus-cloud/arcturus/test/framework"
)

// deleteClean deletes pods with kubectl, then expects them gone from the
// host.
func (c *cluster) deleteClean(t *testing.T, names ...string) {
	t.Helper()
	var pods []*corev1.Pod
	for _, name := range names {
		p, err := c.pods.CoreV1().Pods(metav1.NamespaceDefault).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pods = append(pods, p)
	}
	c.kubectl(t, append([]string{"delete", "pod", "--grace-period=1"}, names...)...)
	for _, p := range pods {
		expectHostClean(t, p.UID, p.Status.PodIP)
	}
}

// expectHostClean waits until a deleted pod has left nothing on the host:
// no process, cgroup or mount naming its UID, and no masquerading rule for
// its IP. The node tears the pod down as the API object goes, so what is
// still there shortly after is a leak.
func expectHostClean(t *testing.T, uid types.UID, podIP string) {
	t.Helper()
	framework.Eventually(t, 30*time.Second, "the deleted pod "+string(uid)+" gone from the host", func(context.Context) error {
		if leaks := hostLeaks(string(uid), podIP); len(leaks) > 0 {
			return errors.New(strings.Join(leaks, "; "))
		}
		return nil
	})
}

func hostLeaks(uid, podIP string) []string {
	var leaks []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		cmd, err := os.ReadFile(p)
		if err == nil && bytes.Contains(cmd, []byte(uid)) {
			leaks = append(leaks, fmt.Sprintf("process %s: %s", filepath.Base(filepath.Dir(p)), bytes.ReplaceAll(cmd, []byte{0}, []byte{' '})))
		}
	}
	_ = filepath.WalkDir("/sys/fs/cgroup", func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if strings.Contains(d.Name(), uid) {
			leaks = append(leaks, "cgroup "+path)
			return fs.SkipDir
		}
		return nil
	})
	if mounts, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for line := range strings.Lines(string(mounts)) {
			if strings.Contains(line, uid) {
				leaks = append(leaks, "mount "+strings.TrimSpace(line))
			}
		}
	}
	if podIP != "" {
		if out, err := exec.Command("iptables", "-w", "-t", "nat", "-S", "POSTROUTING").Output(); err == nil {
			for line := range strings.Lines(string(out)) {
				if strings.Contains(line, " -s "+podIP+"/32 ") {
					leaks = append(leaks, "iptables rule "+strings.TrimSpace(line))
				}
			}
		}
	}
	return leaks
}
