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
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/agent"
	"github.com/arcturus-cloud/arcturus/pkg/apiserver"
	"github.com/arcturus-cloud/arcturus/pkg/authorization/rbac"
	metalservice "github.com/arcturus-cloud/arcturus/pkg/metal/service"
	"github.com/arcturus-cloud/arcturus/pkg/pki"
	"github.com/arcturus-cloud/arcturus/pkg/scheduler"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

func newServerCommand() *cobra.Command {
	return newServeCommand("server", "Run the region API server (a tenant and resource partition)")
}

// newUpCommand starts a whole single-node region in one process: the API
// server with embedded etcd and its controllers, and the agent of this
// machine, which runs containerd unless given one.
func newUpCommand() *cobra.Command {
	o := apiserver.NewOptions()
	ao := agent.NewOptions()
	so := scheduler.NewOptions()
	mo := metalservice.NewOptions()
	var noAgent, metal bool
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start a single-node region: API server with embedded etcd, controllers and this machine's node agent",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if noAgent {
				ao = nil
			}
			if !metal {
				mo = nil
			} else if mo.DataDir == "" {
				mo.DataDir = filepath.Join(o.DataDir, "metal")
			}
			return runUp(genericapiserver.SetupSignalContext(), o, so, ao, mo)
		},
	}
	o.AddFlags(cmd.Flags())
	fs := pflag.NewFlagSet("agent", pflag.ContinueOnError)
	ao.AddFlags(fs)
	for _, name := range []string{"node-name", "containerd-socket", "pod-cidr", "node-ip", "max-pods", "simulate",
		"simulate-prefix", "simulate-cpu", "simulate-memory", "simulate-pods", "simulate-zones"} {
		cmd.Flags().AddFlag(fs.Lookup(name))
	}
	cmd.Flags().Int32Var(&ao.Port, "agent-port", ao.Port, "Port of the node agent's API (logs, exec, attach, port-forward).")
	cmd.Flags().StringVar(&ao.HealthAddress, "agent-health-address", ao.HealthAddress, "Address of the node agent's /healthz, /readyz, /metrics and /debug/pprof; empty disables it.")
	cmd.Flags().BoolVar(&noAgent, "no-agent", false, "Run no node agent: the region has no node of its own.")
	cmd.Flags().StringVar(&so.HealthAddress, "scheduler-health-address", so.HealthAddress, "Address of the scheduler's /healthz, /readyz, /metrics and /debug/pprof; empty disables it.")
	cmd.Flags().BoolVar(&metal, "metal", false, "Run the bare-metal plane too (arcturus metal), configured by the --metal-* flags.")
	fs = pflag.NewFlagSet("metal", pflag.ContinueOnError)
	mo.AddFlags(fs)
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name != "kubeconfig" {
			f.Name = "metal-" + f.Name
			cmd.Flags().AddFlag(f)
		}
	})
	return cmd
}

// runUp serves the API and runs the scheduler and, unless they are nil,
// this machine's agent and the metal plane beside it. The scheduler and the
// metal plane use the server's loopback identity; the agent talks to the
// server as the node's own identity, through a kubeconfig minted from the
// region CA. If any fails, the API keeps serving.
func runUp(ctx context.Context, o *apiserver.Options, so *scheduler.Options, ao *agent.Options, mo *metalservice.Options) error {
	setControlPlaneGCPercent()
	s, err := apiserver.New(ctx, o)
	if err != nil {
		return err
	}
	if ao != nil {
		if err := writeNodeKubeconfig(s, o, ao); err != nil {
			return err
		}
	}
	printServing(o)

	// On SIGTERM the components stop first, while the server still
	// answers their last requests (the scheduler gives its lease up), and
	// the server after them.
	components, stopComponents := context.WithCancel(ctx)
	defer stopComponents()
	serving, stopServing := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServing()
	var wg sync.WaitGroup
	// Each starts once the server is ready: before, the scheduler's Lease
	// has no kube-system to live in and the node no role to register with.
	start := func(name string, run func(context.Context) error) {
		wg.Go(func() {
			if s.WaitReady(components) != nil {
				return
			}
			if err := run(components); err != nil {
				klog.ErrorS(err, name+" failed; the API keeps serving without it")
			}
		})
	}
	start("Scheduler", func(ctx context.Context) error {
		loopback := []*rest.Config{s.Loopback()}
		return so.RunWith(ctx, loopback, loopback)
	})
	if ao != nil {
		start("Node agent", ao.Run)
	}
	if mo != nil {
		start("Metal plane", func(ctx context.Context) error { return mo.RunWith(ctx, s.Loopback()) })
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-components.Done()
		wg.Wait()
		stopServing()
	}()
	err = s.Run(serving)
	stopComponents()
	<-stopped
	return err
}

// writeNodeKubeconfig gives the local agent its node identity.
func writeNodeKubeconfig(s *apiserver.Server, o *apiserver.Options, ao *agent.Options) error {
	kubeconfig, err := s.CA().Kubeconfig(o.ServerURL(), "node", pki.ClientIdentity{
		User: "system:node:" + ao.NodeName, Groups: []string{rbac.NodesGroup}, Tenant: string(tenancy.System),
	})
	if err != nil {
		return fmt.Errorf("node kubeconfig: %w", err)
	}
	ao.DataDir = o.DataDir
	ao.Kubeconfig = filepath.Join(o.DataDir, "agent", "node.kubeconfig")
	if err := os.MkdirAll(filepath.Dir(ao.Kubeconfig), 0o700); err != nil {
		return fmt.Errorf("creating agent directory: %w", err)
	}
	if err := os.WriteFile(ao.Kubeconfig, kubeconfig, 0o600); err != nil {
		return fmt.Errorf("writing node kubeconfig: %w", err)
	}
	return nil
}

func newServeCommand(use, short string) *cobra.Command {
	o := apiserver.NewOptions()
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return runServer(genericapiserver.SetupSignalContext(), o)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func runServer(ctx context.Context, o *apiserver.Options) error {
	setControlPlaneGCPercent()
	s, err := apiserver.New(ctx, o)
	if err != nil {
		return err
	}
	printServing(o)
	return s.Run(ctx)
}

func printServing(o *apiserver.Options) {
	klog.InfoS("Serving", "url", o.ServerURL(), "kubeconfig", o.AdminKubeconfigPath())
	fmt.Printf("Arcturus is serving at %s\nAdmin kubeconfig: %s\nTry: arcturus kubectl --kubeconfig %s get namespaces\n",
		o.ServerURL(), o.AdminKubeconfigPath(), o.AdminKubeconfigPath())
}
