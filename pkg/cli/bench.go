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
	"github.com/spf13/cobra"
	genericapiserver "k8s.io/apiserver/pkg/server"

	"github.com/arcturus-cloud/arcturus/pkg/bench"
)

func newBenchCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Measure the region's performance"}
	c := bench.NewConfig()
	apiserverCmd := &cobra.Command{
		Use:   "apiserver",
		Short: "Measure the API server's throughput, latency, watch fan-out and per-tenant memory",
		Long: `Measure the API server and print markdown tables for docs/benchmarks.md.

By default the bench starts "arcturus server" as a child process with its own
temporary data directory and ports, reads its memory from /proc and /metrics,
and stops it at the end. --server-kubeconfig measures a running server
instead. Progress goes to stderr. A count of 0 skips its measurement.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return bench.Run(genericapiserver.SetupSignalContext(), c, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	c.AddFlags(apiserverCmd.Flags())
	cmd.AddCommand(apiserverCmd)

	nc := bench.NewNodeConfig()
	nodeCmd := &cobra.Command{
		Use:   "node",
		Short: "Measure the node agent: pod startup, 110 pods on a node, VM startup, thousands of simulated nodes",
		Long: `Measure the node agent and print markdown tables for docs/benchmarks.md.

The bench starts "arcturus server" and "arcturus agent" as child processes
with their own temporary directories and ports. A real node (root needed: it
runs its own containerd, with the pod network given by --pod-cidr and
--pod-bridge) measures container pod startup latency, 110 pods at once and
VM pod startup; each size of --sim-nodes runs one agent with that many
simulated nodes against a fresh server and observes their heartbeats. CPU and
memory come from /proc and the agent's /metrics. Progress goes to stderr.
A count of 0 skips its measurement. Pods are deleted through the API and the
agents, servers and directories removed at the end.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return bench.RunNode(genericapiserver.SetupSignalContext(), nc, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	nc.AddFlags(nodeCmd.Flags())
	cmd.AddCommand(nodeCmd)

	sc := bench.NewSchedulerConfig()
	schedulerCmd := &cobra.Command{
		Use:   "scheduler",
		Short: "Measure the scheduler's throughput end to end through the API server, as scheduler_perf's SchedulingBasic, and a Deployment's rollout on simulated nodes",
		Long: `Measure the scheduler and print markdown tables for docs/benchmarks.md.

For each share of VM pods in --vm-share the bench starts a fresh
"arcturus server" and "arcturus scheduler" as child processes, creates
--nodes plain Node objects (no agent), waits until the scheduler knows them,
then creates --pods pods in a tenant of its own with --clients clients and
watches them until every one is bound. It reports throughput, per-pod
latency from create to binding, the scheduler's own metrics, and the CPU and
memory of the server and the scheduler separately. --pods 0 skips these runs.

Then, unless --deployment-replicas is 0, it starts a fresh server, scheduler
and "arcturus agent --simulate" of --deployment-nodes simulated nodes,
creates one Deployment of --deployment-replicas replicas as a tenant admin,
scales it to twice as many, then changes its image, and times each phase
until its new pods are seen Running and Ready and the Deployment's status says
it is done, with the CPU of server, scheduler, agent and bench. Progress goes
to stderr. Servers, schedulers, agents and their directories are removed at
the end.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return bench.RunScheduler(genericapiserver.SetupSignalContext(), sc, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	sc.AddFlags(schedulerCmd.Flags())
	cmd.AddCommand(schedulerCmd)

	mc := bench.NewMetalConfig()
	metalCmd := &cobra.Command{
		Use:   "metal",
		Short: "Measure the bare-metal plane's agent protocol at scale: registrations and heartbeats of many agents at once",
		Long: `Measure the agent protocol and print markdown tables for docs/benchmarks.md.

The bench starts a fresh "arcturus server" and "arcturus metal" (boot HTTP on
loopback, no DHCP or TFTP, --auto-accept) as child processes. --agents
simulated agents register at the same moment with a two-socket server's
hardware report, then heartbeat every --heartbeat through a wipe of
--wipe-steps progress reports, until the service tells each to power off.
It reports registration and heartbeat latency, the time until class "any"
lists every server available, and the CPU of server and metal service.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return bench.RunMetal(genericapiserver.SetupSignalContext(), mc, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	mc.AddFlags(metalCmd.Flags())
	cmd.AddCommand(metalCmd)
	return cmd
}
