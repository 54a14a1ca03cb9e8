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

// Package nodelifecycle is the node lifecycle controller with taint-based
// eviction, as kube-controller-manager's: a node whose agent stops renewing
// its Lease gets its conditions set Unknown and the unreachable NoExecute
// taint (a node that reports itself not ready, the not-ready taint), and
// pods on a node with a NoExecute taint they do not tolerate, or no
// longer, are deleted.
package nodelifecycle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/regionwatch"
	"github.com/arcturus-cloud/arcturus/pkg/events"
)

// Defaults, as kube-controller-manager's.
const (
	DefaultNodeMonitorGracePeriod = 40 * time.Second
	DefaultNodeMonitorPeriod      = 5 * time.Second
	DefaultEvictionRate           = 0.1
	DefaultUnhealthyZoneThreshold = 0.55
)

const (
	name = "node-lifecycle-controller"
	// evictionWorkers delete pods in parallel: a node going away may hand
	// them a hundred pods at once.
	evictionWorkers = 4
	// writers bounds the node writes of one pass in flight, for the pass
	// in which a whole zone goes silent.
	writers = 8
)

// Config configures the controller. Zero durations and rates take the
// defaults.
type Config struct {
	// Base is the API server's address and a system master identity, with
	// no /tenants/ prefix.
	Base *rest.Config
	// NodeMonitorGracePeriod is how long a node's Lease may go unrenewed
	// before its conditions go Unknown and it is tainted unreachable
	// (--node-monitor-grace-period). It must exceed the agent's renewal
	// interval (10 s) by enough for a late renewal.
	NodeMonitorGracePeriod time.Duration
	// NodeMonitorPeriod is how often nodes are checked
	// (--node-monitor-period).
	NodeMonitorPeriod time.Duration
	// EvictionRate is how many nodes per second of one zone are newly
	// tainted NoExecute, and so have their pods evicted
	// (--node-eviction-rate).
	EvictionRate float64
	// UnhealthyZoneThreshold is the fraction of a zone's nodes that may be
	// unhealthy (Ready not True) before no further node of the zone is
	// tainted: so many nodes failing at once is more likely the network's
	// fault, or the control plane's, than theirs (--unhealthy-zone-threshold).
	UnhealthyZoneThreshold float64
	// Pods is the feed of every pod, which the caller runs.
	Pods *regionwatch.Feed
	// Clock is the real clock if nil; tests set a fake one.
	Clock clock.WithTicker
}

func (c *Config) complete() error {
	if err := regionwatch.CheckBase(c.Base); err != nil {
		return err
	}
	if c.Pods == nil {
		return errors.New("no pod feed")
	}
	if c.NodeMonitorGracePeriod == 0 {
		c.NodeMonitorGracePeriod = DefaultNodeMonitorGracePeriod
	}
	if c.NodeMonitorPeriod == 0 {
		c.NodeMonitorPeriod = DefaultNodeMonitorPeriod
	}
	if c.EvictionRate == 0 {
		c.EvictionRate = DefaultEvictionRate
	}
	if c.UnhealthyZoneThreshold == 0 {
		c.UnhealthyZoneThreshold = DefaultUnhealthyZoneThreshold
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	switch {
	case c.NodeMonitorGracePeriod < 0 || c.NodeMonitorPeriod < 0:
		return errors.New("node monitor periods must be positive")
	case c.EvictionRate < 0:
		return errors.New("the eviction rate must be positive")
	case c.UnhealthyZoneThreshold < 0 || c.UnhealthyZoneThreshold > 1:
		return errors.New("the unhealthy zone threshold must be between 0 and 1")
	}
	return nil
}

// Controller is the node lifecycle controller.
type Controller struct {
	cfg      Config
	clock    clock.WithTicker
	kube     kubernetes.Interface
	core     *client.Core
	recorder *events.Recorder
	queue    workqueue.TypedRateLimitingInterface[types.UID]
	state    *state
}

// New returns a controller for the server cfg.Base addresses. It is run
// once.
func New(cfg Config) (*Controller, error) {
	if err := cfg.complete(); err != nil {
		return nil, fmt.Errorf("node lifecycle controller: %w", err)
	}
	base := rest.CopyConfig(cfg.Base)
	// A zone going silent costs a write per node; client-side throttling
	// at the loopback's default would stretch that over minutes.
	base.QPS, base.Burst = max(base.QPS, 100), max(base.Burst, 200)
	// Pods are read and deleted with the superset type: client-go's Pod
	// would do for deleting, but one client for all pod requests is simpler.
	kube, core, err := regionwatch.NewClients(base)
	if err != nil {
		return nil, err
	}
	c := &Controller{cfg: cfg, clock: cfg.Clock, kube: kube, core: core}
	c.recorder = events.NewRecorder(events.Source{
		Component: "taint-eviction-controller", Controller: "arcturus.io/" + name,
	}, func(*v1.Pod) (*client.Core, bool) { return core, true })
	c.queue = workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.DefaultTypedControllerRateLimiter[types.UID](),
		workqueue.TypedRateLimitingQueueConfig[types.UID]{Name: "taint-eviction", Clock: c.clock},
	)
	c.state = newState(c.clock, c.queue.Add)
	// Every tenant's pods; only bound ones can be evicted, and the state
	// keeps only those.
	cfg.Pods.Subscribe(c.state.podStore)
	return c, nil
}

