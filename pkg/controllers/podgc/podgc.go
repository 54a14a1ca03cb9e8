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

// Package podgc is the pod garbage collector, as kube-controller-manager's:
// it deletes finished pods beyond a threshold, oldest first; pods bound to
// nodes that no longer exist; and pods being deleted that no node will
// ever finish because none was assigned.
package podgc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"

	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/regionwatch"
)

// Defaults, as kube-controller-manager's.
const (
	DefaultPeriod                 = 20 * time.Second
	DefaultTerminatedPodThreshold = 12500
	DefaultOrphanQuarantine       = 40 * time.Second
)

// Reasons of deletions, the label of the deletion metric.
const (
	ReasonTerminated            = "terminated"
	ReasonOrphaned              = "orphaned"
	ReasonUnscheduledTerminated = "unscheduled_terminating"
)

const (
	name = "pod-garbage-collector"
	// deleters bounds the deletions in flight.
	deleters = 8
)

var deleted = metrics.NewCounterVec(&metrics.CounterOpts{
	Namespace: "arcturus", Subsystem: "podgc", Name: "deleted_pods_total",
	Help:           "Pods the pod garbage collector deleted, by reason (terminated, orphaned, unscheduled_terminating).",
	StabilityLevel: metrics.ALPHA,
}, []string{"reason"})

func init() { legacyregistry.MustRegister(deleted) }

// Config configures the collector. Zero values take the defaults.
type Config struct {
	// Base is the API server's address and a system master identity, with
	// no /tenants/ prefix.
	Base *rest.Config
	// Period is how often pods are looked at.
	Period time.Duration
	// TerminatedPodThreshold is how many finished (Succeeded or Failed)
	// pods the region keeps; the oldest beyond it are deleted. Negative
	// keeps them all (kube-controller-manager's 0).
	TerminatedPodThreshold int
	// OrphanQuarantine is how long a node that pods are bound to must be
	// missing before they are deleted: a node may be about to register.
	OrphanQuarantine time.Duration
	// Pods is the feed of every pod, which the caller runs.
	Pods *regionwatch.Feed
	// Clock is the real clock if nil.
	Clock clock.WithTicker
}

func (c *Config) complete() error {
	if err := regionwatch.CheckBase(c.Base); err != nil {
		return err
	}
	if c.Pods == nil {
		return errors.New("no pod feed")
	}
	if c.Period == 0 {
		c.Period = DefaultPeriod
	}
	if c.TerminatedPodThreshold == 0 {
		c.TerminatedPodThreshold = DefaultTerminatedPodThreshold
	}
	if c.OrphanQuarantine == 0 {
		c.OrphanQuarantine = DefaultOrphanQuarantine
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	if c.Period < 0 || c.OrphanQuarantine < 0 {
		return errors.New("periods must be positive")
	}
	return nil
}

// Controller is the pod garbage collector.
type Controller struct {
	cfg   Config
	kube  kubernetes.Interface
	core  *client.Core
	state *state
}

// New returns a collector for the server cfg.Base addresses. It is run
// once.
func New(cfg Config) (*Controller, error) {
	if err := cfg.complete(); err != nil {
		return nil, fmt.Errorf("pod garbage collector: %w", err)
	}
	kube, core, err := regionwatch.NewClients(cfg.Base)
	if err != nil {
		return nil, err
	}
	c := &Controller{cfg: cfg, kube: kube, core: core, state: newState()}
	cfg.Pods.Subscribe(c.state.podStore)
	return c, nil
}

// Run collects pods every Period until ctx ends and its goroutines have
// returned.
func (c *Controller) Run(ctx context.Context) {
	logger := klog.FromContext(ctx).WithName(name)
	ctx = klog.NewContext(ctx, logger)
	s := c.state
	nodes := c.kube.CoreV1().Nodes()
	reflector := regionwatch.Reflector(logger, name+"/nodes", &corev1.Node{}, s.nodeStore,
		func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return nodes.List(ctx, o) },
		func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) { return nodes.Watch(ctx, o) })
	logger.Info("Starting controller", "period", c.cfg.Period, "terminatedPodThreshold", c.cfg.TerminatedPodThreshold,
		"orphanQuarantine", c.cfg.OrphanQuarantine)
	var wg sync.WaitGroup
	wg.Go(func() { reflector.RunWithContext(ctx) })
	wg.Go(func() { c.loop(ctx, s) })
	wg.Wait()
	logger.Info("Stopped controller")
}

func (c *Controller) loop(ctx context.Context, s *state) {
	// Before the nodes are known every bound pod looks orphaned.
	for _, ch := range []<-chan struct{}{s.nodeStore.Synced(), s.podStore.Synced()} {
		select {
		case <-ctx.Done():
			return
		case <-ch:
		}
	}
	quarantine := map[string]time.Time{}
	ticker := c.cfg.Clock.NewTicker(c.cfg.Period)
	defer ticker.Stop()
	for {
		c.pass(ctx, s, quarantine)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C():
		}
	}
}

// pass makes one collection.
func (c *Controller) pass(ctx context.Context, s *state, quarantine map[string]time.Time) {
	logger := klog.FromContext(ctx)
	p := s.plan(c.cfg.Clock.Now(), c.cfg.TerminatedPodThreshold, quarantine, c.cfg.OrphanQuarantine)
	if len(p.terminated) > 0 {
		logger.Info("Deleting finished pods beyond the threshold", "count", len(p.terminated), "threshold", c.cfg.TerminatedPodThreshold)
	}
	c.delete(ctx, p.terminated, ReasonTerminated)
	c.delete(ctx, p.unscheduled, ReasonUnscheduledTerminated)
	for _, node := range p.check {
		// The cache may lag: only the server can say the node is gone.
		_, err := c.kube.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		switch {
		case err == nil:
			delete(quarantine, node)
		case apierrors.IsNotFound(err):
			orphans := s.orphansOf(node)
			logger.Info("Deleting pods of a node that does not exist", "node", node, "count", len(orphans))
			c.delete(ctx, orphans, ReasonOrphaned)
		default:
			if ctx.Err() == nil {
				logger.Error(err, "Reading node failed; retrying next pass", "node", node)
			}
		}
	}
}

// delete force-deletes pods (grace period 0: no node will stop them), a
// few at a time. Failures are retried by the next pass, which finds the
// pods again.
func (c *Controller) delete(ctx context.Context, pods []podRecord, reason string) {
	sem := make(chan struct{}, deleters)
	var wg sync.WaitGroup
	for _, pod := range pods {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			logger := klog.FromContext(ctx).WithValues("pod", klog.KRef(pod.namespace, pod.name), "tenant", pod.tenant, "reason", reason)
			err := c.core.DeletePod(ctx, pod.tenant, pod.namespace, pod.name, metav1.DeleteOptions{
				GracePeriodSeconds: ptr.To[int64](0),
				// Never a new pod of the same name.
				Preconditions: &metav1.Preconditions{UID: &pod.uid},
			})
			switch {
			case err == nil:
				deleted.WithLabelValues(reason).Inc()
				logger.V(2).Info("Deleted pod", "node", pod.nodeName)
			case apierrors.IsNotFound(err), apierrors.IsConflict(err), ctx.Err() != nil:
			default:
				logger.Error(err, "Deleting pod failed")
			}
		})
	}
	wg.Wait()
}
