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

// Package agent is the node agent: it registers its nodes and keeps their
// Leases fresh, watches the pods bound to them in every tenant of every
// tenant partition, and makes a runtime run them, writing back their status.
// One agent serves one real node, or thousands of simulated ones.
package agent

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/events"
)

// Config wires an agent.
type Config struct {
	// NodeClients talk to the resource partition that holds the nodes and
	// their Leases, as the nodes' identity. The nodes are spread over them,
	// each writing through one, as kubelets each have a connection of their
	// own; the first also watches the nodes.
	NodeClients []kubernetes.Interface
	// Partitions are the tenant partitions whose pods may be bound to the
	// nodes; each is watched across all its tenants.
	Partitions []*client.Core
	// Nodes are the nodes this agent runs.
	Nodes []NodeSpec
	// Workers sync pods in parallel.
	Workers int
	// HeartbeatWorkers renew leases and write node status in parallel.
	HeartbeatWorkers int
	// ResyncPeriod is how often a running pod is synced without a change
	// of its object, to notice exits and apply restart policies.
	ResyncPeriod time.Duration
}

// Runtimes run the pods of the agent's nodes.
type Runtimes struct {
	// Containers runs container pods.
	Containers runtime.Runtime
	// VMs runs VM pods; nil on a node without virtualization.
	VMs runtime.Runtime
}

// Agent runs the nodes of a Config.
type Agent struct {
	cfg      Config
	rt       Runtimes
	nodes    map[string]*node
	pods     *podCache
	queue    workqueue.TypedRateLimitingInterface[types.UID]
	recorder *events.Recorder

	// admitted are the pods this agent accepted to run, and usage what
	// they request of each node, which admitting more must leave room for.
	mu       sync.Mutex
	admitted map[types.UID]admission
	usage    map[string]corev1.ResourceList
	// terminating are the pods being stopped in the background.
	terminating map[types.UID]bool
	// deleting bounds the final deletions of stopped pods in flight.
	deleting   chan struct{}
	wg         sync.WaitGroup
	beats      *heartbeats
	registered atomic.Bool
}

// New checks cfg and returns an agent.
func New(cfg Config) (*Agent, error) {
	if len(cfg.NodeClients) == 0 || len(cfg.Partitions) == 0 || len(cfg.Nodes) == 0 {
		return nil, errors.New("agent needs a node client, at least one tenant partition and one node")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.HeartbeatWorkers <= 0 {
		cfg.HeartbeatWorkers = 1
	}
	if cfg.ResyncPeriod <= 0 {
		cfg.ResyncPeriod = 2 * time.Second
	}
	a := &Agent{
		cfg:         cfg,
		nodes:       make(map[string]*node, len(cfg.Nodes)),
		pods:        newPodCache(),
		admitted:    map[types.UID]admission{},
		usage:       map[string]corev1.ResourceList{},
		terminating: map[types.UID]bool{},
		deleting:    make(chan struct{}, cfg.Workers),
		beats:       newHeartbeats(len(cfg.Nodes)),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedMaxOfRateLimiter(
				workqueue.NewTypedItemExponentialFailureRateLimiter[types.UID](100*time.Millisecond, 30*time.Second),
			),
			workqueue.TypedRateLimitingQueueConfig[types.UID]{Name: "agent_pods"},
		),
	}
	for i, spec := range cfg.Nodes {
		if _, dup := a.nodes[spec.Name]; dup {
			return nil, fmt.Errorf("node %q given twice", spec.Name)
		}
		a.nodes[spec.Name] = &node{spec: spec, client: cfg.NodeClients[i%len(cfg.NodeClients)]}
	}
	a.recorder = events.NewRecorder(events.Source{
		Component: "arcturus-agent", Controller: "arcturus.io/agent",
		Instance: func(pod *v1.Pod) string { return pod.Spec.NodeName },
	}, func(pod *v1.Pod) (*client.Core, bool) {
		bp, ok := a.pods.get(pod.UID)
		return bp.partition, ok
	})
	return a, nil
}

// Registered reports whether the agent's nodes are registered.
func (a *Agent) Registered() bool { return a.registered.Load() }

// Recorder publishes pod Events in the pods' tenants; runtimes use it.
func (a *Agent) Recorder() runtime.Recorder { return a.recorder }

// Objects reads what pods refer to from their tenants; runtimes use it.
func (a *Agent) Objects() runtime.Objects { return objects{a} }

