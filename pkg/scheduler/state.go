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
	"fmt"
	"math"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// podState is what scheduling one pod precomputes over the cluster before
// filters and scores look at single nodes: the pod's affinity compiled,
// and pod counts per topology domain for affinity and spreading.
type podState struct {
	pod         *podInfo
	tolerations []corev1.Toleration
	// requiredAffinity is nodeSelector and required node affinity.
	requiredAffinity  nodeaffinity.RequiredNodeAffinity
	preferredAffinity *nodeaffinity.PreferredSchedulingTerms

	hardSpread []*spreadConstraint
	softSpread []*spreadConstraint
	// antiAffinity are the domains the pod's own anti-affinity forbids,
	// existingAnti those forbidden by placed pods' anti-affinity towards
	// it, affinity the domains its affinity requires.
	antiAffinity, existingAnti, affinity []*topologyTerm
	// siblings, for a controlled pod without spread constraints of its
	// own, count the pods of the same controller per node and zone.
	siblings *siblings
}

// siblings counts the pods of one controller per node and per zone.
type siblings struct {
	onNode, inZone         map[string]int
	nodeWeight, zoneWeight float64
}

// spreadConstraint is a topology spread constraint with the pods it
// counts, per domain.
type spreadConstraint struct {
	key      string
	maxSkew  int
	selector labels.Selector
	// counts holds every eligible domain, with the matching pods in it.
	counts map[string]int
	// self is 1 if the pod counts towards its own constraint.
	self       int
	minDomains int
	min        int
}

func (c *spreadConstraint) minCount() int {
	if len(c.counts) < c.minDomains {
		return 0
	}
	return c.min
}

// topologyTerm is a pod affinity term resolved to topology domains.
type topologyTerm struct {
	key     string
	domains map[string]bool
	// selfSatisfied lets the first pod of a group that has affinity to
	// itself land anywhere: no pod matches yet, but it matches itself.
	selfSatisfied bool
}

// newPodState compiles p's scheduling constraints against the cluster.
// The cache must be locked.
func newPodState(c *cache, p *podInfo) (*podState, error) {
	k8sPod := &corev1.Pod{ObjectMeta: p.pod.ObjectMeta, Spec: p.pod.Spec.PodSpec}
	s := &podState{
		pod:              p,
		tolerations:      p.pod.Spec.Tolerations,
		requiredAffinity: nodeaffinity.GetRequiredNodeAffinity(k8sPod),
	}
	if a := p.pod.Spec.Affinity; a != nil && a.NodeAffinity != nil {
		terms, err := nodeaffinity.NewPreferredSchedulingTerms(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution)
		if err != nil {
			return nil, fmt.Errorf("preferred node affinity: %w", err)
		}
		s.preferredAffinity = terms
	}
	if err := s.compileSpread(c); err != nil {
		return nil, err
	}
	if err := s.compilePodAffinity(c); err != nil {
		return nil, err
	}
	if len(p.pod.Spec.TopologySpreadConstraints) == 0 && p.owner != "" {
		s.siblings = countSiblings(c, p)
	}
	return s, nil
}

// matchesNode tells whether n satisfies the pod's nodeSelector and
// required node affinity. Validation has rejected selectors that cannot be
// parsed, so a parse error here means no match.
func (s *podState) matchesNode(n *nodeInfo) bool {
	ok, err := s.requiredAffinity.Match(n.node)
	return ok && err == nil
}

func (s *podState) compileSpread(c *cache) error {
	for _, tsc := range s.pod.pod.Spec.TopologySpreadConstraints {
		sel, err := spreadSelector(s.pod.pod.Labels, tsc)
		if err != nil {
			return fmt.Errorf("topology spread constraint on %q: %w", tsc.TopologyKey, err)
		}
		sc := &spreadConstraint{key: tsc.TopologyKey, maxSkew: int(tsc.MaxSkew), selector: sel, counts: map[string]int{}}
		if tsc.MinDomains != nil {
			sc.minDomains = int(*tsc.MinDomains)
		}
		if sel.Matches(labels.Set(s.pod.pod.Labels)) {
			sc.self = 1
		}
		honorAffinity := tsc.NodeAffinityPolicy == nil || *tsc.NodeAffinityPolicy == corev1.NodeInclusionPolicyHonor
		honorTaints := tsc.NodeTaintsPolicy != nil && *tsc.NodeTaintsPolicy == corev1.NodeInclusionPolicyHonor
		domainOf := map[string]string{}
		for _, n := range c.order {
			domain, ok := n.node.Labels[sc.key]
			if !ok {
				continue
			}
			if honorAffinity && !s.matchesNode(n) {
				continue
			}
			if honorTaints && filterTaints(s, n) != nil {
				continue
			}
			domainOf[n.node.Name] = domain
			sc.counts[domain] += 0
		}
		for _, p := range c.byNamespace[s.pod.namespaceKey()] {
			if domain, ok := domainOf[p.node]; ok && sel.Matches(labels.Set(p.pod.Labels)) {
				sc.counts[domain]++
			}
		}
		sc.min = math.MaxInt
		for _, count := range sc.counts {
			sc.min = min(sc.min, count)
		}
		if tsc.WhenUnsatisfiable == corev1.DoNotSchedule {
			s.hardSpread = append(s.hardSpread, sc)
		} else {
			s.softSpread = append(s.softSpread, sc)
		}
	}
	return nil
}

