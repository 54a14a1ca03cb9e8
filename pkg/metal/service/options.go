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

package service

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/spf13/pflag"

	"github.com/arcturus-cloud/arcturus/pkg/metal/dhcp"
	"github.com/arcturus-cloud/arcturus/pkg/metal/lifecycle"
)

// Options are the flags of `arcturus metal`.
type Options struct {
	// Kubeconfig reaches the region as a system identity.
	Kubeconfig string
	// DataDir holds the agent's initramfs and fetched Environment files.
	DataDir string
	// HTTPAddress serves boot scripts, Environment files, configs and the
	// agent's API.
	HTTPAddress string
	// AdvertiseAddress is the IP address servers reach this service at;
	// by default the first IPv4 address of Interface.
	AdvertiseAddress string
	// Interface is the network servers boot from.
	Interface string
	DHCPMode  string
	// DHCPRange is the pool of the full DHCP mode: first-last.
	DHCPRange  string
	DHCPRouter string
	DHCPDNS    []string
	// TFTPAddress serves the iPXE binaries from IPXEDir; empty turns TFTP off.
	TFTPAddress string
	IPXEDir     string
	AutoAccept  bool
	// AgentInit is the static binary the agent's initramfs runs as /init;
	// this binary when empty.
	AgentInit     string
	AgentKernel   string
	AgentArgs     []string
	HealthAddress string
	LeaderElect   bool
	Timing        lifecycle.Timing
	// QPS and Burst bound this service's requests to the region: every
	// agent report is a read and a write, so they size the fleet it serves.
	QPS   float32
	Burst int
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		HTTPAddress: ":8081", DHCPMode: string(dhcp.ModeProxy), TFTPAddress: ":69", IPXEDir: "/usr/lib/ipxe",
		AgentArgs:     []string{"console=tty0", "console=ttyS0,115200n8", "panic=10"},
		HealthAddress: "127.0.0.1:10256", LeaderElect: true, Timing: lifecycle.DefaultTiming,
		QPS: 500, Burst: 1000,
	}
}

// AddFlags adds the metal service's flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Kubeconfig of a system identity of the region.")
	fs.StringVar(&o.DataDir, "data-dir", o.DataDir, "Directory for the agent's initramfs and fetched Environment files (default: metal under arcturus's data directory).")
	fs.StringVar(&o.HTTPAddress, "http-address", o.HTTPAddress, "Address serving boot scripts, Environment files, /configdata and the agent's API.")
	fs.StringVar(&o.AdvertiseAddress, "advertise-address", o.AdvertiseAddress, "IP address booting servers reach this service at (default: the first IPv4 address of --interface).")
	fs.StringVar(&o.Interface, "interface", o.Interface, "Network interface servers boot from; DHCP answers on it only.")
	fs.StringVar(&o.DHCPMode, "dhcp-mode", o.DHCPMode, "proxy: answer PXE clients beside the network's DHCP server; full: also hand out addresses, for isolated lab networks; off: no DHCP.")
	fs.StringVar(&o.DHCPRange, "dhcp-range", o.DHCPRange, "Address pool of --dhcp-mode full, as first-last.")
	fs.StringVar(&o.DHCPRouter, "dhcp-router", o.DHCPRouter, "Router handed out by --dhcp-mode full.")
	fs.StringSliceVar(&o.DHCPDNS, "dhcp-dns", o.DHCPDNS, "DNS servers handed out by --dhcp-mode full.")
	fs.StringVar(&o.TFTPAddress, "tftp-address", o.TFTPAddress, "Address serving the iPXE binaries over TFTP; empty turns TFTP off.")
	fs.StringVar(&o.IPXEDir, "ipxe-dir", o.IPXEDir, "Directory with undionly.kpxe and ipxe.efi (Debian's ipxe package).")
	fs.BoolVar(&o.AutoAccept, "auto-accept", o.AutoAccept, "Accept newly registered servers into the pool at once.")
	fs.StringVar(&o.AgentKernel, "agent-kernel", o.AgentKernel, "Kernel the inventory agent boots (default: the newest /boot/vmlinuz-*).")
	fs.StringSliceVar(&o.AgentArgs, "agent-kernel-args", o.AgentArgs, "Kernel arguments of the inventory agent.")
	fs.StringVar(&o.HealthAddress, "health-address", o.HealthAddress, "Address serving /healthz, /readyz, /metrics and /debug/pprof over plain HTTP (keep it on loopback); empty disables it.")
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect, "Elect one replica, through a Lease, to run the metal controllers; boot services run on every replica.")
	fs.DurationVar(&o.Timing.Heartbeat, "agent-heartbeat", o.Timing.Heartbeat, "How often agents report.")
	fs.DurationVar(&o.Timing.AgentTimeout, "agent-timeout", o.Timing.AgentTimeout, "How long after its last report an agent counts as gone.")
	fs.DurationVar(&o.Timing.BootTimeout, "boot-timeout", o.Timing.BootTimeout, "How long a server is given to boot after a power action before the next one.")
	fs.Float32Var(&o.QPS, "kube-api-qps", o.QPS, "Requests per second to the region's API server; agent reports cost two each.")
	fs.IntVar(&o.Burst, "kube-api-burst", o.Burst, "Burst of requests to the region's API server.")
}

