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

package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/arcturus-cloud/arcturus/pkg/health"
	"github.com/arcturus-cloud/arcturus/pkg/leaderelection"
)

// Options are the flags of `arcturus scheduler`.
type Options struct {
	// Kubeconfig reaches the region as a system identity; it is the
	// default for both kinds of partition.
	Kubeconfig               string
	TenantPartitions         []string
	ResourcePartitions       []string
	Name                     string
	PercentageOfNodesToScore int
	HealthAddress            string
	LeaderElection           *leaderelection.Options
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		Name: DefaultName, HealthAddress: "127.0.0.1:10251",
		LeaderElection: leaderelection.NewOptions("arcturus-scheduler"),
	}
}

// AddFlags adds the scheduler's flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Kubeconfig of a system identity of the region.")
	fs.StringSliceVar(&o.TenantPartitions, "tenant-partitions", o.TenantPartitions, "Kubeconfigs of the tenant partitions whose pods are scheduled (default: --kubeconfig).")
	fs.StringSliceVar(&o.ResourcePartitions, "resource-partitions", o.ResourcePartitions, "Kubeconfigs of the resource partitions whose nodes take pods (default: --kubeconfig).")
	fs.StringVar(&o.Name, "scheduler-name", o.Name, "The spec.schedulerName of the pods this scheduler places.")
	fs.IntVar(&o.PercentageOfNodesToScore, "percentage-of-nodes-to-score", o.PercentageOfNodesToScore, "Share of nodes searched for feasible ones before scoring; 0 adapts it to the cluster size.")
	fs.StringVar(&o.HealthAddress, "health-address", o.HealthAddress, "Address serving /healthz, /readyz, /metrics and /debug/pprof over plain HTTP (keep it on loopback); empty disables it.")
	o.LeaderElection.AddFlags(fs)
}

// Run loads the kubeconfigs and schedules until ctx ends.
func (o *Options) Run(ctx context.Context) error {
	if o.Kubeconfig == "" && (len(o.TenantPartitions) == 0 || len(o.ResourcePartitions) == 0) {
		return errors.New("--kubeconfig is required unless both --tenant-partitions and --resource-partitions are given")
	}
	load := func(files []string) ([]*rest.Config, error) {
		if len(files) == 0 {
			files = []string{o.Kubeconfig}
		}
		var out []*rest.Config
		for _, f := range files {
			c, err := clientcmd.BuildConfigFromFlags("", f)
			if err != nil {
				return nil, fmt.Errorf("loading kubeconfig %s: %w", f, err)
			}
			out = append(out, c)
		}
		return out, nil
	}
	tenants, err := load(o.TenantPartitions)
	if err != nil {
		return err
	}
	resources, err := load(o.ResourcePartitions)
	if err != nil {
		return err
	}
	return o.RunWith(ctx, tenants, resources)
}

// RunWith schedules with the given partitions until ctx ends: it watches
// at once, serves health, and schedules while it leads. The election's
// Lease lives in the first tenant partition.
func (o *Options) RunWith(ctx context.Context, tenants, resources []*rest.Config) error {
	identity := leaderelection.Identity()
	s, err := New(Config{
		TenantPartitions: tenants, ResourcePartitions: resources, Name: o.Name, Identity: identity,
		PercentageOfNodesToScore: o.PercentageOfNodesToScore,
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg                 sync.WaitGroup
		healthErr, leadErr error
	)
	wg.Go(func() { s.Watch(ctx) })
	wg.Go(func() {
		if healthErr = health.Serve(ctx, o.HealthAddress, s.ready); healthErr != nil {
			cancel()
		}
	})
	leadErr = o.LeaderElection.Run(ctx, tenants[0], identity, s.Schedule)
	cancel()
	wg.Wait()
	return errors.Join(healthErr, leadErr)
}

func (s *Scheduler) ready() error {
	if !s.HasSynced() {
		return errors.New("pods and nodes not listed yet")
	}
	return nil
}
