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

// Package scheduler places pods, container or VM alike, on the nodes of a
// region. It watches pods across every tenant of every tenant partition and
// nodes of every resource partition, and binds each pending pod through
// pods/binding on the partition that holds it.
//
// The filters and scores are kube-scheduler's default profile, written
// against the superset Pod: resources (a VM's included), node selector and
// affinity, taints, unschedulable nodes, pod affinity and anti-affinity,
// topology spread, and a VM runtime filter. Affinity and spreading only
// ever count pods of the pod's own tenant, so one tenant's labels cannot
// steer another's pods.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/events"
)

// DefaultName is the schedulerName of pods that do not name one.
const DefaultName = corev1.DefaultSchedulerName

const (
	// minFeasibleNodes is the least number of feasible nodes scored, and
	// the cluster size below which every node is looked at.
	minFeasibleNodes = 100
	// defaultBindConcurrency bounds bindings and status writes in flight.
	defaultBindConcurrency = 64
)

// Config wires a scheduler.
type Config struct {
	// TenantPartitions reach the tenant partitions whose pods are
	// scheduled, as a system identity without a /tenants/ prefix.
	TenantPartitions []*rest.Config
	// ResourcePartitions reach the resource partitions whose nodes take
	// pods.
	ResourcePartitions []*rest.Config
	// Name is the schedulerName of the pods this scheduler places.
	Name string
	// Identity names this replica in events.
	Identity string
	// PercentageOfNodesToScore is the share of nodes searched for feasible
	// ones before scoring; 0 adapts it to the cluster size as
	// kube-scheduler does.
	PercentageOfNodesToScore int
	// BindConcurrency bounds bindings in flight.
	BindConcurrency int
}

// Scheduler places pending pods on nodes.
type Scheduler struct {
	cfg        Config
	partitions []*client.Core
	nodes      []kubernetes.Interface
	cache      *cache
	queue      *queue
	recorder   *events.Recorder
	stores     []*handlerStore
	reflectors []*toolscache.Reflector
	// partitionOf maps the UID of every pod known to its partition, for
	// the event recorder.
	partitionOf sync.Map
	// nextStart is where the next search for feasible nodes begins, so
	// that successive pods look at different nodes first.
	nextStart int
	inFlight  chan struct{}
	rand      *rand.Rand
}

// New returns a scheduler for cfg.
func New(cfg Config) (*Scheduler, error) {
	if len(cfg.TenantPartitions) == 0 || len(cfg.ResourcePartitions) == 0 {
		return nil, errors.New("scheduler needs at least one tenant and one resource partition")
	}
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	if cfg.Identity == "" {
		cfg.Identity = cfg.Name
	}
	if cfg.BindConcurrency <= 0 {
		cfg.BindConcurrency = defaultBindConcurrency
	}
	s := &Scheduler{
		cfg: cfg, cache: newCache(), queue: newQueue(),
		inFlight: make(chan struct{}, cfg.BindConcurrency),
		rand:     rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
	}
	for _, rc := range cfg.TenantPartitions {
		c, err := client.NewCore(unthrottled(rc), nil)
		if err != nil {
			return nil, fmt.Errorf("tenant partition %s: %w", rc.Host, err)
		}
		s.partitions = append(s.partitions, c)
	}
	for _, rc := range cfg.ResourcePartitions {
		c, err := kubernetes.NewForConfig(unthrottled(rc))
		if err != nil {
			return nil, fmt.Errorf("resource partition %s: %w", rc.Host, err)
		}
		s.nodes = append(s.nodes, c)
	}
	s.recorder = events.NewRecorder(events.Source{
		Component: cfg.Name, Controller: cfg.Name,
		Instance: func(*v1.Pod) string { return cfg.Identity },
	}, func(pod *v1.Pod) (*client.Core, bool) {
		i, ok := s.partitionOf.Load(pod.UID)
		if !ok {
			return nil, false
		}
		return s.partitions[i.(int)], true
	})
	s.watch()
	return s, nil
}