// Validate checks the flags and fills in the advertise address.
func (o *Options) Validate() error {
	var errs []error
	switch dhcp.Mode(o.DHCPMode) {
	case dhcp.ModeProxy, dhcp.ModeFull, dhcp.ModeOff:
	default:
		errs = append(errs, fmt.Errorf("--dhcp-mode %q: want proxy, full or off", o.DHCPMode))
	}
	if dhcp.Mode(o.DHCPMode) != dhcp.ModeOff && o.Interface == "" {
		errs = append(errs, errors.New("--interface is required unless --dhcp-mode off"))
	}
	if dhcp.Mode(o.DHCPMode) == dhcp.ModeFull && o.DHCPRange == "" {
		errs = append(errs, errors.New("--dhcp-range is required with --dhcp-mode full"))
	}
	if o.AdvertiseAddress == "" && o.Interface != "" {
		ip, err := interfaceIPv4(o.Interface)
		if err != nil {
			errs = append(errs, err)
		}
		o.AdvertiseAddress = ip.String()
	}
	if net.ParseIP(o.AdvertiseAddress) == nil {
		errs = append(errs, fmt.Errorf("--advertise-address %q is not an IP address (set it, or --interface)", o.AdvertiseAddress))
	}
	if o.Timing.Heartbeat < 1e9 || o.Timing.AgentTimeout < 2*o.Timing.Heartbeat {
		errs = append(errs, errors.New("--agent-heartbeat must be at least 1s and --agent-timeout at least twice that"))
	}
	return errors.Join(errs...)
}

// interfaceIPv4 is the first IPv4 address of interface name.
func interfaceIPv4(name string) (net.IP, error) {
	iface, err := net.InterfaceByName(name)
	if err != nil {
		return nil, fmt.Errorf("--interface %s: %w", name, err)
	}
	addrs, err := iface.Addrs()
	if err != nil {
		return nil, fmt.Errorf("--interface %s: %w", name, err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
			return n.IP.To4(), nil
		}
	}
	return nil, fmt.Errorf("--interface %s has no IPv4 address", name)
}

// pool parses the full mode's pool from the flags; the subnet is that of
// the interface's address.
func (o *Options) pool() (*dhcp.PoolConfig, error) {
	first, last, ok := strings.Cut(o.DHCPRange, "-")
	start, end := net.ParseIP(strings.TrimSpace(first)), net.ParseIP(strings.TrimSpace(last))
	if !ok || start.To4() == nil || end.To4() == nil {
		return nil, fmt.Errorf("--dhcp-range %q: want first-last IPv4 addresses", o.DHCPRange)
	}
	subnet, err := interfaceSubnet(o.Interface, net.ParseIP(o.AdvertiseAddress))
	if err != nil {
		return nil, err
	}
	p := &dhcp.PoolConfig{Start: start, End: end, Subnet: subnet}
	if o.DHCPRouter != "" {
		if p.Router = net.ParseIP(o.DHCPRouter); p.Router == nil {
			return nil, fmt.Errorf("--dhcp-router %q is not an IP address", o.DHCPRouter)
		}
	}
	for _, d := range o.DHCPDNS {
		ip := net.ParseIP(d)
		if ip == nil {
			return nil, fmt.Errorf("--dhcp-dns %q is not an IP address", d)
		}
		p.DNS = append(p.DNS, ip)
	}
	return p, nil
}

// interfaceSubnet is the subnet of address ip on interface name.
func interfaceSubnet(name string, ip net.IP) (*net.IPNet, error) {
	iface, err := net.InterfaceByName(name)
	if err != nil {
		return nil, fmt.Errorf("--interface %s: %w", name, err)
	}
	addrs, err := iface.Addrs()
	if err != nil {
		return nil, fmt.Errorf("--interface %s: %w", name, err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return &net.IPNet{IP: n.IP.Mask(n.Mask), Mask: n.Mask}, nil
		}
	}
	return nil, fmt.Errorf("--interface %s does not have address %s", name, ip)
}
