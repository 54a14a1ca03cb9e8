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

package v1

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// DefaultVirtualMachineName names a VM whose spec leaves the name empty.
const DefaultVirtualMachineName = "vm"

// DefaultTolerationSeconds is how long a pod stays bound to a node that is
// not ready or unreachable before it is evicted, unless it says otherwise:
// kube-apiserver's DefaultTolerationSeconds admission default
// (--default-not-ready-toleration-seconds, --default-unreachable-toleration-seconds).
const DefaultTolerationSeconds int64 = 300

// SetDefaultsPod fills the fields kube-apiserver fills on a pod, so that
// clients see the pod they would see on Kubernetes.
func SetDefaultsPod(pod *Pod) {
	spec := &pod.Spec
	if spec.RestartPolicy == "" {
		spec.RestartPolicy = corev1.RestartPolicyAlways
	}
	if spec.DNSPolicy == "" {
		spec.DNSPolicy = corev1.DNSClusterFirst
	}
	if spec.SchedulerName == "" {
		spec.SchedulerName = corev1.DefaultSchedulerName
	}
	if spec.TerminationGracePeriodSeconds == nil {
		grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
		spec.TerminationGracePeriodSeconds = &grace
	}
	if spec.SecurityContext == nil {
		spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	if spec.EnableServiceLinks == nil {
		enable := corev1.DefaultEnableServiceLinks
		spec.EnableServiceLinks = &enable
	}
	if spec.Priority == nil {
		priority := int32(0)
		spec.Priority = &priority
	}
	if spec.PreemptionPolicy == nil {
		policy := corev1.PreemptLowerPriority
		spec.PreemptionPolicy = &policy
	}
	for i := range spec.InitContainers {
		setDefaultsContainer(&spec.InitContainers[i])
	}
	for i := range spec.Containers {
		setDefaultsContainer(&spec.Containers[i])
	}
	if vm := spec.VirtualMachine; vm != nil {
		if vm.Name == "" {
			vm.Name = DefaultVirtualMachineName
		}
		if vm.PowerState == "" {
			vm.PowerState = PowerStateRunning
		}
		if vm.ImagePullPolicy == "" && vm.Image != "" {
			vm.ImagePullPolicy = defaultPullPolicy(vm.Image)
		}
	}
	if pod.Status.Phase == "" {
		pod.Status.Phase = corev1.PodPending
	}
}

// SetDefaultTolerations gives a pod that does not tolerate the
// node.kubernetes.io/not-ready and node.kubernetes.io/unreachable NoExecute
// taints tolerations of them for DefaultTolerationSeconds, as Kubernetes'
// DefaultTolerationSeconds admission does, so that a node's brief outage
// does not evict its pods at once.
//
// It is applied on create only, as admission is: as a scheme default it
// would also run on every update and on every read, changing pods created
// before it and spec fields their writers never sent.
func SetDefaultTolerations(spec *PodSpec) {
	notReady, unreachable := false, false
	for _, t := range spec.Tolerations {
		// An empty key (with operator Exists) or effect matches every
		// key or effect.
		if t.Effect != "" && t.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		notReady = notReady || t.Key == "" || t.Key == corev1.TaintNodeNotReady
		unreachable = unreachable || t.Key == "" || t.Key == corev1.TaintNodeUnreachable
	}
	for _, add := range []struct {
		key     string
		present bool
	}{{corev1.TaintNodeNotReady, notReady}, {corev1.TaintNodeUnreachable, unreachable}} {
		if add.present {
			continue
		}
		seconds := DefaultTolerationSeconds
		spec.Tolerations = append(spec.Tolerations, corev1.Toleration{
			Key: add.key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute,
			TolerationSeconds: &seconds,
		})
	}
}

func setDefaultsContainer(c *corev1.Container) {
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = corev1.TerminationMessagePathDefault
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
	}
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = defaultPullPolicy(c.Image)
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = corev1.ProtocolTCP
		}
	}
	// Requests default to limits, as in Kubernetes.
	for name, limit := range c.Resources.Limits {
		if _, ok := c.Resources.Requests[name]; !ok {
			if c.Resources.Requests == nil {
				c.Resources.Requests = corev1.ResourceList{}
			}
			c.Resources.Requests[name] = limit.DeepCopy()
		}
	}
}

// defaultPullPolicy is Always for the latest tag (or none) and IfNotPresent
// otherwise, as in Kubernetes.
func defaultPullPolicy(image string) corev1.PullPolicy {
	ref := image
	if i := strings.LastIndex(ref, "@"); i >= 0 {
		return corev1.PullIfNotPresent
	}
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		ref = ref[i+1:]
	}
	if i := strings.LastIndex(ref, ":"); i < 0 || ref[i+1:] == "latest" {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}
