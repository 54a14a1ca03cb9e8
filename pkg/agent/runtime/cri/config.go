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

package cri

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// Labels on sandboxes and containers. The io.kubernetes.* ones are what
// crictl and other CRI tools show; the UID one is how the runtime finds a
// pod's parts again.
const (
	labelPodUID        = "io.kubernetes.pod.uid"
	labelPodName       = "io.kubernetes.pod.name"
	labelPodNamespace  = "io.kubernetes.pod.namespace"
	labelContainerName = "io.kubernetes.container.name"
	labelTenant        = "arcturus.io/tenant"
	labelManagedBy     = "arcturus.io/managed-by"
	managedBy          = "arcturus-agent"
)

// CPU cgroup constants as the kubelet uses them.
const (
	cpuPeriod    = 100000
	minShares    = 2
	sharesPerCPU = 1024
	minQuota     = 1000
)

// configError is a problem with a pod's spec that no retry fixes; it
// shows as CreateContainerConfigError on the container.
type configError struct{ msg string }

func (e configError) Error() string { return e.msg }

func podLabels(pod *v1.Pod) map[string]string {
	return map[string]string{
		labelPodUID: string(pod.UID), labelPodName: pod.Name, labelPodNamespace: pod.Namespace,
		labelTenant: string(tenancy.OfObject(pod.Annotations)), labelManagedBy: managedBy,
	}
}

func (r *Runtime) sandboxConfig(pod *v1.Pod, attempt uint32) *runtimeapi.PodSandboxConfig {
	hostname := pod.Name
	if pod.Spec.Hostname != "" {
		hostname = pod.Spec.Hostname
	}
	var ports []*runtimeapi.PortMapping
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort == 0 {
				continue
			}
			proto := runtimeapi.Protocol_TCP
			switch p.Protocol {
			case corev1.ProtocolUDP:
				proto = runtimeapi.Protocol_UDP
			case corev1.ProtocolSCTP:
				proto = runtimeapi.Protocol_SCTP
			}
			ports = append(ports, &runtimeapi.PortMapping{Protocol: proto, ContainerPort: p.ContainerPort, HostPort: p.HostPort, HostIp: p.HostIP})
		}
	}
	return &runtimeapi.PodSandboxConfig{
		Metadata: &runtimeapi.PodSandboxMetadata{
			Name: pod.Name, Namespace: pod.Namespace, Uid: string(pod.UID), Attempt: attempt,
		},
		Hostname:     hostname,
		LogDirectory: r.podLogDir(pod.UID),
		PortMappings: ports,
		Labels:       podLabels(pod),
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			CgroupParent: podCgroup(pod.UID),
			SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
				NamespaceOptions: &runtimeapi.NamespaceOption{
					Network: runtimeapi.NamespaceMode_POD,
					Pid:     pidMode(pod),
					Ipc:     runtimeapi.NamespaceMode_POD,
				},
			},
		},
	}
}

func pidMode(pod *v1.Pod) runtimeapi.NamespaceMode {
	if pod.Spec.ShareProcessNamespace != nil && *pod.Spec.ShareProcessNamespace {
		return runtimeapi.NamespaceMode_POD
	}
	return runtimeapi.NamespaceMode_CONTAINER
}

// containerConfig builds the CRI config of one container of pod.
func (r *Runtime) containerConfig(ctx context.Context, pod *v1.Pod, c *corev1.Container, attempt uint32, image string, podIPs []string) (*runtimeapi.ContainerConfig, error) {
	env, err := r.envFor(ctx, pod, c, podIPs)
	if err != nil {
		return nil, err
	}
	mounts, err := r.mountsFor(pod, c)
	if err != nil {
		return nil, err
	}
	vars := make(map[string]string, len(env))
	for _, kv := range env {
		vars[kv.Key] = string(kv.Value)
	}
	labels := podLabels(pod)
	labels[labelContainerName] = c.Name
	cfg := &runtimeapi.ContainerConfig{
		Metadata:   &runtimeapi.ContainerMetadata{Name: c.Name, Attempt: attempt},
		Image:      &runtimeapi.ImageSpec{Image: image, UserSpecifiedImage: c.Image},
		Command:    expandAll(c.Command, vars),
		Args:       expandAll(c.Args, vars),
		WorkingDir: c.WorkingDir,
		Envs:       env,
		Mounts:     mounts,
		Labels:     labels,
		Annotations: map[string]string{
			"io.kubernetes.container.terminationMessagePath": c.TerminationMessagePath,
		},
		LogPath:   filepath.Join(c.Name, strconv.Itoa(int(attempt))+".log"),
		Stdin:     c.Stdin,
		StdinOnce: c.StdinOnce,
		Tty:       c.TTY,
		Linux: &runtimeapi.LinuxContainerConfig{
			Resources:       linuxResources(c.Resources),
			SecurityContext: securityContext(pod, c),
		},
	}
	return cfg, nil
}

