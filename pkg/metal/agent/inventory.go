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
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/klog/v2"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
	"github.com/arcturus-cloud/arcturus/pkg/metal/agentapi"
)

// AddressFunc returns the IP addresses of a network interface, in CIDR
// notation.
type AddressFunc func(ifname string) ([]string, error)

// Inventory finds the server's hardware in the files under root ("/" on
// the server): the SMBIOS system information and tables in /sys/class/dmi
// and /sys/firmware/dmi, processors in /sys/devices/system/cpu, memory in
// /proc/meminfo, disks in /sys/block and network interfaces in
// /sys/class/net. addrs, when not nil, gives the interfaces' addresses.
// Only the system UUID, which names the server, and the kernel's own
// files are required; what the firmware may lack is left empty.
func Inventory(ctx context.Context, root string, addrs AddressFunc) (agentapi.Registration, error) {
	log := klog.FromContext(ctx)
	var reg agentapi.Registration
	hw := &reg.Hardware
	var err error
	if reg.UUID, hw.System, err = readSystem(root); err != nil {
		return reg, err
	}
	if hw.Compute, err = readCompute(root); err != nil {
		return reg, err
	}
	if hw.Memory.Total, err = readMemTotal(root); err != nil {
		return reg, err
	}

	table, err := os.ReadFile(filepath.Join(root, "sys/firmware/dmi/tables/DMI"))
	switch {
	case err == nil:
		ss, err := parseSMBIOS(table)
		if err != nil {
			log.Info("The SMBIOS table is damaged, using what precedes the damage", "err", err)
		}
		hw.Compute.Processors = smbiosProcessors(ss)
		hw.Memory.Modules = smbiosMemoryModules(ss)
	case !os.IsNotExist(err):
		log.Info("Cannot read the SMBIOS table", "err", err)
	}

	if hw.Storage, err = readDisks(root); err != nil {
		return reg, err
	}
	if hw.Network, err = readInterfaces(log, root, addrs); err != nil {
		return reg, err
	}
	return reg, nil
}

// readAttr returns a sysfs attribute without surrounding blanks, or "" when
// it cannot be read: many attributes exist only for some devices, and some
// fail to read, such as the speed of an interface without link.
func readAttr(path ...string) string {
	b, err := os.ReadFile(filepath.Join(path...))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func readSystem(root string) (string, metalv1alpha1.SystemInformation, error) {
	dir := filepath.Join(root, "sys/class/dmi/id")
	sys := metalv1alpha1.SystemInformation{
		Manufacturer: readAttr(dir, "sys_vendor"),
		ProductName:  readAttr(dir, "product_name"),
		Version:      readAttr(dir, "product_version"),
		SerialNumber: readAttr(dir, "product_serial"),
		SKUNumber:    readAttr(dir, "product_sku"),
		Family:       readAttr(dir, "product_family"),
		Firmware:     metalv1alpha1.FirmwareBIOS,
	}
	// The kernel has this directory only when UEFI booted it.
	if _, err := os.Stat(filepath.Join(root, "sys/firmware/efi")); err == nil {
		sys.Firmware = metalv1alpha1.FirmwareUEFI
	}
	uuid := strings.ToLower(readAttr(dir, "product_uuid"))
	if uuid == "" {
		return "", sys, fmt.Errorf("no SMBIOS system UUID in %s/product_uuid", dir)
	}
	return uuid, sys, nil
}

var cpuDir = regexp.MustCompile(`^cpu[0-9]+$`)

// readCompute counts the online logical CPUs, their cores and packages.
func readCompute(root string) (metalv1alpha1.ComputeInformation, error) {
	var c metalv1alpha1.ComputeInformation
	dir := filepath.Join(root, "sys/devices/system/cpu")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return c, fmt.Errorf("reading the processors: %w", err)
	}
	packages, cores := map[string]bool{}, map[string]bool{}
	for _, e := range entries {
		if !cpuDir.MatchString(e.Name()) {
			continue
		}
		topo := filepath.Join(dir, e.Name(), "topology")
		pkg := readAttr(topo, "physical_package_id")
		if pkg == "" {
			continue // offline
		}
		c.TotalThreadCount++
		packages[pkg] = true
		// Core ids are unique within a die only.
		cores[pkg+"/"+readAttr(topo, "die_id")+"/"+readAttr(topo, "core_id")] = true
	}
	if c.TotalThreadCount == 0 {
		return c, fmt.Errorf("no online processor in %s", dir)
	}
	c.ProcessorCount, c.TotalCoreCount = int32(len(packages)), int32(len(cores))
	return c, nil
}

