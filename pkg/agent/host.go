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
	"fmt"
	"net"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// hostCapacity is what this machine offers pods: all its CPUs and memory
// (no reservations yet) and maxPods pods.
func hostCapacity(maxPods int64) (corev1.ResourceList, error) {
	memory, err := memTotal()
	if err != nil {
		return nil, err
	}
	return corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewQuantity(int64(goruntime.NumCPU()), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(memory, resource.BinarySI),
		corev1.ResourcePods:   *resource.NewQuantity(maxPods, resource.DecimalSI),
	}, nil
}

func memTotal() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, fmt.Errorf("reading memory size: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kib, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parsing MemTotal: %w", err)
			}
			return kib * 1024, nil
		}
	}
	return 0, fmt.Errorf("no MemTotal in /proc/meminfo")
}

// hostAddresses are the node's addresses: the given one, or the source
// address of this machine's default route, and its hostname.
func hostAddresses(nodeIP, hostname string) []corev1.NodeAddress {
	if nodeIP == "" {
		nodeIP = "127.0.0.1"
		// No packet is sent: connecting a UDP socket only picks a route.
		if conn, err := net.Dial("udp4", "192.0.2.1:9"); err == nil {
			nodeIP = conn.LocalAddr().(*net.UDPAddr).IP.String()
			conn.Close()
		}
	}
	return []corev1.NodeAddress{
		{Type: corev1.NodeInternalIP, Address: nodeIP},
		{Type: corev1.NodeHostName, Address: hostname},
	}
}

// hostInfo describes the machine in the Node's status.
func hostInfo(runtimeVersion string) corev1.NodeSystemInfo {
	info := corev1.NodeSystemInfo{
		OperatingSystem: "linux", Architecture: goruntime.GOARCH,
		ContainerRuntimeVersion: runtimeVersion, KubeletVersion: "arcturus", OSImage: osImage(),
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		info.KernelVersion = unix.ByteSliceToString(u.Release[:])
	}
	if id, err := os.ReadFile("/etc/machine-id"); err == nil {
		info.MachineID = strings.TrimSpace(string(id))
	}
	if id, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		info.BootID = strings.TrimSpace(string(id))
	}
	return info
}

func osImage() string {
	data, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return "Linux"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return "Linux"
}
