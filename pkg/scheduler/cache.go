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
	"maps"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// Requests counted for scoring when a container pod gives none, as
// kube-scheduler does, so that empty pods still spread.
const (
	defaultScoreMilliCPU = 100
	defaultScoreMemory   = 200 << 20
)

// resources is an amount of node resources in the units filters compare.
type resources struct {
	milliCPU, memory, ephemeralStorage int64
	pods                               int64
	scalar                             map[corev1.ResourceName]int64
}

func resourcesOf(list corev1.ResourceList) resources {
	var r resources
	for name, q := range list {
		switch name {
		case corev1.ResourceCPU:
			r.milliCPU = q.MilliValue()
		case corev1.ResourceMemory:
			r.memory = q.Value()
		case corev1.ResourceEphemeralStorage:
			r.ephemeralStorage = q.Value()
		case corev1.ResourcePods:
			r.pods = q.Value()
		default:
			if r.scalar == nil {
				r.scalar = map[corev1.ResourceName]int64{}
			}
			r.scalar[name] = q.Value()
		}
	}
	return r
}

func (r *resources) add(o resources, sign int64) {
	r.milliCPU += sign * o.milliCPU
	r.memory += sign * o.memory
	r.ephemeralStorage += sign * o.ephemeralStorage
	r.pods += sign * o.pods
	for name, v := range o.scalar {
		if r.scalar == nil {
			r.scalar = map[corev1.ResourceName]int64{}
		}
		r.scalar[name] += sign * v
	}
}

// podInfo is what the scheduler keeps of a pod: the object, where it
// lives, and what it was computed to need.
type podInfo struct {
	pod       *v1.Pod
	uid       types.UID
	tenant    tenancy.Name
	partition int
	priority  int32
	requests  resources
	// scoreMilliCPU and scoreMemory are the requests scoring counts.
	scoreMilliCPU, scoreMemory int64
	// owner is the UID of the pod's controller, for default spreading.
	owner types.UID
	// node is the node the pod is bound or assumed to.
	node string
}

func newPodInfo(pod *v1.Pod, partition int) *podInfo {
	p := &podInfo{
		pod: pod, uid: pod.UID, tenant: tenancy.OfObject(pod.Annotations), partition: partition,
		requests: resourcesOf(pod.Requests()), node: pod.Spec.NodeName,
	}
	p.requests.pods = 1
	if pod.Spec.Priority != nil {
		p.priority = *pod.Spec.Priority
	}
	p.scoreMilliCPU, p.scoreMemory = p.requests.milliCPU, p.requests.memory
	if p.scoreMilliCPU == 0 {
		p.scoreMilliCPU = defaultScoreMilliCPU
	}
	if p.scoreMemory == 0 {
		p.scoreMemory = defaultScoreMemory
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		p.owner = ref.UID
	}
	return p
}

// namespaceKey names a namespace of a tenant: affinity and spreading only
// ever count pods of the same tenant.
type namespaceKey struct {
	tenant    tenancy.Name
	namespace string
}

func (p *podInfo) namespaceKey() namespaceKey {
	return namespaceKey{tenant: p.tenant, namespace: p.pod.Namespace}
}

// nodeInfo is a node and what is placed on it.
type nodeInfo struct {
	node        *corev1.Node
	allocatable resources
	requested   resources
	// scoreMilliCPU and scoreMemory sum the pods' scoring requests.
	scoreMilliCPU, scoreMemory int64
	pods                       map[types.UID]*podInfo
	// readiness is the taint an unready node is treated as having, or nil.
	readiness *corev1.Taint
	vmReady   bool
	// unschedulable and taints are the node's, kept here for the first
	// filters: reading them through node would touch every node object
	// searched, for every pod.
	unschedulable bool
	taints        []corev1.Taint
}

func newNodeInfo(node *corev1.Node) *nodeInfo {
	n := &nodeInfo{pods: map[types.UID]*podInfo{}}
	n.setNode(node)
	return n
}

