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
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/agent/cni"
	"github.com/arcturus-cloud/arcturus/pkg/agent/containerd"
	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime/cri"
	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime/sim"
	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime/vm"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/health"
	"github.com/arcturus-cloud/arcturus/pkg/pki"
)

// Options are the agent's command-line settings.
type Options struct {
	// Kubeconfig reaches the resource partition that holds this node, as
	// the node's identity (user system:node:<name>, group system:nodes).
	Kubeconfig string
	// TenantPartitions are kubeconfigs of the tenant partitions whose pods
	// run here; by default the resource partition is the only one.
	TenantPartitions []string
	NodeName         string
	HealthAddress    string
	// DataDir holds the agent's files under agent/: pod logs and volumes,
	// the managed containerd's root and the pod network's configuration.
	DataDir string
	// ContainerdSocket uses a running containerd instead of a managed one.
	ContainerdSocket string
	// PodCIDR gives this node's pods their addresses, on PodBridge.
	PodCIDR   string
	PodBridge string
	// NodeIP is the node's address; by default that of its default route.
	NodeIP  string
	MaxPods int64
	// Port serves logs, exec, attach and port-forward to the API server.
	Port int32

	Simulate       int
	SimulatePrefix string
	SimulateCPU    resource.QuantityValue
	SimulateMemory resource.QuantityValue
	SimulatePods   int64
	SimulateZones  int

	nodeConfig *rest.Config
}

// NewOptions returns the defaults. The data directory has none here: the
// command shares the region's default (apiserver.DefaultDataDir).
func NewOptions() *Options {
	host, _ := os.Hostname()
	return &Options{
		NodeName:       host,
		PodCIDR:        "10.88.0.0/16",
		PodBridge:      "arcturus0",
		MaxPods:        110,
		Port:           10250,
		HealthAddress:  "127.0.0.1:10248",
		SimulatePrefix: "sim",
		SimulateCPU:    resource.QuantityValue{Quantity: resource.MustParse("32")},
		SimulateMemory: resource.QuantityValue{Quantity: resource.MustParse("256Gi")},
		SimulatePods:   110,
		SimulateZones:  3,
	}
}

// AddFlags registers the options' flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Kubeconfig of the node's identity on the resource partition that holds its Node and Lease.")
	fs.StringSliceVar(&o.TenantPartitions, "tenant-partitions", o.TenantPartitions, "Kubeconfigs of the tenant partitions whose pods may run here (default: the --kubeconfig endpoint).")
	fs.StringVar(&o.NodeName, "node-name", o.NodeName, "Name of the node.")
	fs.StringVar(&o.HealthAddress, "health-address", o.HealthAddress, "Address serving /healthz, /readyz, /metrics and /debug/pprof over plain HTTP (keep it on loopback); empty disables it.")
	fs.StringVar(&o.DataDir, "data-dir", o.DataDir, "Directory for the agent's files (under agent/).")
	fs.StringVar(&o.ContainerdSocket, "containerd-socket", o.ContainerdSocket, "Socket of a running containerd to use; by default the agent runs its own with a generated configuration.")
	fs.StringVar(&o.PodCIDR, "pod-cidr", o.PodCIDR, "Address range of this node's pods (used for the pod network of a managed containerd).")
	fs.StringVar(&o.PodBridge, "pod-bridge", o.PodBridge, "Host bridge of the pod network of a managed containerd.")
	fs.StringVar(&o.NodeIP, "node-ip", o.NodeIP, "Address of the node (default: the source address of its default route).")
	fs.Int64Var(&o.MaxPods, "max-pods", o.MaxPods, "Pods this node runs at most.")
	fs.Int32Var(&o.Port, "port", o.Port, "Port of the agent API (logs, exec, attach, port-forward) that the API server calls.")
	fs.IntVar(&o.Simulate, "simulate", o.Simulate, "Run this many simulated nodes instead of the real one: Nodes and Leases in the API whose pods run without a runtime.")
	fs.StringVar(&o.SimulatePrefix, "simulate-prefix", o.SimulatePrefix, "Name prefix of simulated nodes.")
	fs.Var(&o.SimulateCPU, "simulate-cpu", "CPU capacity of each simulated node.")
	fs.Var(&o.SimulateMemory, "simulate-memory", "Memory capacity of each simulated node.")
	fs.Int64Var(&o.SimulatePods, "simulate-pods", o.SimulatePods, "Pod capacity of each simulated node.")
	fs.IntVar(&o.SimulateZones, "simulate-zones", o.SimulateZones, "Zones the simulated nodes are spread over (label topology.kubernetes.io/zone).")
}