// unthrottled lifts client-side rate limits: the scheduler's request rate
// is what the region can take, and the API server's own limits protect it.
// It speaks protobuf, as kube-scheduler does.
func unthrottled(rc *rest.Config) *rest.Config {
	c := client.PreferProtobuf(rc)
	c.QPS, c.Burst = -1, 0
	return c
}

// watch builds one reflector per partition, pods and nodes, feeding the
// cache and the queue.
func (s *Scheduler) watch() {
	logger := klog.Background().WithName("scheduler")
	for i, c := range s.partitions {
		st := &handlerStore{
			key: podUID, known: map[string]any{}, typeName: "pod",
			set:    func(obj any) { s.onPod(i, obj.(*v1.Pod)) },
			remove: func(obj any) { s.onPodGone(obj.(*v1.Pod)) },
		}
		s.stores = append(s.stores, st)
		s.reflectors = append(s.reflectors, toolscache.NewReflectorWithOptions(podListWatch(c), &v1.Pod{}, st, toolscache.ReflectorOptions{
			Name: fmt.Sprintf("pods of tenant partition %d", i), Logger: &logger,
		}))
	}
	for i, c := range s.nodes {
		st := &handlerStore{
			key: nodeName, known: map[string]any{}, typeName: "node",
			set:    func(obj any) { s.onNode(obj.(*corev1.Node)) },
			remove: func(obj any) { s.cache.removeNode(obj.(*corev1.Node).Name) },
		}
		s.stores = append(s.stores, st)
		s.reflectors = append(s.reflectors, toolscache.NewReflectorWithOptions(nodeListWatch(c), &corev1.Node{}, st, toolscache.ReflectorOptions{
			Name: fmt.Sprintf("nodes of resource partition %d", i), Logger: &logger,
		}))
	}
}

// Watch keeps the scheduler's view of pods and nodes current until ctx
// ends. It runs whether or not this replica leads, so that a replica that
// takes over starts with a warm cache.
func (s *Scheduler) Watch(ctx context.Context) {
	var wg sync.WaitGroup
	for _, r := range s.reflectors {
		wg.Go(func() { r.RunWithContext(ctx) })
	}
	wg.Go(func() { s.queue.run(ctx) })
	wg.Go(func() { s.recorder.Run(ctx) })
	wg.Go(func() { s.reportQueue(ctx) })
	wg.Wait()
}

// HasSynced reports whether every watch has listed once.
func (s *Scheduler) HasSynced() bool {
	for _, st := range s.stores {
		if !st.synced.Load() {
			return false
		}
	}
	return true
}

func (s *Scheduler) onNode(node *corev1.Node) {
	if s.cache.setNode(node) {
		s.queue.onEvent(nodeChanged)
	}
}

func (s *Scheduler) onPod(partition int, pod *v1.Pod) {
	s.partitionOf.Store(pod.UID, partition)
	switch {
	case pod.Spec.NodeName != "":
		s.queue.remove(pod.UID)
		if s.cache.setPod(newPodInfo(pod, partition)) {
			s.queue.onEvent(podAssigned)
		}
	case pod.DeletionTimestamp != nil:
		s.queue.remove(pod.UID)
	case s.responsibleFor(pod) && !s.cache.has(pod.UID):
		s.queue.add(newPodInfo(pod, partition))
	default:
		// Another scheduler's pod, a gated one, or one whose binding is
		// in flight.
		if !s.cache.has(pod.UID) {
			s.queue.remove(pod.UID)
		}
		klog.V(5).InfoS("Not queueing pod", "pod", klog.KObj(pod), "schedulerName", pod.Spec.SchedulerName)
	}
}

func (s *Scheduler) responsibleFor(pod *v1.Pod) bool {
	name := pod.Spec.SchedulerName
	if name == "" {
		name = DefaultName
	}
	return name == s.cfg.Name && len(pod.Spec.SchedulingGates) == 0
}

func (s *Scheduler) onPodGone(pod *v1.Pod) {
	s.partitionOf.Delete(pod.UID)
	s.queue.remove(pod.UID)
	if s.cache.removePod(pod.UID) {
		s.queue.onEvent(podRemoved)
	}
}