// setNode takes a new version of the node object.
func (n *nodeInfo) setNode(node *corev1.Node) {
	n.node = node
	n.unschedulable, n.taints = node.Spec.Unschedulable, node.Spec.Taints
	n.allocatable = resourcesOf(node.Status.Allocatable)
	n.readiness = &corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule}
	n.vmReady = false
	for _, c := range node.Status.Conditions {
		switch c.Type {
		case corev1.NodeReady:
			switch c.Status {
			case corev1.ConditionTrue:
				n.readiness = nil
			case corev1.ConditionUnknown:
				n.readiness = &corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule}
			}
		case v1.NodeVMRuntimeReady:
			n.vmReady = c.Status == corev1.ConditionTrue
		}
	}
}

func (n *nodeInfo) addPod(p *podInfo, sign int64) {
	n.requested.add(p.requests, sign)
	n.scoreMilliCPU += sign * p.scoreMilliCPU
	n.scoreMemory += sign * p.scoreMemory
	if sign > 0 {
		n.pods[p.uid] = p
	} else {
		delete(n.pods, p.uid)
	}
}

// schedulingRelevantChange tells whether a node update can change a
// filter's verdict, so that heartbeats do not wake unschedulable pods.
func schedulingRelevantChange(old, cur *nodeInfo) bool {
	return !maps.Equal(old.node.Labels, cur.node.Labels) ||
		old.unschedulable != cur.unschedulable ||
		!taintsEqual(old.taints, cur.taints) ||
		(old.readiness == nil) != (cur.readiness == nil) ||
		old.vmReady != cur.vmReady ||
		!resourcesEqual(old.allocatable, cur.allocatable)
}

func taintsEqual(a, b []corev1.Taint) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || a[i].Value != b[i].Value || a[i].Effect != b[i].Effect {
			return false
		}
	}
	return true
}

func resourcesEqual(a, b resources) bool {
	return a.milliCPU == b.milliCPU && a.memory == b.memory && a.ephemeralStorage == b.ephemeralStorage &&
		a.pods == b.pods && maps.Equal(a.scalar, b.scalar)
}

// cache is the scheduler's view of the cluster: nodes from every resource
// partition and the pods on them, including pods assumed bound whose
// binding is still in flight.
type cache struct {
	mu    sync.Mutex
	nodes map[string]*nodeInfo
	// order lists the nodes for the round-robin search; index maps a
	// node's name to its place in it.
	order []*nodeInfo
	index map[string]int
	// pods are the assigned pods, by UID; pods assumed bound are also in
	// assumed.
	pods    map[types.UID]*podInfo
	assumed map[types.UID]bool
	// byNamespace indexes assigned pods for affinity and spreading.
	byNamespace map[namespaceKey]map[types.UID]*podInfo
	// antiAffinity holds the assigned pods of each tenant with required
	// anti-affinity, which incoming pods must respect too.
	antiAffinity map[tenancy.Name]map[types.UID]*podInfo
	// zones counts the nodes of each zone.
	zones map[string]int
	// nodeless holds pods assigned to nodes the cache does not know (yet:
	// another partition's watch may be behind), by node name.
	nodeless map[string]map[types.UID]*podInfo
}

func newCache() *cache {
	return &cache{
		nodes: map[string]*nodeInfo{}, index: map[string]int{},
		pods: map[types.UID]*podInfo{}, assumed: map[types.UID]bool{},
		byNamespace:  map[namespaceKey]map[types.UID]*podInfo{},
		antiAffinity: map[tenancy.Name]map[types.UID]*podInfo{},
		nodeless:     map[string]map[types.UID]*podInfo{},
		zones:        map[string]int{},
	}
}

// setNode adds or updates a node; it reports whether the change may make
// a pending pod fit.
func (c *cache) setNode(node *corev1.Node) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.nodes[node.Name]
	if !ok {
		n = newNodeInfo(node)
		c.countZone(node, 1)
		c.nodes[node.Name] = n
		c.index[node.Name] = len(c.order)
		c.order = append(c.order, n)
		nodesKnown.Set(float64(len(c.order)))
		for _, p := range c.nodeless[node.Name] {
			n.addPod(p, 1)
		}
		delete(c.nodeless, node.Name)
		return true
	}
	old := *n
	c.countZone(old.node, -1)
	c.countZone(node, 1)
	n.setNode(node)
	return schedulingRelevantChange(&old, n)
}