// Validate checks the options.
func (o *Options) Validate() error {
	var errs []error
	if o.Kubeconfig == "" {
		errs = append(errs, errors.New("--kubeconfig is required"))
	}
	if o.Simulate < 0 {
		errs = append(errs, errors.New("--simulate must not be negative"))
	}
	if o.Simulate == 0 && o.NodeName == "" {
		errs = append(errs, errors.New("--node-name is required"))
	}
	if o.Simulate == 0 && o.DataDir == "" {
		errs = append(errs, errors.New("--data-dir is required"))
	}
	return errors.Join(errs...)
}

// Run runs the agent until ctx ends.
func (o *Options) Run(ctx context.Context) error {
	if err := o.Validate(); err != nil {
		return err
	}
	// Simulated nodes are spread over connections, as kubelets each have
	// their own (see client.HTTPClients).
	connections := 1
	if o.Simulate > 0 {
		connections = (o.Simulate + nodesPerConnection - 1) / nodesPerConnection
	}
	nodeConfig, err := loadConfig(o.Kubeconfig, (o.Simulate+connections-1)/connections)
	o.nodeConfig = nodeConfig
	if err != nil {
		return err
	}
	httpClients, err := client.HTTPClients(nodeConfig, connections)
	if err != nil {
		return fmt.Errorf("building node clients: %w", err)
	}
	nodeClients := make([]kubernetes.Interface, len(httpClients))
	for i, hc := range httpClients {
		if nodeClients[i], err = kubernetes.NewForConfigAndClient(nodeConfig, hc); err != nil {
			return fmt.Errorf("building node client: %w", err)
		}
	}
	partitionFiles := o.TenantPartitions
	if len(partitionFiles) == 0 {
		partitionFiles = []string{o.Kubeconfig}
	}
	var partitions []*client.Core
	for _, f := range partitionFiles {
		cfg, err := loadConfig(f, o.Simulate)
		if err != nil {
			return err
		}
		c, err := client.NewCore(cfg, nil)
		if err != nil {
			return err
		}
		partitions = append(partitions, c)
	}

	if o.Simulate == 0 {
		return o.runNode(ctx, nodeClients, partitions)
	}
	rt := sim.New()
	cfg := Config{
		NodeClients: nodeClients, Partitions: partitions,
		Nodes:   o.simulatedNodes(),
		Workers: 32,
		// Each kubelet renews its own lease; an agent for thousands of
		// nodes keeps one renewal in flight per fifty of them, so that
		// the server's latency under load does not cap the renewal rate:
		// nodes renew every 10 s, so this allows 200 ms (16 in flight at
		// 20 ms cap it at 800 a second). More than the node clients'
		// maxMutatingInFlight would only wait for them.
		HeartbeatWorkers: min(max(16, o.Simulate/50), maxMutatingInFlight),
		// Simulated pods never change on their own.
		ResyncPeriod: time.Hour,
	}
	a, err := New(cfg)
	if err != nil {
		return err
	}
	return serve(ctx, o.HealthAddress, a, Runtimes{Containers: rt, VMs: rt}, nil)
}

// nodesPerConnection is how many simulated nodes share a connection to
// the API server: at 10,000 nodes, 20 connections carry 1,000 lease
// renewals a second.
const nodesPerConnection = 500