// countSiblings counts p's siblings where they are placed. The weights are
// those of kube-scheduler's default spreading: the logarithm of the number
// of domains plus two, per topology.
func countSiblings(c *cache, p *podInfo) *siblings {
	sib := &siblings{
		onNode: map[string]int{}, inZone: map[string]int{},
		nodeWeight: math.Log(float64(len(c.order) + 2)), zoneWeight: math.Log(float64(len(c.zones) + 2)),
	}
	for _, o := range c.byNamespace[p.namespaceKey()] {
		if o.owner != p.owner {
			continue
		}
		sib.onNode[o.node]++
		if n, ok := c.nodes[o.node]; ok {
			if zone, ok := n.node.Labels[corev1.LabelTopologyZone]; ok {
				sib.inZone[zone]++
			}
		}
	}
	return sib
}

// spreadSelector is the constraint's selector plus, for each of its
// matchLabelKeys, the pod's own value of that label (how Deployments spread
// each revision on its own).
func spreadSelector(podLabels map[string]string, tsc corev1.TopologySpreadConstraint) (labels.Selector, error) {
	sel, err := metav1.LabelSelectorAsSelector(tsc.LabelSelector)
	if err != nil {
		return nil, err
	}
	for _, key := range tsc.MatchLabelKeys {
		v, ok := podLabels[key]
		if !ok {
			continue
		}
		req, err := labels.NewRequirement(key, selection.Equals, []string{v})
		if err != nil {
			return nil, err
		}
		sel = sel.Add(*req)
	}
	return sel, nil
}

// affinityTerm is a pod affinity term ready to match pods.
type affinityTerm struct {
	key      string
	selector labels.Selector
	// namespaces the term looks in; nil means every namespace of the
	// tenant.
	namespaces map[string]bool
}

func compileTerm(owner *corev1.Pod, t corev1.PodAffinityTerm) (*affinityTerm, error) {
	sel, err := metav1.LabelSelectorAsSelector(t.LabelSelector)
	if err != nil {
		return nil, fmt.Errorf("pod affinity term on %q: %w", t.TopologyKey, err)
	}
	for _, key := range t.MatchLabelKeys {
		if v, ok := owner.Labels[key]; ok {
			req, err := labels.NewRequirement(key, selection.Equals, []string{v})
			if err != nil {
				return nil, err
			}
			sel = sel.Add(*req)
		}
	}
	for _, key := range t.MismatchLabelKeys {
		if v, ok := owner.Labels[key]; ok {
			req, err := labels.NewRequirement(key, selection.NotEquals, []string{v})
			if err != nil {
				return nil, err
			}
			sel = sel.Add(*req)
		}
	}
	term := &affinityTerm{key: t.TopologyKey, selector: sel}
	// An empty namespaceSelector selects every namespace. Namespace labels
	// are not watched, so a non-empty one counts the pod's own namespace
	// and those listed.
	if t.NamespaceSelector == nil || len(t.NamespaceSelector.MatchLabels)+len(t.NamespaceSelector.MatchExpressions) > 0 || len(t.Namespaces) > 0 {
		term.namespaces = map[string]bool{}
		for _, ns := range t.Namespaces {
			term.namespaces[ns] = true
		}
		if len(t.Namespaces) == 0 {
			term.namespaces[owner.Namespace] = true
		}
	}
	return term, nil
}

func (t *affinityTerm) matches(p *podInfo) bool {
	return (t.namespaces == nil || t.namespaces[p.pod.Namespace]) && t.selector.Matches(labels.Set(p.pod.Labels))
}

// domainsOf resolves t to the domains of the pods of tenant it matches.
func (t *affinityTerm) domainsOf(c *cache, s *podState) *topologyTerm {
	out := &topologyTerm{key: t.key, domains: map[string]bool{}}
	for key, pods := range c.byNamespace {
		if key.tenant != s.pod.tenant || (t.namespaces != nil && !t.namespaces[key.namespace]) {
			continue
		}
		for _, p := range pods {
			if !t.selector.Matches(labels.Set(p.pod.Labels)) {
				continue
			}
			if n, ok := c.nodes[p.node]; ok {
				if v, ok := n.node.Labels[t.key]; ok {
					out.domains[v] = true
				}
			}
		}
	}
	return out
}

func (s *podState) compilePodAffinity(c *cache) error {
	pod := &corev1.Pod{ObjectMeta: s.pod.pod.ObjectMeta}
	if a := s.pod.pod.Spec.Affinity; a != nil {
		if a.PodAntiAffinity != nil {
			for _, t := range a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
				term, err := compileTerm(pod, t)
				if err != nil {
					return err
				}
				s.antiAffinity = append(s.antiAffinity, term.domainsOf(c, s))
			}
		}
		if a.PodAffinity != nil {
			for _, t := range a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
				term, err := compileTerm(pod, t)
				if err != nil {
					return err
				}
				resolved := term.domainsOf(c, s)
				resolved.selfSatisfied = len(resolved.domains) == 0 && term.matches(s.pod)
				s.affinity = append(s.affinity, resolved)
			}
		}
	}
	// Placed pods whose anti-affinity the incoming pod would violate.
	for _, e := range c.antiAffinity[s.pod.tenant] {
		n, ok := c.nodes[e.node]
		if !ok {
			continue
		}
		owner := &corev1.Pod{ObjectMeta: e.pod.ObjectMeta}
		for _, t := range e.pod.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			term, err := compileTerm(owner, t)
			if err != nil || !term.matches(s.pod) {
				continue
			}
			if v, ok := n.node.Labels[t.TopologyKey]; ok {
				s.existingAnti = append(s.existingAnti, &topologyTerm{key: t.TopologyKey, domains: map[string]bool{v: true}})
			}
		}
	}
	return nil
}