// removeNode forgets a node. Its pods stay known: they may still run, and
// the pod garbage collector removes them.
func (c *cache) removeNode(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.index[name]
	if !ok {
		return
	}
	c.countZone(c.nodes[name].node, -1)
	if pods := c.nodes[name].pods; len(pods) > 0 {
		c.nodeless[name] = pods
	}
	last := len(c.order) - 1
	c.order[i] = c.order[last]
	c.index[c.order[i].node.Name] = i
	c.order = c.order[:last]
	delete(c.index, name)
	delete(c.nodes, name)
	nodesKnown.Set(float64(len(c.order)))
}

func (c *cache) countZone(node *corev1.Node, delta int) {
	zone, ok := node.Labels[corev1.LabelTopologyZone]
	if !ok {
		return
	}
	c.zones[zone] += delta
	if c.zones[zone] <= 0 {
		delete(c.zones, zone)
	}
}

// setPod records an assigned pod, replacing an assumption about it. It
// reports whether the pod newly landed somewhere: unknown before, or
// assumed on another node.
func (c *cache) setPod(p *podInfo) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	prev, known := c.pods[p.uid]
	landed := !known || (c.assumed[p.uid] && prev.node != p.node)
	c.removePodLocked(p.uid)
	c.addPodLocked(p)
	return landed
}

// assume records p as bound to node before the binding is written, so
// that the next pod sees the room it takes.
func (c *cache) assume(p *podInfo, node string) *podInfo {
	assumed := *p
	assumed.node = node
	c.addPodLocked(&assumed)
	c.assumed[p.uid] = true
	return &assumed
}

// forget drops an assumption whose binding failed. A pod the watch has
// confirmed meanwhile stays.
func (c *cache) forget(uid types.UID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.assumed[uid] {
		c.removePodLocked(uid)
	}
}

// removePod forgets an assigned pod that was deleted or finished.
func (c *cache) removePod(uid types.UID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.removePodLocked(uid)
}

// has reports whether a pod is assigned or assumed.
func (c *cache) has(uid types.UID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.pods[uid]
	return ok
}

func (c *cache) addPodLocked(p *podInfo) {
	c.pods[p.uid] = p
	if n, ok := c.nodes[p.node]; ok {
		n.addPod(p, 1)
	} else {
		byUID := c.nodeless[p.node]
		if byUID == nil {
			byUID = map[types.UID]*podInfo{}
			c.nodeless[p.node] = byUID
		}
		byUID[p.uid] = p
	}
	key := p.namespaceKey()
	ns := c.byNamespace[key]
	if ns == nil {
		ns = map[types.UID]*podInfo{}
		c.byNamespace[key] = ns
	}
	ns[p.uid] = p
	if hasRequiredAntiAffinity(p.pod) {
		set := c.antiAffinity[p.tenant]
		if set == nil {
			set = map[types.UID]*podInfo{}
			c.antiAffinity[p.tenant] = set
		}
		set[p.uid] = p
	}
}

func (c *cache) removePodLocked(uid types.UID) bool {
	p, ok := c.pods[uid]
	if !ok {
		return false
	}
	delete(c.pods, uid)
	delete(c.assumed, uid)
	if n, ok := c.nodes[p.node]; ok {
		n.addPod(p, -1)
	} else if byUID := c.nodeless[p.node]; byUID != nil {
		delete(byUID, uid)
		if len(byUID) == 0 {
			delete(c.nodeless, p.node)
		}
	}
	key := p.namespaceKey()
	if ns := c.byNamespace[key]; ns != nil {
		delete(ns, uid)
		if len(ns) == 0 {
			delete(c.byNamespace, key)
		}
	}
	if set := c.antiAffinity[p.tenant]; set != nil {
		delete(set, uid)
		if len(set) == 0 {
			delete(c.antiAffinity, p.tenant)
		}
	}
	return true
}

func hasRequiredAntiAffinity(pod *v1.Pod) bool {
	a := pod.Spec.Affinity
	return a != nil && a.PodAntiAffinity != nil && len(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) > 0
}