// Run runs the controller until ctx ends and its goroutines have returned.
func (c *Controller) Run(ctx context.Context) {
	logger := klog.FromContext(ctx).WithName(name)
	ctx = klog.NewContext(ctx, logger)
	s, queue := c.state, c.queue

	nodes := c.kube.CoreV1().Nodes()
	leases := c.kube.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	reflectors := []*cache.Reflector{
		regionwatch.Reflector(logger, name+"/nodes", &corev1.Node{}, s.nodeStore,
			func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return nodes.List(ctx, o) },
			func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) { return nodes.Watch(ctx, o) }),
		regionwatch.Reflector(logger, name+"/leases", &coordinationv1.Lease{}, s.leaseStore,
			func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return leases.List(ctx, o) },
			func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) { return leases.Watch(ctx, o) }),
	}

	logger.Info("Starting controller", "gracePeriod", c.cfg.NodeMonitorGracePeriod, "monitorPeriod", c.cfg.NodeMonitorPeriod,
		"evictionRate", c.cfg.EvictionRate, "unhealthyZoneThreshold", c.cfg.UnhealthyZoneThreshold)
	var wg sync.WaitGroup
	for _, r := range reflectors {
		wg.Go(func() { r.RunWithContext(ctx) })
	}
	wg.Go(func() { c.recorder.Run(ctx) })
	for range evictionWorkers {
		wg.Go(func() { c.evictionWorker(ctx, s, queue) })
	}
	wg.Go(func() { c.monitor(ctx, s) })
	<-ctx.Done()
	queue.ShutDown()
	wg.Wait()
	logger.Info("Stopped controller")
}

// monitor runs node passes every NodeMonitorPeriod, and sooner when a node
// waits for the rate limiter, until ctx ends.
func (c *Controller) monitor(ctx context.Context, s *state) {
	logger := klog.FromContext(ctx)
	// Nodes seen before their leases would look silent.
	for _, ch := range []<-chan struct{}{s.nodeStore.Synced(), s.leaseStore.Synced()} {
		select {
		case <-ctx.Done():
			return
		case <-ch:
		}
	}
	m := &monitor{
		grace: c.cfg.NodeMonitorGracePeriod, threshold: c.cfg.UnhealthyZoneThreshold,
		interval: time.Duration(float64(time.Second) / c.cfg.EvictionRate), limiters: map[string]*zoneLimiter{},
	}
	timer := c.clock.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C():
		}
		res := m.plan(s, c.clock.Now())
		recordHealth(res)
		c.apply(ctx, s, res.updates)
		next := c.cfg.NodeMonitorPeriod
		if res.retry > 0 && res.retry < next {
			next = res.retry
		}
		logger.V(5).Info("Node monitor pass", "updates", len(res.updates), "next", next)
		timer.Reset(next)
	}
}

func recordHealth(res passResult) {
	nodesByHealth.Reset()
	zoneDisrupted.Reset()
	for zone, counts := range res.counts {
		for _, h := range []health{healthReady, healthNotReady, healthUnknown} {
			nodesByHealth.WithLabelValues(zone, string(h)).Set(float64(counts[h]))
		}
		v := 0.0
		if res.disrupted[zone] {
			v = 1
		}
		zoneDisrupted.WithLabelValues(zone).Set(v)
	}
}

// apply writes a pass's updates, a few at a time, and waits for them.
func (c *Controller) apply(ctx context.Context, s *state, updates []nodeUpdate) {
	sem := make(chan struct{}, writers)
	var wg sync.WaitGroup
	for _, u := range updates {
		if ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case sem <- struct{}{}:
			wg.Go(func() {
				defer func() { <-sem }()
				err := c.write(ctx, u)
				switch {
				case err == nil:
					s.wrote(u.name, u.resourceVersion, c.clock.Now())
				case ctx.Err() != nil, apierrors.IsNotFound(err):
				case apierrors.IsConflict(err):
					// The node changed meanwhile; the next pass sees it.
					klog.FromContext(ctx).V(4).Info("Node changed while being updated", "node", u.name)
				default:
					klog.FromContext(ctx).Error(err, "Updating node failed", "node", u.name)
				}
			})
		}
	}
	wg.Wait()
}

// wrote records that a write based on version rv of a node succeeded.
func (s *state) wrote(name, rv string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec := s.nodes[name]; rec != nil {
		rec.awaitRV, rec.awaitUntil = rv, now.Add(awaitLimit)
	}
}

// write applies an update: conditions through nodes/status, then taints.
// Both are merge patches that carry the version they were computed from,
// so a node that changed meanwhile (the agent came back) is left alone.
func (c *Controller) write(ctx context.Context, u nodeUpdate) error {
	logger := klog.FromContext(ctx).WithValues("node", u.name)
	nodes := c.kube.CoreV1().Nodes()
	rv, taints := u.resourceVersion, u.taints
	if u.conditions != nil {
		patch, err := json.Marshal(map[string]any{
			"metadata": map[string]any{"resourceVersion": rv},
			"status":   map[string]any{"conditions": u.conditions},
		})
		if err != nil {
			return err
		}
		node, err := nodes.Patch(ctx, u.name, types.MergePatchType, patch, metav1.PatchOptions{}, "status")
		if err != nil {
			return fmt.Errorf("setting conditions of node %s: %w", u.name, err)
		}
		silentNodes.Inc()
		logger.Info("Node stopped posting status; its conditions are Unknown")
		rv, taints = node.ResourceVersion, node.Spec.Taints
	}
	if !u.setTaint {
		return nil
	}
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"resourceVersion": rv},
		"spec":     map[string]any{"taints": withTaint(taints, u.taint)},
	})
	if err != nil {
		return err
	}
	if _, err := nodes.Patch(ctx, u.name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("updating taints of node %s: %w", u.name, err)
	}
	if u.taint == nil {
		taintChanges.WithLabelValues("none").Inc()
		logger.Info("Node healthy again; its NoExecute taints are removed")
	} else {
		taintChanges.WithLabelValues(u.taint.Key).Inc()
		logger.Info("Node tainted", "taint", u.taint.ToString())
	}
	return nil
}
