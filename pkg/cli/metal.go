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

package cli

import (
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/vishvananda/netns"
	genericapiserver "k8s.io/apiserver/pkg/server"

	"github.com/arcturus-cloud/arcturus/pkg/apiserver"
	"github.com/arcturus-cloud/arcturus/pkg/metal/agent"
	"github.com/arcturus-cloud/arcturus/pkg/metal/lab"
	"github.com/arcturus-cloud/arcturus/pkg/metal/service"
)

func newMetalCommand() *cobra.Command {
	o := service.NewOptions()
	o.DataDir = filepath.Join(apiserver.DefaultDataDir(), "metal")
	cmd := &cobra.Command{
		Use:   "metal --kubeconfig FILE --interface IFACE",
		Short: "Run the bare-metal plane: network boot (DHCP, TFTP, iPXE), the inventory agent's API, machine configs and the server controllers",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return o.Run(genericapiserver.SetupSignalContext())
		},
	}
	o.AddFlags(cmd.Flags())
	cmd.AddCommand(newMetalAgentCommand(), newMetalLabCommand())
	return cmd
}

func newMetalAgentCommand() *cobra.Command {
	var o agent.Options
	return &cobra.Command{
		Use:   "agent",
		Short: "Run the inventory agent: the /init of the initramfs that network-booting servers run",
		Long: `Run the inventory agent. As PID 1 of the agent's initramfs it mounts the
kernel's file systems, loads the modules, configures the network from DHCP,
registers the server's hardware with the metal service named by the kernel
argument arcturus.metal.url, and follows its instructions: wait, wipe the
disks, power off or reboot. The kernel runs it with no arguments; arcturus
knows it is the agent by being PID 1 named /init.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return agent.Init(o)
		},
	}
}

func newMetalLabCommand() *cobra.Command {
	o := lab.NewOptions()
	o.Dir = filepath.Join(apiserver.DefaultDataDir(), "metal-lab")
	o.Kubeconfig = filepath.Join(apiserver.DefaultDataDir(), "admin.kubeconfig")
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "A bare-metal lab without hardware: QEMU servers behind emulated Redfish and IPMI BMCs, network-booting into the metal plane",
	}
	up := &cobra.Command{
		Use:   "up",
		Short: "Create the lab network and its servers, and the metal service for them, then power the servers on",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return lab.Up(genericapiserver.SetupSignalContext(), o, cmd.OutOrStdout())
		},
	}
	o.AddFlags(up.Flags())
	down := &cobra.Command{
		Use:   "down",
		Short: "Decommission the lab's servers, stop them and remove the lab network and directory",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return lab.Down(genericapiserver.SetupSignalContext(), o, cmd.OutOrStdout())
		},
	}
	down.Flags().StringVar(&o.Dir, "dir", o.Dir, "Directory of the lab's state.")
	down.Flags().StringVar(&o.NetNS, "netns", o.NetNS, "Network namespace of the lab network.")
	var hostNetNS int
	run := &cobra.Command{
		Use:    "run",
		Short:  "The lab's supervisor, which lab up starts in the lab's network namespace",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return lab.Run(genericapiserver.SetupSignalContext(), o, netns.NsHandle(hostNetNS))
		},
	}
	o.AddFlags(run.Flags())
	run.Flags().IntVar(&hostNetNS, "host-netns-fd", -1, "File descriptor of the network namespace the region is reachable in.")
	cmd.AddCommand(up, down, run)
	return cmd
}