// Schedule places pods until ctx ends. Only the leading replica calls it.
func (s *Scheduler) Schedule(ctx context.Context) {
	logger := klog.FromContext(ctx).WithName("scheduler")
	ctx = klog.NewContext(ctx, logger)
	if !toolscache.WaitForCacheSync(ctx.Done(), s.HasSynced) {
		return
	}
	logger.Info("Scheduling", "name", s.cfg.Name)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		e, ok := s.queue.pop(ctx)
		if !ok {
			return
		}
		if ctx.Err() != nil {
			s.queue.retry(e, 0)
			return
		}
		s.scheduleOne(ctx, e, &wg)
	}
}

// scheduleOne finds a node for one pod, assumes it there, and binds it in
// the background.
func (s *Scheduler) scheduleOne(ctx context.Context, e *entry, wg *sync.WaitGroup) {
	start := time.Now()
	p := e.pod
	logger := klog.FromContext(ctx).WithValues("pod", klog.KObj(p.pod), "tenant", p.tenant)

	s.cache.mu.Lock()
	if _, placed := s.cache.pods[p.uid]; placed {
		s.cache.mu.Unlock()
		s.queue.done(p.uid)
		return
	}
	node, diagnosis, err := s.findNode(p)
	var assumed *podInfo
	if node != nil {
		assumed = s.cache.assume(p, node.node.Name)
	}
	s.cache.mu.Unlock()

	switch {
	case err != nil:
		observeAttempt(resultError, start)
		logger.Error(err, "Scheduling failed")
		s.queue.retry(e, 0)
		s.recorder.Event(p.pod, corev1.EventTypeWarning, "FailedScheduling", err.Error())
		return
	case node == nil:
		observeAttempt(resultUnschedulable, start)
		logger.V(2).Info("Unschedulable", "reason", diagnosis.message)
		s.queue.retry(e, diagnosis.events)
		s.reportUnschedulable(ctx, p, diagnosis.message, wg)
		return
	}
	observeAttempt(resultScheduled, start)
	s.queue.done(p.uid)
	s.inFlight <- struct{}{}
	wg.Go(func() {
		defer func() { <-s.inFlight }()
		s.bind(ctx, e, assumed)
	})
}

// diagnosis explains why no node fits.
type diagnosis struct {
	message string
	events  clusterEvent
}

// findNode searches the nodes, from where the last search stopped, until
// it has enough feasible ones, and picks the best. With the cache locked.
func (s *Scheduler) findNode(p *podInfo) (*nodeInfo, diagnosis, error) {
	all := len(s.cache.order)
	if all == 0 {
		return nil, diagnosis{message: "no nodes available to schedule pods", events: nodeChanged}, nil
	}
	state, err := newPodState(s.cache, p)
	if err != nil {
		return nil, diagnosis{}, err
	}
	want := s.feasibleNodesToFind(all)
	feasible := make([]*nodeInfo, 0, want)
	reasons := map[string]int{}
	var events clusterEvent
	searched := 0
	for ; searched < all && len(feasible) < want; searched++ {
		n := s.cache.order[(s.nextStart+searched)%all]
		if f := runFilters(state, n); f != nil {
			for _, r := range f.reasons {
				reasons[r]++
			}
			events |= f.events
			continue
		}
		feasible = append(feasible, n)
	}
	s.nextStart = (s.nextStart + searched) % all
	if len(feasible) == 0 {
		return nil, diagnosis{message: unschedulableMessage(all, reasons), events: events}, nil
	}
	return pick(state, feasible, s.rand.IntN), diagnosis{}, nil
}

func runFilters(s *podState, n *nodeInfo) *failure {
	for _, f := range filters {
		if fl := f(s, n); fl != nil {
			return fl
		}
	}
	return nil
}

