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

// Package controllers runs the controllers a tenant partition's API server
// needs for its own API to behave like Kubernetes: namespace lifecycle,
// tenant lifecycle, node lifecycle (with taint-based eviction), pod
// garbage collection, the garbage collector of objects whose owners
// (ownerReferences) are gone, and the ReplicaSet and Deployment controllers.
package controllers

import (
	"context"
	"fmt"
	"sync"

	"k8s.io/client-go/rest"

	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/deployment"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/garbagecollector"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/regionwatch"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/namespace"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/nodelifecycle"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/podgc"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/replicaset"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/tenant"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/tenantquota"
)

const (
	// namespaceWorkers is higher than tenantWorkers because emptying a
	// namespace takes a request per resource, and a deleted tenant hands the
	// namespace controller all of its namespaces at once.
	namespaceWorkers = 4
	tenantWorkers    = 2
	// gcWorkers: a cascade is a GET and a DELETE per dependent, so the
	// collector's speed is its requests in flight.
	gcWorkers = 8
	// Workload controllers: kube-controller-manager's
	// --concurrent-replicaset-syncs and --concurrent-deployment-syncs.
	replicaSetWorkers = 5
	deploymentWorkers = 5
)

// runner runs one controller until ctx ends.
type runner func(ctx context.Context)

// catalogue names every controller and builds it. Names are those of
// kube-controller-manager where it has the controller.
var catalogue = []struct {
	name  string
	build func(base *rest.Config, opts *Options, feeds *regionwatch.Feeds) (runner, error)
}{
	{"namespace", func(base *rest.Config, _ *Options, _ *regionwatch.Feeds) (runner, error) {
		c, err := namespace.New(base)
		return func(ctx context.Context) { c.Run(ctx, namespaceWorkers) }, err
	}},
	{"tenant", func(base *rest.Config, _ *Options, _ *regionwatch.Feeds) (runner, error) {
		c, err := tenant.New(base)
		return func(ctx context.Context) { c.Run(ctx, tenantWorkers) }, err
	}},
	{"nodelifecycle", func(base *rest.Config, opts *Options, feeds *regionwatch.Feeds) (runner, error) {
		c, err := nodelifecycle.New(opts.nodeLifecycle(base, feeds.Pods))
		return func(ctx context.Context) { c.Run(ctx) }, err
	}},
	{"podgc", func(base *rest.Config, opts *Options, feeds *regionwatch.Feeds) (runner, error) {
		c, err := podgc.New(opts.podGC(base, feeds.Pods))
		return func(ctx context.Context) { c.Run(ctx) }, err
	}},
	{"garbagecollector", func(base *rest.Config, _ *Options, feeds *regionwatch.Feeds) (runner, error) {
		c, err := garbagecollector.New(base, feeds)
		return func(ctx context.Context) { c.Run(ctx, gcWorkers) }, err
	}},
	{"tenantquota", func(base *rest.Config, _ *Options, _ *regionwatch.Feeds) (runner, error) {
		c, err := tenantquota.New(tenantquota.Config{Base: base})
		return func(ctx context.Context) { c.Run(ctx) }, err
	}},
	{"replicaset", func(base *rest.Config, _ *Options, feeds *regionwatch.Feeds) (runner, error) {
		c, err := replicaset.New(base, feeds)
		return func(ctx context.Context) { c.Run(ctx, replicaSetWorkers) }, err
	}},
	{"deployment", func(base *rest.Config, _ *Options, feeds *regionwatch.Feeds) (runner, error) {
		c, err := deployment.New(base, feeds)
		return func(ctx context.Context) { c.Run(ctx, deploymentWorkers) }, err
	}},
}

// Names lists the controllers, for --controllers.
func Names() []string {
	names := make([]string, len(catalogue))
	for i, c := range catalogue {
		names[i] = c.name
	}
	return names
}

// maxMutatingInFlight bounds the writes all controllers have in flight
// together: a replica set scaled down by 500 deletes 500 pods at once, as
// Kubernetes' does, and the API server refuses writes past 200 in flight.
// Kubernetes' controller manager is held back by its client's rate limit
// (20 a second by default) instead.
const maxMutatingInFlight = 50

// Run runs the controllers opts selects until ctx ends. base is the API
// server's address and a system master identity with no /tenants/ prefix,
// such as the server's loopback client config. Run returns an error only if
// a controller cannot be set up; it returns nil when ctx ends.
func Run(ctx context.Context, base *rest.Config, opts Options) error {
	base = client.LimitMutatingInFlight(client.PreferProtobuf(base), maxMutatingInFlight)
	// Controllers that follow the same resource share one watch of it.
	feeds, err := regionwatch.NewFeeds(base)
	if err != nil {
		return fmt.Errorf("controllers' feeds: %w", err)
	}
	runners := []runner{feeds.Run}
	for _, c := range catalogue {
		if !opts.enabled(c.name) {
			continue
		}
		run, err := c.build(base, &opts, feeds)
		if err != nil {
			return fmt.Errorf("%s controller: %w", c.name, err)
		}
		runners = append(runners, run)
	}
	var wg sync.WaitGroup
	for _, run := range runners {
		wg.Go(func() { run(ctx) })
	}
	wg.Wait()
	return nil
}
