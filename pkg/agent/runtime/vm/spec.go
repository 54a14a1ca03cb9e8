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

package vm

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

const (
	defaultVMName = "vm"
	// defaultMemory when the VM requests none.
	defaultMemory = 512 << 20
	// minMemory is below what any Linux guest boots with.
	minMemory = 32 << 20
	// maxCPUs is what QEMU's q35 machine takes without extra configuration.
	maxCPUs = 255
	// defaultShutdownGrace applies when the pod sets no termination grace
	// period.
	defaultShutdownGrace = 30 * time.Second
)

// vmName is the VM's name in status, like a container's name.
func vmName(pod *v1.Pod) string {
	if vm := pod.Spec.VirtualMachine; vm != nil && vm.Name != "" {
		return vm.Name
	}
	return defaultVMName
}

// desiredPower is the power state the pod asks for.
func desiredPower(pod *v1.Pod) v1.VirtualMachinePowerState {
	if p := pod.Spec.VirtualMachine.PowerState; p != "" {
		return p
	}
	return v1.PowerStateRunning
}

func restartPolicy(pod *v1.Pod) corev1.RestartPolicy {
	if p := pod.Spec.RestartPolicy; p != "" {
		return p
	}
	return corev1.RestartPolicyAlways
}

func shutdownGrace(pod *v1.Pod) time.Duration {
	if s := pod.Spec.TerminationGracePeriodSeconds; s != nil && *s >= 0 {
		return time.Duration(*s) * time.Second
	}
	return defaultShutdownGrace
}

// vmResources returns the vCPUs and the memory in bytes (whole MiB) the VM
// gets, or an error for values QEMU or the node cannot honour.
func vmResources(res corev1.ResourceRequirements) (int32, int64, error) {
	cpus := int64(1)
	cpu, ok := res.Requests[corev1.ResourceCPU]
	if !ok {
		cpu, ok = res.Limits[corev1.ResourceCPU]
	}
	if ok {
		if cpu.Sign() < 0 {
			return 0, 0, fmt.Errorf("cpu %s is negative", cpu.String())
		}
		// Fractions round up: 500m is one vCPU.
		if n := (cpu.MilliValue() + 999) / 1000; n > 0 {
			cpus = n
		}
	}
	if cpus > maxCPUs {
		return 0, 0, fmt.Errorf("cpu %s is more than the %d vCPUs a VM can have", cpu.String(), maxCPUs)
	}

	mem := int64(defaultMemory)
	q, ok := res.Requests[corev1.ResourceMemory]
	if !ok {
		q, ok = res.Limits[corev1.ResourceMemory]
	}
	if ok {
		mem = q.Value()
		if mem < minMemory {
			return 0, 0, fmt.Errorf("memory %s is less than the minimum of %s", q.String(), resource.NewQuantity(minMemory, resource.BinarySI).String())
		}
		if total := nodeMemory(); total > 0 && mem > total {
			return 0, 0, fmt.Errorf("memory %s is more than the node's %s", q.String(), resource.NewQuantity(total, resource.BinarySI).String())
		}
	}
	// QEMU takes whole MiB.
	mem = (mem + (1<<20 - 1)) &^ (1<<20 - 1)
	return int32(cpus), mem, nil
}

// nodeMemory returns MemTotal from /proc/meminfo, or 0 if unknown.
func nodeMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// guestMAC derives the guest NIC's MAC address from the pod UID, so it is
// the same across restarts of the VM and of the agent: a locally
// administered unicast address.
func guestMAC(uid types.UID) string {
	h := sha256.Sum256([]byte(uid))
	mac := net.HardwareAddr(h[:6])
	mac[0] = mac[0]&0xfc | 0x02
	return mac.String()
}

// hostname is the guest's host name: the pod's spec.hostname or its name.
func hostname(pod *v1.Pod) string {
	if pod.Spec.Hostname != "" {
		return pod.Spec.Hostname
	}
	return pod.Name
}

// kernelArgs completes the kernel command line: the serial console the log
// is read from and, with a network, an ip= argument so that an initramfs
// can configure the pod address without cloud-init.
func kernelArgs(args string, pod *v1.Pod, net *guestNetwork) string {
	fields := strings.Fields(args)
	has := func(prefix string) bool {
		for _, f := range fields {
			if strings.HasPrefix(f, prefix) {
				return true
			}
		}
		return false
	}
	if !has("console=") {
		fields = append(fields, "console=ttyS0")
	}
	if net != nil && !has("ip=") {
		if ipArg := net.kernelIPArg(hostname(pod)); ipArg != "" {
			fields = append(fields, ipArg)
		}
	}
	return strings.Join(fields, " ")
}

// pullPolicy defaults like a container's: Always for :latest or untagged
// references, IfNotPresent otherwise.
func pullPolicy(ref string, p corev1.PullPolicy) corev1.PullPolicy {
	if p != "" {
		return p
	}
	if strings.Contains(ref, "@") {
		return corev1.PullIfNotPresent
	}
	// The tag follows the last ":" after the last "/" (a ":" before it is
	// a registry port).
	name := ref[strings.LastIndex(ref, "/")+1:]
	if _, tag, ok := strings.Cut(name, ":"); !ok || tag == "latest" {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}

// qemuEscape escapes a value for a QEMU option list, where "," separates
// options.
func qemuEscape(s string) string { return strings.ReplaceAll(s, ",", ",,") }

// isUUID reports whether s looks like a UUID, as -uuid requires.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}
