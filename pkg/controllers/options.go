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

package controllers

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"

	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/regionwatch"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/nodelifecycle"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/podgc"
)

// Options are the controllers' settings, named and defaulted as
// kube-controller-manager's flags. Zero durations and rates take the
// defaults.
type Options struct {
	// Controllers lists the controllers to run, as kube-controller-manager's
	// --controllers: "*" for all, a name to add one, "-name" to leave one
	// out.
	Controllers []string
	// NodeMonitorGracePeriod is how long a node's Lease may go unrenewed
	// before the node is marked unknown and tainted unreachable.
	NodeMonitorGracePeriod time.Duration
	// NodeMonitorPeriod is how often node health is checked.
	NodeMonitorPeriod time.Duration
	// NodeEvictionRate is how many nodes per second of a zone get a
	// NoExecute taint, which evicts their pods.
	NodeEvictionRate float64
	// UnhealthyZoneThreshold is the fraction of unhealthy nodes in a zone
	// beyond which none of its nodes is newly tainted.
	UnhealthyZoneThreshold float64
	// TerminatedPodGCThreshold is how many finished pods the region keeps
	// before the oldest are deleted; 0 or less keeps them all.
	TerminatedPodGCThreshold int
	// PodGCPeriod is how often the pod garbage collector runs (20 s in
	// Kubernetes, not a flag there either).
	PodGCPeriod time.Duration
	// OrphanedPodQuarantine is how long a node must be missing before the
	// pods bound to it are deleted (40 s in Kubernetes, not a flag there
	// either).
	OrphanedPodQuarantine time.Duration
}

// NewOptions returns Kubernetes' defaults.
func NewOptions() Options {
	return Options{
		Controllers:              []string{"*"},
		NodeMonitorGracePeriod:   nodelifecycle.DefaultNodeMonitorGracePeriod,
		NodeMonitorPeriod:        nodelifecycle.DefaultNodeMonitorPeriod,
		NodeEvictionRate:         nodelifecycle.DefaultEvictionRate,
		UnhealthyZoneThreshold:   nodelifecycle.DefaultUnhealthyZoneThreshold,
		TerminatedPodGCThreshold: podgc.DefaultTerminatedPodThreshold,
		PodGCPeriod:              podgc.DefaultPeriod,
		OrphanedPodQuarantine:    podgc.DefaultOrphanQuarantine,
	}
}

// AddFlags binds the options that kube-controller-manager has flags for.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringSliceVar(&o.Controllers, "controllers", o.Controllers,
		"Controllers to run: '*' for all, 'name' to add one, '-name' to leave one out. Names: "+strings.Join(Names(), ", ")+".")
	fs.DurationVar(&o.NodeMonitorGracePeriod, "node-monitor-grace-period", o.NodeMonitorGracePeriod,
		"How long a node's lease may go unrenewed before the node is marked unknown and tainted unreachable; more than the agent's 10 s renewal interval.")
	fs.DurationVar(&o.NodeMonitorPeriod, "node-monitor-period", o.NodeMonitorPeriod, "How often node health is checked.")
	fs.Float64Var(&o.NodeEvictionRate, "node-eviction-rate", o.NodeEvictionRate,
		"Nodes per second of one zone that get a NoExecute taint, which evicts their pods.")
	fs.Float64Var(&o.UnhealthyZoneThreshold, "unhealthy-zone-threshold", o.UnhealthyZoneThreshold,
		"Fraction of a zone's nodes that may be unhealthy before no more of them are tainted (their pods evicted).")
	fs.IntVar(&o.TerminatedPodGCThreshold, "terminated-pod-gc-threshold", o.TerminatedPodGCThreshold,
		"Finished pods the region keeps before the oldest are deleted; 0 or less keeps them all.")
}

// Validate reports impossible settings.
func (o *Options) Validate() error {
	var errs []error
	if o.NodeMonitorGracePeriod < 0 || o.NodeMonitorPeriod < 0 || o.PodGCPeriod < 0 || o.OrphanedPodQuarantine < 0 {
		errs = append(errs, errors.New("controller periods must not be negative"))
	}
	if o.NodeEvictionRate < 0 {
		errs = append(errs, errors.New("--node-eviction-rate must not be negative"))
	}
	for _, c := range o.Controllers {
		if name := strings.TrimPrefix(c, "-"); name != "*" && !slices.Contains(Names(), name) {
			errs = append(errs, fmt.Errorf("--controllers: unknown controller %q", name))
		}
	}
	if o.UnhealthyZoneThreshold < 0 || o.UnhealthyZoneThreshold > 1 {
		errs = append(errs, errors.New("--unhealthy-zone-threshold must be between 0 and 1"))
	}
	return errors.Join(errs...)
}

// enabled tells whether --controllers selects the named controller.
func (o *Options) enabled(name string) bool {
	on := false
	for _, c := range o.Controllers {
		switch c {
		case name:
			on = true
		case "-" + name:
			return false
		case "*":
			on = true
		}
	}
	return on
}

func (o *Options) nodeLifecycle(base *rest.Config, pods *regionwatch.Feed) nodelifecycle.Config {
	return nodelifecycle.Config{
		Base:                   base,
		Pods:                   pods,
		NodeMonitorGracePeriod: o.NodeMonitorGracePeriod,
		NodeMonitorPeriod:      o.NodeMonitorPeriod,
		EvictionRate:           o.NodeEvictionRate,
		UnhealthyZoneThreshold: o.UnhealthyZoneThreshold,
	}
}

func (o *Options) podGC(base *rest.Config, pods *regionwatch.Feed) podgc.Config {
	threshold := o.TerminatedPodGCThreshold
	if threshold <= 0 {
		threshold = -1
	}
	return podgc.Config{
		Base: base, Pods: pods, Period: o.PodGCPeriod, TerminatedPodThreshold: threshold, OrphanQuarantine: o.OrphanedPodQuarantine,
	}
}
