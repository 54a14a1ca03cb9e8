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
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/types"

	"github.com/arcturus-cloud/arcturus/pkg/internal/mountinfo"
)

// podCgroup is the cgroup, from the root of each hierarchy, that holds a
// pod's sandbox and containers (the sandbox's cgroup parent, in the
// cgroupfs driver's form).
func podCgroup(uid types.UID) string { return "/arcturus/pod" + string(uid) }

// removePodCgroup removes a pod's cgroup from every hierarchy. The runtime
// removes the cgroups of the sandbox and containers it ran, but not the
// parent the agent named; the kubelet's pod cgroup manager removes its own
// the same way. A cgroup that still holds processes is an error: they
// outlived their pod.
func removePodCgroup(uid types.UID) error {
	mounts, err := mountinfo.Read()
	if err != nil {
		return err
	}
	var errs []error
	for _, dir := range podCgroupDirs(mounts, podCgroup(uid)) {
		if err := removeCgroupTree(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// podCgroupDirs returns where cgroup lies in each mounted hierarchy (one
// for cgroup v2, one per controller for v1), once each.
func podCgroupDirs(mounts []mountinfo.Mount, cgroup string) []string {
	var dirs []string
	seen := map[string]bool{}
	for _, m := range mounts {
		if m.FSType != "cgroup" && m.FSType != "cgroup2" {
			continue
		}
		// A hierarchy mounted from below its root (in a container) shows
		// only the cgroups under that root.
		rel, ok := strings.CutPrefix(cgroup, strings.TrimSuffix(m.Root, "/"))
		if !ok || !strings.HasPrefix(rel, "/") {
			continue
		}
		dir := filepath.Join(m.Point, rel)
		if !seen[dir] {
			seen[dir] = true
			dirs = append(dirs, dir)
		}
	}
	return dirs
}

// removeCgroupTree removes a cgroup and any left below it, deepest first.
// A cgroup's directory goes with rmdir while its interface files are still
// listed in it, so only subdirectories are walked.
func removeCgroupTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading cgroup %s: %w", dir, err)
	}
	var errs []error
	for _, e := range entries {
		if e.IsDir() {
			if err := removeCgroupTree(filepath.Join(dir, e.Name())); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing cgroup %s: %w", dir, err)
	}
	return nil
}
