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
	"runtime"
	"strconv"
	"strings"
	"time"
)

// procField is the value of the first "key: value" line of a /proc file
// whose key is key, or "unknown".
func procField(path, key string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	for line := range strings.Lines(string(data)) {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// memTotal is the machine's memory, from /proc/meminfo.
func memTotal() string {
	v := procField("/proc/meminfo", "MemTotal")
	kb, err := strconv.ParseFloat(strings.TrimSuffix(v, " kB"), 64)
	if err != nil {
		return v
	}
	return fmt.Sprintf("%.1f GiB", kb/(1<<20))
}

// loadAverage is the 1, 5 and 15 minute load averages.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	fields := strings.Fields(string(data))
	if len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], " ")
}

// header prints what was measured, where and when.
func (r *runner) header(server string) {
	t := newTable("Environment", "", "", "")
	t.add("Date", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	t.add("Machine", fmt.Sprintf("%d CPUs (%s), %s memory; the bench's clients run on it too",
		runtime.NumCPU(), procField("/proc/cpuinfo", "model name"), memTotal()))
	t.add("Load average at start", loadAverage())
	t.add("Go", runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH)
	t.add("Server", server)
	t.add("Clients", fmt.Sprintf("client-go, QPS %g, burst %d per client set, protobuf for built-in kinds (client-go's default)", r.cfg.QPS, r.cfg.Burst))
	t.write(r.out)
}