// maxMutatingInFlight bounds the writes in flight of each client
// configuration the agent loads: its nodes' (leases and node status), and
// each tenant partition's (pod status and deletions), so that pod churn
// never holds heartbeats back. It is half the API server's default limit
// of 200 writes in flight, so that neither alone draws 429s; at 10,000
// nodes it allows 100 ms of server latency per lease renewal.
const maxMutatingInFlight = 100

// loadConfig reads a kubeconfig, sized for the number of nodes it serves.
func loadConfig(path string, nodes int) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig %s: %w", path, err)
	}
	// Each node renews its lease every 10 s and writes its pods' status; a
	// kubelet may send 50 requests/s on its own, so simulated nodes get a
	// share that lets a thousand pods start in seconds, not tens of them,
	// while the API server's in-flight limits guard it.
	cfg.QPS = float32(max(50, 2*nodes))
	cfg.Burst = int(cfg.QPS) * 2
	cfg.UserAgent = "arcturus-agent"
	// Leases and node status are most of what nodes write. Simulated
	// nodes starting or stopping a thousand pods at once would otherwise
	// write past the server's in-flight limit; each configuration loaded
	// gets a limit of its own.
	return client.LimitMutatingInFlight(client.PreferProtobuf(cfg), maxMutatingInFlight), nil
}

func (o *Options) simulatedNodes() []NodeSpec {
	nodes := make([]NodeSpec, 0, o.Simulate)
	for i := range o.Simulate {
		name := fmt.Sprintf("%s-%05d", o.SimulatePrefix, i)
		labels := map[string]string{
			corev1.LabelHostname: name, corev1.LabelOSStable: "linux", corev1.LabelArchStable: goruntime.GOARCH,
			v1.LabelSimulated: "true", v1.LabelVMRuntime: "true", v1.LabelVMAccelerator: "simulated",
		}
		if o.SimulateZones > 0 {
			labels[corev1.LabelTopologyZone] = fmt.Sprintf("zone-%d", i%o.SimulateZones)
		}
		// Addresses from the benchmarking range of RFC 2544: unique per
		// node, routed nowhere.
		ip := net.IPv4(198, 18+byte((i+1)>>16), byte((i+1)>>8), byte(i+1))
		nodes = append(nodes, NodeSpec{
			Name: name,
			Capacity: corev1.ResourceList{
				corev1.ResourceCPU:    o.SimulateCPU.Quantity.DeepCopy(),
				corev1.ResourceMemory: o.SimulateMemory.Quantity.DeepCopy(),
				corev1.ResourcePods:   *resource.NewQuantity(o.SimulatePods, resource.DecimalSI),
			},
			Labels:    labels,
			Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip.String()}, {Type: corev1.NodeHostName, Address: name}},
			NodeInfo: corev1.NodeSystemInfo{
				OperatingSystem: "linux", Architecture: goruntime.GOARCH,
				ContainerRuntimeVersion: "simulated://1", KubeletVersion: "arcturus",
			},
		})
	}
	return nodes
}

// serve runs the agent and, beside it, its health and metrics endpoint and
// the agent API (when given), until ctx ends or one of them fails.
func serve(ctx context.Context, addr string, a *Agent, rt Runtimes, api func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg                      sync.WaitGroup
		runErr, apiErr, httpErr error
	)
	wg.Go(func() {
		defer cancel()
		runErr = a.Run(ctx, rt)
	})
	if api != nil {
		wg.Go(func() {
			defer cancel()
			apiErr = api(ctx)
		})
	}
	wg.Go(func() {
		httpErr = health.Serve(ctx, addr, func() error {
			if !a.Registered() {
				return errors.New("nodes not registered yet")
			}
			return nil
		})
		if httpErr != nil {
			cancel()
		}
	})
	wg.Wait()
	return errors.Join(runErr, apiErr, httpErr)
}