// linuxResources turns requests and limits into cgroup settings the way
// the kubelet does: requests weigh CPU shares, limits cap quota and memory.
func linuxResources(res corev1.ResourceRequirements) *runtimeapi.LinuxContainerResources {
	out := &runtimeapi.LinuxContainerResources{CpuShares: minShares}
	cpuRequest, cpuLimit := res.Requests.Cpu(), res.Limits.Cpu()
	if cpuRequest.IsZero() && !cpuLimit.IsZero() {
		cpuRequest = cpuLimit
	}
	if !cpuRequest.IsZero() {
		out.CpuShares = max(minShares, cpuRequest.MilliValue()*sharesPerCPU/1000)
	}
	if !cpuLimit.IsZero() {
		out.CpuPeriod = cpuPeriod
		out.CpuQuota = max(minQuota, cpuLimit.MilliValue()*cpuPeriod/1000)
	}
	if mem := res.Limits.Memory(); !mem.IsZero() {
		out.MemoryLimitInBytes = mem.Value()
	}
	return out
}

func securityContext(pod *v1.Pod, c *corev1.Container) *runtimeapi.LinuxContainerSecurityContext {
	sc := &runtimeapi.LinuxContainerSecurityContext{
		NamespaceOptions: &runtimeapi.NamespaceOption{
			Network: runtimeapi.NamespaceMode_POD,
			Pid:     pidMode(pod),
			Ipc:     runtimeapi.NamespaceMode_POD,
		},
	}
	if psc := pod.Spec.SecurityContext; psc != nil {
		if psc.RunAsUser != nil {
			sc.RunAsUser = &runtimeapi.Int64Value{Value: *psc.RunAsUser}
		}
		if psc.RunAsGroup != nil {
			sc.RunAsGroup = &runtimeapi.Int64Value{Value: *psc.RunAsGroup}
		}
		sc.SupplementalGroups = psc.SupplementalGroups
	}
	if csc := c.SecurityContext; csc != nil {
		if csc.RunAsUser != nil {
			sc.RunAsUser = &runtimeapi.Int64Value{Value: *csc.RunAsUser}
		}
		if csc.RunAsGroup != nil {
			sc.RunAsGroup = &runtimeapi.Int64Value{Value: *csc.RunAsGroup}
		}
		if csc.Privileged != nil {
			sc.Privileged = *csc.Privileged
		}
		if csc.ReadOnlyRootFilesystem != nil {
			sc.ReadonlyRootfs = *csc.ReadOnlyRootFilesystem
		}
		if caps := csc.Capabilities; caps != nil {
			sc.Capabilities = &runtimeapi.Capability{}
			for _, a := range caps.Add {
				sc.Capabilities.AddCapabilities = append(sc.Capabilities.AddCapabilities, string(a))
			}
			for _, d := range caps.Drop {
				sc.Capabilities.DropCapabilities = append(sc.Capabilities.DropCapabilities, string(d))
			}
		}
	}
	return sc
}

// envFor resolves a container's environment: literal values, the pod's
// own fields, its resources, and keys of ConfigMaps and Secrets of its
// namespace.
func (r *Runtime) envFor(ctx context.Context, pod *v1.Pod, c *corev1.Container, podIPs []string) ([]*runtimeapi.KeyValue, error) {
	var out []*runtimeapi.KeyValue
	set := map[string]int{}
	add := func(k, v string) {
		if i, ok := set[k]; ok {
			out[i].Value = []byte(v)
			return
		}
		set[k] = len(out)
		out = append(out, &runtimeapi.KeyValue{Key: k, Value: []byte(v)})
	}
	for _, from := range c.EnvFrom {
		data, err := r.sourceData(ctx, pod, from)
		if err != nil {
			return nil, err
		}
		for k, v := range data {
			add(from.Prefix+k, v)
		}
	}
	vars := map[string]string{}
	for _, e := range c.Env {
		value := expand(e.Value, vars)
		if src := e.ValueFrom; src != nil {
			var err error
			switch {
			case src.FieldRef != nil:
				value, err = podField(pod, src.FieldRef.FieldPath, podIPs)
			case src.ResourceFieldRef != nil:
				value, err = resourceField(c, src.ResourceFieldRef)
			case src.ConfigMapKeyRef != nil:
				value, err = r.key(ctx, pod, "configmap", src.ConfigMapKeyRef.Name, src.ConfigMapKeyRef.Key, src.ConfigMapKeyRef.Optional)
			case src.SecretKeyRef != nil:
				value, err = r.key(ctx, pod, "secret", src.SecretKeyRef.Name, src.SecretKeyRef.Key, src.SecretKeyRef.Optional)
			default:
				err = configError{fmt.Sprintf("env %s: unsupported valueFrom", e.Name)}
			}
			if err != nil {
				return nil, err
			}
		}
		vars[e.Name] = value
		add(e.Name, value)
	}
	return out, nil
}

