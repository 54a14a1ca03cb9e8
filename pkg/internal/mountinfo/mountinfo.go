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

// Package mountinfo reads the mount table of /proc/self/mountinfo.
package mountinfo

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Mount is one line of the table.
type Mount struct {
	// Root is the directory of the mounted filesystem that is mounted.
	Root string
	// Point is where it is mounted.
	Point string
	// FSType is the filesystem's type, such as cgroup or cgroup2.
	FSType string
}

// Read returns the calling process's mounts.
func Read() ([]Mount, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("reading the mount table: %w", err)
	}
	return Parse(string(data)), nil
}

// Parse parses the lines of a mountinfo file, skipping malformed ones:
// "36 35 98:0 /root /point options optional-fields - fstype source super-options".
func Parse(table string) []Mount {
	var mounts []Mount
	for line := range strings.Lines(table) {
		f := strings.Fields(line)
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+1 >= len(f) {
			continue
		}
		mounts = append(mounts, Mount{Root: unescape(f[3]), Point: unescape(f[4]), FSType: f[sep+1]})
	}
	return mounts
}

// unescape undoes the octal escapes (\040 for a space) of mountinfo.
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