// feasibleNodesToFind is kube-scheduler's adaptive share of nodes: all of
// a small cluster, then from half of the nodes down to 5 % of them at
// 5,625 nodes and more, never fewer than minFeasibleNodes.
func (s *Scheduler) feasibleNodesToFind(all int) int {
	if all < minFeasibleNodes {
		return all
	}
	percentage := s.cfg.PercentageOfNodesToScore
	if percentage <= 0 {
		percentage = max(5, 50-all/125)
	}
	if percentage >= 100 {
		return all
	}
	return max(minFeasibleNodes, all*percentage/100)
}

// unschedulableMessage is kube-scheduler's summary: how many nodes failed
// for each reason, reasons sorted.
func unschedulableMessage(all int, reasons map[string]int) string {
	parts := make([]string, 0, len(reasons))
	for r, n := range reasons {
		parts = append(parts, fmt.Sprintf("%d %s", n, r))
	}
	slices.Sort(parts)
	return fmt.Sprintf("0/%d nodes are available: %s.", all, strings.Join(parts, ", "))
}

// bind writes the binding. On failure the assumption is dropped, and the
// pod tried again unless the failure says it is gone or placed already.
func (s *Scheduler) bind(ctx context.Context, e *entry, assumed *podInfo) {
	start := time.Now()
	pod := assumed.pod
	binding := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: assumed.node},
	}
	err := s.partitions[assumed.partition].Bind(ctx, assumed.tenant, binding)
	bindDuration.Observe(time.Since(start).Seconds())
	logger := klog.FromContext(ctx).WithValues("pod", klog.KObj(pod), "tenant", assumed.tenant, "node", assumed.node)
	if err == nil {
		podSchedulingDuration.Observe(time.Since(e.added).Seconds())
		scheduledPods.Inc()
		logger.V(3).Info("Bound")
		s.recorder.Event(pod, corev1.EventTypeNormal, "Scheduled",
			fmt.Sprintf("Successfully assigned %s/%s to %s", pod.Namespace, pod.Name, assumed.node))
		return
	}
	s.cache.forget(pod.UID)
	bindFailures.Inc()
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) || ctx.Err() != nil {
		// Deleted, placed by another replica, or replaced by a new pod of
		// the same name: the watch brings the truth.
		logger.V(2).Info("Binding not needed any more", "err", err)
		return
	}
	logger.Error(err, "Binding failed; retrying")
	s.recorder.Event(pod, corev1.EventTypeWarning, "FailedScheduling", fmt.Sprintf("Binding rejected: %v", err))
	s.queue.requeueAfterBind(e)
}

// reportUnschedulable sets PodScheduled=False with the reason, once per
// distinct message, and records a FailedScheduling event.
func (s *Scheduler) reportUnschedulable(ctx context.Context, p *podInfo, message string, wg *sync.WaitGroup) {
	s.recorder.Event(p.pod, corev1.EventTypeWarning, "FailedScheduling", message)
	for _, c := range p.pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Message == message {
			return
		}
	}
	pod := p.pod.DeepCopy()
	cond := corev1.PodCondition{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
		Message: message, LastTransitionTime: metav1.Now(),
	}
	replaced := false
	for i, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled {
			pod.Status.Conditions[i], replaced = cond, true
		}
	}
	if !replaced {
		pod.Status.Conditions = append(pod.Status.Conditions, cond)
	}
	s.inFlight <- struct{}{}
	wg.Go(func() {
		defer func() { <-s.inFlight }()
		// A conflict means the pod changed; the watch requeues it and the
		// next attempt writes the condition again if still needed.
		if _, err := s.partitions[p.partition].UpdatePodStatus(ctx, p.tenant, pod); err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) && ctx.Err() == nil {
			klog.FromContext(ctx).V(2).Info("Writing PodScheduled condition failed", "pod", klog.KObj(pod), "err", err)
		}
	})
}

// reportQueue publishes the queue's lengths every few seconds.
func (s *Scheduler) reportQueue(ctx context.Context) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			active, backoff, unschedulable := s.queue.lengths()
			pendingPods.WithLabelValues("active").Set(float64(active))
			pendingPods.WithLabelValues("backoff").Set(float64(backoff))
			pendingPods.WithLabelValues("unschedulable").Set(float64(unschedulable))
		}
	}
}