func (r *Runtime) sourceData(ctx context.Context, pod *v1.Pod, from corev1.EnvFromSource) (map[string]string, error) {
	if r.cfg.Objects == nil {
		return nil, configError{"envFrom needs the API, which this runtime was not given"}
	}
	switch {
	case from.ConfigMapRef != nil:
		cm, err := r.cfg.Objects.ConfigMap(ctx, pod, from.ConfigMapRef.Name)
		if err != nil {
			if optional(from.ConfigMapRef.Optional) {
				return nil, nil
			}
			return nil, configError{fmt.Sprintf("configmap %q: %v", from.ConfigMapRef.Name, err)}
		}
		return cm.Data, nil
	case from.SecretRef != nil:
		s, err := r.cfg.Objects.Secret(ctx, pod, from.SecretRef.Name)
		if err != nil {
			if optional(from.SecretRef.Optional) {
				return nil, nil
			}
			return nil, configError{fmt.Sprintf("secret %q: %v", from.SecretRef.Name, err)}
		}
		out := make(map[string]string, len(s.Data))
		for k, v := range s.Data {
			out[k] = string(v)
		}
		return out, nil
	}
	return nil, nil
}

func optional(b *bool) bool { return b != nil && *b }

func (r *Runtime) key(ctx context.Context, pod *v1.Pod, kind, name, key string, opt *bool) (string, error) {
	if r.cfg.Objects == nil {
		return "", configError{kind + " references need the API, which this runtime was not given"}
	}
	var (
		value string
		found bool
		err   error
	)
	if kind == "configmap" {
		var cm *corev1.ConfigMap
		if cm, err = r.cfg.Objects.ConfigMap(ctx, pod, name); err == nil {
			value, found = cm.Data[key]
		}
	} else {
		var s *corev1.Secret
		if s, err = r.cfg.Objects.Secret(ctx, pod, name); err == nil {
			var b []byte
			b, found = s.Data[key]
			value = string(b)
		}
	}
	switch {
	case err != nil && !optional(opt):
		return "", configError{fmt.Sprintf("%s %q: %v", kind, name, err)}
	case err == nil && !found && !optional(opt):
		return "", configError{fmt.Sprintf("couldn't find key %s in %s %s/%s", key, kind, pod.Namespace, name)}
	}
	return value, nil
}

func podField(pod *v1.Pod, path string, podIPs []string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP":
		return pod.Status.HostIP, nil
	case "status.podIP":
		if len(podIPs) > 0 {
			return podIPs[0], nil
		}
		return "", nil
	case "status.podIPs":
		return strings.Join(podIPs, ","), nil
	}
	for prefix, m := range map[string]map[string]string{"metadata.labels": pod.Labels, "metadata.annotations": pod.Annotations} {
		if strings.HasPrefix(path, prefix+"['") && strings.HasSuffix(path, "']") {
			return m[path[len(prefix)+2:len(path)-2]], nil
		}
	}
	return "", configError{fmt.Sprintf("unsupported fieldRef %q", path)}
}

func resourceField(c *corev1.Container, ref *corev1.ResourceFieldSelector) (string, error) {
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	var q *resource.Quantity
	switch ref.Resource {
	case "limits.cpu":
		q = c.Resources.Limits.Cpu()
	case "requests.cpu":
		q = c.Resources.Requests.Cpu()
	case "limits.memory":
		q = c.Resources.Limits.Memory()
	case "requests.memory":
		q = c.Resources.Requests.Memory()
	default:
		return "", configError{fmt.Sprintf("unsupported resourceFieldRef %q", ref.Resource)}
	}
	if strings.HasSuffix(ref.Resource, ".cpu") {
		// Rounded up, as the kubelet does.
		return strconv.FormatInt((q.MilliValue()+divisor.MilliValue()-1)/divisor.MilliValue(), 10), nil
	}
	return strconv.FormatInt((q.Value()+divisor.Value()-1)/divisor.Value(), 10), nil
}

// mountsFor gives a container its volumes. emptyDir volumes live in the
// pod's directory on the node; other kinds are not supported yet and say so.
func (r *Runtime) mountsFor(pod *v1.Pod, c *corev1.Container) ([]*runtimeapi.Mount, error) {
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	var out []*runtimeapi.Mount
	for _, m := range c.VolumeMounts {
		v, ok := volumes[m.Name]
		if !ok {
			return nil, configError{fmt.Sprintf("volume mount %q names no volume of the pod", m.Name)}
		}
		if v.EmptyDir == nil {
			return nil, configError{fmt.Sprintf("volume %q: only emptyDir volumes are supported on this node", m.Name)}
		}
		dir := filepath.Join(r.podDir(pod.UID), "volumes", v.Name)
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return nil, fmt.Errorf("creating emptyDir %s: %w", v.Name, err)
		}
		// Writable by any user the container runs as, like the kubelet's.
		_ = os.Chmod(dir, 0o777)
		out = append(out, &runtimeapi.Mount{
			ContainerPath: m.MountPath, HostPath: filepath.Join(dir, m.SubPath), Readonly: m.ReadOnly,
		})
	}
	return out, nil
}

// expand replaces $(VAR) with earlier variables, and $$ with $, as
// Kubernetes does in env values, commands and args. Unknown references
// stay as they are.
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

func expandAll(in []string, vars map[string]string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = expand(s, vars)
	}
	return out
}
