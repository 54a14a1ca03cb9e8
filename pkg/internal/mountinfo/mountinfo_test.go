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

package mountinfo

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	table := `25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
33 25 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
38 33 0:33 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,memory
39 33 0:34 /kubepods /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw
40 30 0:35 / /tmp/a\040b/c\134d rw,relatime shared:1 master:2 - ext4 /dev/sda1 rw
41 30 0:36 / /short
`
	want := []Mount{
		{Root: "/", Point: "/sys", FSType: "sysfs"},
		{Root: "/", Point: "/sys/fs/cgroup", FSType: "tmpfs"},
		{Root: "/", Point: "/sys/fs/cgroup/memory", FSType: "cgroup"},
		{Root: "/kubepods", Point: "/sys/fs/cgroup/unified", FSType: "cgroup2"},
		{Root: "/", Point: `/tmp/a b/c\d`, FSType: "ext4"},
	}
	if got := Parse(table); !reflect.DeepEqual(got, want) {
		t.Errorf("Parse:\n got %+v\nwant %+v", got, want)
	}
}

func TestUnescape(t *testing.T) {
	if got := unescape(`/plain\0`); got != `/plain\0` {
		t.Errorf("short escape: got %q", got)
	}
}

func TestRead(t *testing.T) {
	mounts, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mounts {
		if m.Point == "/" {
			return
		}
	}
	t.Errorf("no root mount in %+v", mounts)
}
