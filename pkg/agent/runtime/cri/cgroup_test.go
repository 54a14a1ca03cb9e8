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

package cri

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/arcturus-cloud/arcturus/pkg/internal/mountinfo"
)

func TestPodCgroupDirs(t *testing.T) {
	mounts := mountinfo.Parse(`33 25 0:28 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
34 33 0:29 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
35 33 0:30 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd
38 33 0:33 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
39 33 0:34 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
40 33 0:34 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
41 33 0:35 /other /mnt/other rw - cgroup2 cgroup2 rw
42 33 0:36 /arcturus /mnt/nested rw - cgroup2 cgroup2 rw
`)
	got := podCgroupDirs(mounts, podCgroup("u1"))
	want := []string{
		"/sys/fs/cgroup/unified/arcturus/podu1",
		"/sys/fs/cgroup/systemd/arcturus/podu1",
		"/sys/fs/cgroup/memory/arcturus/podu1",
		"/sys/fs/cgroup/cpu,cpuacct/arcturus/podu1",
		"/mnt/nested/podu1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestRemoveCgroupTree(t *testing.T) {
	root := filepath.Join(t.TempDir(), "podu1")
	for _, d := range []string{"sandbox", "c1/leftover"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := removeCgroupTree(root); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("%s still there: %v", root, err)
	}
	if err := removeCgroupTree(root); err != nil {
		t.Errorf("removing it again: %v", err)
	}

	// A directory that cannot go (here a file in it; for a cgroup, a
	// process) is reported, not skipped.
	busy := filepath.Join(t.TempDir(), "busy")
	os.MkdirAll(filepath.Join(busy, "c1"), 0o755)
	os.WriteFile(filepath.Join(busy, "c1", "tasks"), []byte("1\n"), 0o644)
	if err := removeCgroupTree(busy); err == nil {
		t.Error("no error for a cgroup that could not be removed")
	}
}
