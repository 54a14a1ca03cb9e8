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

// Package lab is a bare-metal lab without hardware: QEMU machines with
// disks and SMBIOS identities, each behind an emulated BMC (a Redfish
// service over QMP, or OpenIPMI's ipmi_sim), on a bridge in a network
// namespace where the metal plane's services listen. The machines boot
// the real way: firmware PXE, DHCP, TFTP, iPXE, HTTP, the inventory agent.
//
// `arcturus metal lab up` makes the namespace and starts a supervisor in it
// (`arcturus metal lab run`), which runs the machines, registers them with
// the region as an operator would (BMC and credentials), runs the metal
// service for them and powers them on. `arcturus metal lab down` stops the
// supervisor and removes the namespace and the lab's directory.
package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/google/uuid"
	"github.com/spf13/pflag"

	"github.com/arcturus-cloud/arcturus/pkg/metal/lab/machine"
)

// Options are the flags of `arcturus metal lab up`.
type Options struct {
	// Dir holds the lab's state: machines, logs, the supervisor's pid.
	Dir        string
	Kubeconfig string
	Servers    int
	NetNS      string
	Bridge     string
	// Subnet is the lab network, a /24; the bridge takes its first
	// address, DHCP hands out .100 to .199.
	Subnet     string
	CPUs       int
	MemoryMiB  int
	DiskMiB    int
	Firmware   string
	BMC        string
	AutoAccept bool
	// BootTimeout is the metal service's --boot-timeout: emulated machines
	// boot slowly.
	BootTimeout string
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		Servers: 3, NetNS: "arcturus-lab", Bridge: "arclab0", Subnet: "10.97.0.0/24",
		CPUs: 2, MemoryMiB: 1024, DiskMiB: 2048, Firmware: "mixed", BMC: "mixed", BootTimeout: "10m",
	}
}

// AddFlags adds the flags of `lab up`; `lab down` uses --dir and --netns.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Dir, "dir", o.Dir, "Directory of the lab's state.")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Kubeconfig of a system identity of the region.")
	fs.IntVar(&o.Servers, "servers", o.Servers, "Number of machines.")
	fs.StringVar(&o.NetNS, "netns", o.NetNS, "Network namespace of the lab network.")
	fs.StringVar(&o.Bridge, "bridge", o.Bridge, "Bridge of the lab network, in --netns.")
	fs.StringVar(&o.Subnet, "subnet", o.Subnet, "The lab network, a /24.")
	fs.IntVar(&o.CPUs, "cpus", o.CPUs, "vCPUs per machine.")
	fs.IntVar(&o.MemoryMiB, "memory-mib", o.MemoryMiB, "Memory per machine, MiB; the agent's initramfs lives in it.")
	fs.IntVar(&o.DiskMiB, "disk-mib", o.DiskMiB, "Disk size per machine, MiB.")
	fs.StringVar(&o.Firmware, "firmware", o.Firmware, "bios (SeaBIOS with iPXE in the NIC's ROM), uefi (OVMF's PXE, which fetches iPXE over TFTP), or mixed (alternating).")
	fs.StringVar(&o.BMC, "bmc", o.BMC, "redfish, ipmi, or mixed (alternating).")
	fs.BoolVar(&o.AutoAccept, "auto-accept", o.AutoAccept, "Accept the machines into the pool as soon as they register.")
	fs.StringVar(&o.BootTimeout, "boot-timeout", o.BootTimeout, "The metal service's --boot-timeout.")
}

// Validate checks the options.
func (o *Options) Validate() error {
	var errs []error
	if o.Dir == "" {
		errs = append(errs, errors.New("--dir is required"))
	}
	if o.Servers < 1 || o.Servers > 100 {
		errs = append(errs, fmt.Errorf("--servers %d: want 1 to 100", o.Servers))
	}
	if _, n, err := net.ParseCIDR(o.Subnet); err != nil || n.IP.To4() == nil {
		errs = append(errs, fmt.Errorf("--subnet %q: want an IPv4 /24", o.Subnet))
	} else if ones, _ := n.Mask.Size(); ones != 24 {
		errs = append(errs, fmt.Errorf("--subnet %q: want an IPv4 /24", o.Subnet))
	}
	for flag, v := range map[string]string{"--firmware": o.Firmware, "--bmc": o.BMC} {
		switch v {
		case "mixed", "bios", "uefi", "redfish", "ipmi":
		default:
			errs = append(errs, fmt.Errorf("%s %q is not supported", flag, v))
		}
	}
	return errors.Join(errs...)
}

// host returns the subnet's address with last octet n.
func (o *Options) host(n byte) net.IP {
	_, subnet, _ := net.ParseCIDR(o.Subnet)
	ip := append(net.IP(nil), subnet.IP.To4()...)
	ip[3] = n
	return ip
}

func (o *Options) gatewayCIDR() string { return o.host(1).String() + "/24" }

// Member is one machine of the lab, as `lab up` reports it.
type Member struct {
	Name     string `json:"name"`
	UUID     string `json:"uuid"`
	MAC      string `json:"mac"`
	Firmware string `json:"firmware"`
	BMC      string `json:"bmc"`
	Endpoint string `json:"endpoint"`
	Console  string `json:"console"`
}

// members plans the lab's machines; they are the same for the same lab
// directory, so a lab brought up again finds its servers registered.
func (o *Options) members() []machine.Spec {
	specs := make([]machine.Spec, 0, o.Servers)
	for i := range o.Servers {
		name := fmt.Sprintf("server-%d", i)
		firmware, bmc := o.Firmware, o.BMC
		if firmware == "mixed" {
			firmware = []string{"bios", "uefi"}[i%2]
		}
		if bmc == "mixed" {
			bmc = []string{"redfish", "ipmi"}[i%2]
		}
		port := 8100 + i
		if bmc == "ipmi" {
			port = 6230 + i
		}
		specs = append(specs, machine.Spec{
			Name:      name,
			Dir:       filepath.Join(o.Dir, name),
			UUID:      uuid.NewSHA1(uuid.NameSpaceURL, []byte("arcturus-lab:"+o.Dir+":"+name)).String(),
			CPUs:      o.CPUs,
			MemoryMiB: o.MemoryMiB,
			DiskBytes: int64(o.DiskMiB) << 20,
			NICs:      []machine.NIC{{MAC: fmt.Sprintf("52:54:00:a7:%02x:%02x", i>>8, i&0xff), Tap: fmt.Sprintf("arclab-t%d", i)}},
			Firmware:  machine.Firmware(firmware),
			BMC: machine.BMCSpec{
				Type: machine.BMCType(bmc), Address: fmt.Sprintf("127.0.0.1:%d", port),
				Username: "admin", Password: "lab-" + name, // IPMI passwords have at most 20 bytes.
			},
		})
	}
	return specs
}

// state is what the supervisor writes once the lab runs.
type state struct {
	PID        int      `json:"pid"`
	Kubeconfig string   `json:"kubeconfig"`
	URL        string   `json:"url"`
	Members    []Member `json:"members"`
}

const (
	stateFile = "lab.json"
	pidFile   = "lab.pid"
	logFile   = "lab.log"
)

func readState(dir string) (*state, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, err
	}
	var s state
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("reading %s: %w", stateFile, err)
	}
	return &s, nil
}