// Run registers the nodes, then runs their pods with rt until ctx ends,
// and waits for everything it started.
func (a *Agent) Run(ctx context.Context, rt Runtimes) error {
	if rt.Containers == nil {
		return errors.New("agent needs a container runtime")
	}
	a.rt = rt
	logger := klog.FromContext(ctx)
	managedNodes.Set(float64(len(a.nodes)))
	wg := &a.wg
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Go(func() { a.runHeartbeats(ctx) })

	// The API server may not be up yet, or not yet know the node role:
	// keep trying, as the kubelet does, the nodes not yet registered.
	pending := slices.Collect(maps.Values(a.nodes))
	for delay := time.Second; ; delay = min(2*delay, 30*time.Second) {
		var err error
		if pending, err = a.registerAll(ctx, pending); err == nil {
			break
		}
		logger.Error(err, "Registering nodes failed; retrying", "nodes", len(pending), "in", delay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
	}
	a.registered.Store(true)
	logger.Info("Nodes registered", "nodes", len(a.nodes))

	wg.Go(func() { a.recorder.Run(ctx) })
	wg.Go(func() { a.watchNodes(ctx) })

	selector := fields.OneTermNotEqualSelector("spec.nodeName", "").String()
	if len(a.nodes) == 1 {
		for name := range a.nodes {
			selector = fields.OneTermEqualSelector("spec.nodeName", name).String()
		}
	}
	var synced []cache.InformerSynced
	for i, p := range a.cfg.Partitions {
		store := &partitionStore{
			cache: a.pods, partition: p, known: map[types.UID]bool{},
			wanted:  func(pod *v1.Pod) bool { _, ok := a.nodes[pod.Spec.NodeName]; return ok },
			enqueue: a.queue.Add,
		}
		name := fmt.Sprintf("agent-pods-%d", i)
		r := cache.NewReflectorWithOptions(podListWatch(p, selector), &v1.Pod{}, store,
			cache.ReflectorOptions{Name: name, Logger: &logger})
		synced = append(synced, func() bool { return r.LastSyncResourceVersion() != "" })
		wg.Go(func() { r.RunWithContext(ctx) })
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return ctx.Err()
	}
	// Pods the runtimes still hold whose objects are gone are queued too,
	// so that an agent that was down while they were deleted cleans up.
	a.queueOrphans(ctx)

	for range a.cfg.Workers {
		wg.Go(func() {
			for a.processNext(ctx) {
			}
		})
	}
	logger.Info("Agent running", "partitions", len(a.cfg.Partitions), "workers", a.cfg.Workers)
	<-ctx.Done()
	a.queue.ShutDown()
	return nil
}

// watchNodes watches the agent's Nodes for conditions someone else
// changed.
func (a *Agent) watchNodes(ctx context.Context) {
	opts := func(o *metav1.ListOptions) { o.LabelSelector = v1.LabelSimulated + "=true" }
	if len(a.nodes) == 1 {
		for name := range a.nodes {
			opts = func(o *metav1.ListOptions) {
				o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
			}
		}
	}
	nodes := a.cfg.NodeClients[0].CoreV1().Nodes()
	_, informer := cache.NewInformerWithOptions(cache.InformerOptions{
		ListerWatcher: &cache.ListWatch{
			ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (k8sruntime.Object, error) {
				opts(&o)
				return nodes.List(ctx, o)
			},
			WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
				opts(&o)
				return nodes.Watch(ctx, o)
			},
		},
		ObjectType: &corev1.Node{},
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    a.noticeNode,
			UpdateFunc: func(_, obj any) { a.noticeNode(obj) },
		},
	})
	informer.RunWithContext(ctx)
}

// registerAll registers the nodes given, and returns those that failed.
func (a *Agent) registerAll(ctx context.Context, nodes []*node) ([]*node, error) {
	work := make(chan *node)
	var (
		mu     sync.Mutex
		failed []*node
		first  error
		wg     sync.WaitGroup
	)
	for range min(len(nodes), 32) {
		wg.Go(func() {
			for n := range work {
				if err := a.register(ctx, n); err != nil {
					mu.Lock()
					failed = append(failed, n)
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for _, n := range nodes {
		work <- n
	}
	close(work)
	wg.Wait()
	if first != nil {
		return failed, fmt.Errorf("%d of %d nodes failed, the first: %w", len(failed), len(nodes), first)
	}
	return nil, nil
}

func (a *Agent) queueOrphans(ctx context.Context) {
	for _, rt := range a.runtimes() {
		refs, err := rt.Pods(ctx)
		if err != nil {
			utilruntime.HandleErrorWithContext(ctx, err, "Listing runtime pods", "runtime", rt.Name())
			continue
		}
		for _, ref := range refs {
			if _, ok := a.pods.get(ref.UID); !ok {
				a.queue.Add(ref.UID)
			}
		}
	}
}

func (a *Agent) runtimes() []runtime.Runtime {
	if a.rt.VMs == nil || a.rt.VMs == a.rt.Containers {
		return []runtime.Runtime{a.rt.Containers}
	}
	return []runtime.Runtime{a.rt.Containers, a.rt.VMs}
}

func (a *Agent) processNext(ctx context.Context) bool {
	uid, quit := a.queue.Get()
	if quit {
		return false
	}
	defer a.queue.Done(uid)
	start := time.Now()
	requeue, err := a.syncPod(ctx, uid)
	podSyncDuration.Observe(time.Since(start).Seconds())
	switch {
	case err == nil:
		podSyncs.WithLabelValues("ok").Inc()
		a.queue.Forget(uid)
		if requeue > 0 {
			a.queue.AddAfter(uid, requeue)
		}
	case ctx.Err() != nil:
	case apierrors.IsConflict(err):
		// Another writer changed the pod since the agent read it (its
		// controller deleting it, say); the next sync starts from the newer
		// pod. The kubelet's status manager treats it the same way.
		podSyncs.WithLabelValues("conflict").Inc()
		klog.FromContext(ctx).V(2).Info("Pod changed while syncing; retrying", "uid", uid, "err", err)
		a.queue.AddRateLimited(uid)
	default:
		podSyncs.WithLabelValues("error").Inc()
		utilruntime.HandleErrorWithContext(ctx, err, "Syncing pod failed; retrying", "uid", uid)
		a.queue.AddRateLimited(uid)
	}
	return true
}