func readMemTotal(root string) (resource.Quantity, error) {
	file := filepath.Join(root, "proc/meminfo")
	b, err := os.ReadFile(file)
	if err != nil {
		return resource.Quantity{}, fmt.Errorf("reading the memory size: %w", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return resource.Quantity{}, fmt.Errorf("%s: MemTotal: %w", file, err)
			}
			return *resource.NewQuantity(kb<<10, resource.BinarySI), nil
		}
	}
	return resource.Quantity{}, fmt.Errorf("%s has no MemTotal", file)
}

// notDisks are the prefixes of block devices that are not disks: loop, RAM
// and compressed RAM devices, optical and floppy drives, device-mapper and
// software RAID devices, network block devices.
var notDisks = []string{"loop", "ram", "zram", "sr", "fd", "dm-", "md", "nbd"}

// mmcHWPartition matches the boot and RPMB partitions of eMMC devices,
// which Linux shows as disks but are not for data.
var mmcHWPartition = regexp.MustCompile(`^mmcblk[0-9]+(boot[0-9]+|rpmb)$`)

// readDisks lists the whole disks that the agent can wipe: those with a
// medium that are not read-only.
func readDisks(root string) (metalv1alpha1.StorageInformation, error) {
	var st metalv1alpha1.StorageInformation
	dir := filepath.Join(root, "sys/block")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return st, fmt.Errorf("reading the disks: %w", err)
	}
	var total int64
	for _, e := range entries {
		name := e.Name()
		if slices.ContainsFunc(notDisks, func(p string) bool { return strings.HasPrefix(name, p) }) || mmcHWPartition.MatchString(name) {
			continue
		}
		d := filepath.Join(dir, name)
		sectors, err := strconv.ParseInt(readAttr(d, "size"), 10, 64)
		if err != nil || sectors <= 0 || readAttr(d, "ro") == "1" {
			continue
		}
		size := sectors * 512 // sysfs counts 512-byte sectors whatever the disk's
		total += size
		disk := metalv1alpha1.Disk{
			Name:         name,
			Size:         *resource.NewQuantity(size, resource.BinarySI),
			Type:         diskType(d, name),
			Model:        readAttr(d, "device/model"),
			SerialNumber: diskSerial(d),
			WWID:         cmp.Or(readAttr(d, "device/wwid"), readAttr(d, "wwid")),
		}
		st.Disks = append(st.Disks, disk)
	}
	st.Total = *resource.NewQuantity(total, resource.BinarySI)
	return st, nil
}

func diskType(dir, name string) string {
	switch {
	case strings.HasPrefix(name, "nvme"):
		return "NVMe"
	case strings.HasPrefix(name, "vd"), strings.HasPrefix(name, "xvd"):
		return "Virtual"
	case readAttr(dir, "queue/rotational") == "1":
		return "HDD"
	default:
		return "SSD"
	}
}

// diskSerial finds the serial number where the disk's driver puts it:
// NVMe controllers and virtio disks have an attribute, SCSI and SATA disks
// the Unit Serial Number VPD page.
func diskSerial(dir string) string {
	if s := cmp.Or(readAttr(dir, "device/serial"), readAttr(dir, "serial")); s != "" {
		return s
	}
	page, err := os.ReadFile(filepath.Join(dir, "device/vpd_pg80"))
	if err != nil || len(page) < 4 || page[1] != 0x80 {
		return ""
	}
	n := min(int(page[2])<<8|int(page[3]), len(page)-4)
	return strings.TrimSpace(strings.TrimRight(string(page[4:4+n]), "\x00"))
}

// readInterfaces lists the physical network interfaces: those backed by a
// device, unlike loopback, bridges, bonds and other virtual ones.
func readInterfaces(log klog.Logger, root string, addrs AddressFunc) (metalv1alpha1.NetworkInformation, error) {
	var ni metalv1alpha1.NetworkInformation
	dir := filepath.Join(root, "sys/class/net")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ni, fmt.Errorf("reading the network interfaces: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		d := filepath.Join(dir, name)
		if _, err := os.Stat(filepath.Join(d, "device")); err != nil {
			continue
		}
		nic := metalv1alpha1.NetworkInterface{
			Name: name,
			MAC:  strings.ToLower(readAttr(d, "address")),
		}
		if v, err := strconv.ParseInt(readAttr(d, "mtu"), 10, 32); err == nil {
			nic.MTU = int32(v)
		}
		// Drivers that do not know the speed say -1, or fail without link.
		if v, err := strconv.ParseInt(readAttr(d, "speed"), 10, 32); err == nil && v > 0 {
			nic.SpeedMbps = int32(v)
		}
		if addrs != nil {
			if nic.Addresses, err = addrs(name); err != nil {
				log.Info("Cannot list the addresses of a network interface", "interface", name, "err", err)
			}
		}
		ni.Interfaces = append(ni.Interfaces, nic)
	}
	return ni, nil
}