// runNode runs the agent of this machine: containers through containerd,
// which it starts unless one was named.
func (o *Options) runNode(ctx context.Context, nodeClients []kubernetes.Interface, partitions []*client.Core) error {
	dir := filepath.Join(o.DataDir, "agent")
	socket := o.ContainerdSocket
	if socket == "" {
		subnet, err := netip.ParsePrefix(o.PodCIDR)
		if err != nil {
			return fmt.Errorf("--pod-cidr: %w", err)
		}
		confDir := filepath.Join(dir, "cni", "net.d")
		if err := cni.Write(confDir, cni.Network{
			Name: "arcturus", Bridge: o.PodBridge, Subnet: subnet, DataDir: filepath.Join(dir, "cni", "networks"),
		}); err != nil {
			return err
		}
		d, err := containerd.Start(ctx, containerd.Config{
			Dir: filepath.Join(dir, "containerd"), CNIBinDirs: cni.DefaultBinDirs, CNIConfDir: confDir,
		})
		if err != nil {
			return err
		}
		defer func() {
			if err := d.Stop(); err != nil {
				klog.FromContext(ctx).Error(err, "Stopping containerd")
			}
		}()
		socket = d.Socket
		if err := containerd.EnsurePauseImage(ctx, socket); err != nil {
			return err
		}
	}
	capacity, err := hostCapacity(o.MaxPods)
	if err != nil {
		return err
	}
	labels := map[string]string{
		corev1.LabelHostname: o.NodeName, corev1.LabelOSStable: "linux", corev1.LabelArchStable: goruntime.GOARCH,
		v1.LabelVMRuntime: "false",
	}
	// VMs need QEMU; without it the node runs containers only. The node's
	// labels say which accelerator VMs get, so it is probed first.
	vmConfig := vm.Config{StateDir: filepath.Join(dir, "vms"), Logger: klog.FromContext(ctx)}
	probe, err := vm.New(vmConfig)
	if err == nil {
		err = probe.Ready(ctx)
	}
	if err != nil {
		klog.FromContext(ctx).Info("This node runs no virtual machines", "reason", err.Error())
	} else {
		vmConfig.Accelerator = probe.Accelerator()
		labels[v1.LabelVMRuntime] = "true"
		labels[v1.LabelVMAccelerator] = vmConfig.Accelerator
	}
	addresses := hostAddresses(o.NodeIP, o.NodeName)
	hosts := []string{"127.0.0.1", o.NodeName}
	for _, addr := range addresses {
		hosts = append(hosts, addr.Address)
	}
	caPEM := o.nodeConfig.CAData
	if len(caPEM) == 0 && o.nodeConfig.CAFile != "" {
		if caPEM, err = os.ReadFile(o.nodeConfig.CAFile); err != nil {
			return fmt.Errorf("reading the region CA: %w", err)
		}
	}
	server, err := LoadOrCreateServer(filepath.Join(dir, "tls"), hosts, caPEM)
	if err != nil {
		return err
	}
	a, err := New(Config{
		NodeClients: nodeClients, Partitions: partitions,
		Nodes: []NodeSpec{{
			Name: o.NodeName, Capacity: capacity, Labels: labels, PodCIDR: o.PodCIDR,
			Annotations: map[string]string{pki.AgentCertificateAnnotation: server.Fingerprint},
			Addresses:   addresses, NodeInfo: hostInfo(""), DaemonPort: o.Port,
		}},
	})
	if err != nil {
		return err
	}
	containers, err := cri.New(ctx, cri.Config{
		Endpoint: socket, Dir: filepath.Join(dir, "pods"), Recorder: a.Recorder(), Objects: a.Objects(),
	})
	if err != nil {
		return err
	}
	defer containers.Close(context.WithoutCancel(ctx))
	rt := Runtimes{Containers: containers}
	if vmConfig.Accelerator != "" {
		images := containerd.NewImageFiles(socket, filepath.Join(dir, "images"))
		defer images.Close()
		vmConfig.Images, vmConfig.Sandboxes, vmConfig.Recorder = images, containers, a.Recorder()
		if rt.VMs, err = vm.New(vmConfig); err != nil {
			return err
		}
	}
	return serve(ctx, o.HealthAddress, a, rt, func(ctx context.Context) error {
		return server.Serve(ctx, net.JoinHostPort("", strconv.Itoa(int(o.Port))), a)
	})
}
