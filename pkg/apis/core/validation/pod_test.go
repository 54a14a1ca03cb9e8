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

package validation

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	api "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

func ptr[T any](v T) *T { return &v }

func TestValidatePod(t *testing.T) {
	cases := []struct {
		name   string
		pod    func() *api.Pod
		mutate func(*api.Pod)
		want   []want
	}{
		{name: "valid container pod", pod: containerPod, mutate: func(*api.Pod) {}},
		{name: "valid VM pod from image", pod: vmPod, mutate: func(*api.Pod) {}},
		{name: "valid VM pod from kernel", pod: vmPod, mutate: func(p *api.Pod) {
			p.Spec.VirtualMachine.Image = ""
			p.Spec.VirtualMachine.ImagePullPolicy = ""
			p.Spec.VirtualMachine.Kernel = &api.KernelBoot{Kernel: "/var/lib/kernels/vmlinuz", Args: "console=ttyS0"}
		}},
		{name: "user data at the limit", pod: vmPod, mutate: func(p *api.Pod) {
			p.Spec.VirtualMachine.UserData = strings.Repeat("x", MaxUserDataSize)
		}},
		{name: "other volume sources are accepted as given", pod: containerPod, mutate: func(p *api.Pod) {
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "nfs",
				VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{}}})
		}},
		{name: "sidecar init container", pod: containerPod, mutate: func(p *api.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "proxy", Image: "envoy", ImagePullPolicy: corev1.PullAlways,
				RestartPolicy: ptr(corev1.ContainerRestartPolicyAlways)}}
		}},

		{name: "neither containers nor VM", pod: containerPod, mutate: func(p *api.Pod) {
			p.Spec.Containers = nil
		}, want: []want{{field.ErrorTypeRequired, "spec.containers", "must have containers or a virtualMachine"}}},
		{name: "both containers and VM", pod: containerPod, mutate: func(p *api.Pod) {
			p.Spec.VirtualMachine = vmPod().Spec.VirtualMachine
		}, want: []want{{field.ErrorTypeForbidden, "spec.virtualMachine", "not both"}}},
		{name: "VM with init containers", pod: vmPod, mutate: func(p *api.Pod) {
			p.Spec.InitContainers = containerPod().Spec.Containers
			p.Spec.InitContainers[0].VolumeMounts = nil
		}, want: []want{{field.ErrorTypeForbidden, "spec.initContainers", "virtual machine pod has no containers"}}},
		{name: "VM with image and kernel", pod: vmPod, mutate: func(p *api.Pod) {
			p.Spec.VirtualMachine.Kernel = &api.KernelBoot{Kernel: "/boot/vmlinuz"}
		}, want: []want{{field.ErrorTypeForbidden, "spec.virtualMachine.kernel", "together with `image`"}}},
		{name: "VM with neither image nor kernel", pod: vmPod, mutate: func(p *api.Pod) {
			p.Spec.VirtualMachine.Image = ""
			p.Spec.VirtualMachine.ImagePullPolicy = ""
		}, want: []want{{field.ErrorTypeRequired, "spec.virtualMachine.image", "`image` or `kernel`"}}},
		{name: "kernel boot without kernel", pod: vmPod, mutate: func(p *api.Pod) {
			p.Spec.VirtualMachine.Image = ""
			p.Spec.VirtualMachine.ImagePullPolicy = ""
			p.Spec.VirtualMachine.Kernel = &api.KernelBoot{Initrd: "/boot/initrd"}
		}, want: []want{{field.ErrorTypeRequired, "spec.virtualMachine.kernel.kernel", ""}}},
		{name: "VM name not a DNS label", pod: vmPod, mutate: func(p *api.Pod) {
			p.Spec.VirtualMachine.Name = "My_VM"
		}, want: []want{{field.ErrorTypeInvalid, "spec.virtualMachine.name", "RFC 1123"}}},
		{name: "VM power state unknown", pod: vmPod, mutate: func(p *api.Pod) {
			p.Spec.VirtualMachine.PowerState = "Hibernated"
		}, want: []want{{field.ErrorTypeNotSupported, "spec.virtualMachine.powerState", `"Running"`}}},
		{name: "user data over 64 KiB", pod: vmPod, mutate: func(p *api.Pod) {
			p.Spec.VirtualMachine.UserData = strings.Repeat("x", MaxUserDataSize+1)
		}, want: []want{{field.ErrorTypeTooLong, "spec.virtualMachine.userData", "65536"}}},
		{name: "VM requests above limits", pod: vmPod, mutate: func(p *api.Pod) {
			p.Spec.VirtualMachine.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")}
		}, want: []want{{field.ErrorTypeInvalid, "spec.virtualMachine.resources.requests[memory]", "less than or equal to memory limit of 2Gi"}}},

		{name: "no name", pod: containerPod, mutate: func(p *api.Pod) {
			p.Name = ""
		}, want: []want{{field.ErrorTypeRequired, "metadata.name", ""}}},
		{name: "no namespace", pod: containerPod, mutate: func(p *api.Pod) {
			p.Namespace = ""
		}, want: []want{{field.ErrorTypeRequired, "metadata.namespace", ""}}},
		{name: "container name not a DNS label", pod: containerPod, mutate: func(p *api.Pod) {
			p.Spec.Containers[0].Name = "App_1"
		}, want: []want{{field.ErrorTypeInvalid, "spec.containers[0].name", "RFC 1123"}}},
		{name: "container name used by an init container", pod: containerPod, mutate: func(p *api.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "app", Image: "busybox", ImagePullPolicy: corev1.PullAlways}}
		}, want: []want{{field.ErrorTypeDuplicate, "spec.containers[0].name", ""}}},
		{name: "no image", pod: containerPod, mutate: func(p *api.Pod) {
			p.Spec.Containers[0].Image = ""
		}, want: []want{{field.ErrorTypeRequired, "spec.containers[0].image", ""}}},
		{name: "image with blanks", pod: containerPod, mutate: func(p *api.Pod) {
			p.Spec.Containers[0].Image = "nginx "
		}, want: []want{{field.ErrorTypeInvalid, "spec.containers[0].image", "whitespace"}}},
		{name: "bad ports", pod: containerPod, mutate: func(p *api.Pod) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{
				{Name: "http", ContainerPort: 0, Protocol: corev1.ProtocolTCP},
				{Name: "http", ContainerPort: 70000, Protocol: "HTTP"},
				{ContainerPort: 53, HostPort: -1, Protocol: corev1.ProtocolUDP},
			}
		}, want: []want{
			{field.ErrorTypeRequired, "spec.containers[0].ports[0].containerPort", ""},
			{field.ErrorTypeDuplicate, "spec.containers[0].ports[1].name", ""},
			{field.ErrorTypeInvalid, "spec.containers[0].ports[1].containerPort", "between 1 and 65535"},
			{field.ErrorTypeNotSupported, "spec.containers[0].ports[1].protocol", `"TCP"`},
			{field.ErrorTypeInvalid, "spec.containers[0].ports[2].hostPort", "between 1 and 65535"},
		}},
		{name: "bad env", pod: containerPod, mutate: func(p *api.Pod) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{
				{Name: "1ST", Value: "x"},
				{Name: "A", Value: "x", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
				{Name: "B", ValueFrom: &corev1.EnvVarSource{}},
				{Name: "C", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Key: "a/b"}}},
			}
		}, want: []want{
			{field.ErrorTypeInvalid, "spec.containers[0].env[0].name", "must not start with a digit"},
			{field.ErrorTypeInvalid, "spec.containers[0].env[1].valueFrom", "`value` is not empty"},
			{field.ErrorTypeInvalid, "spec.containers[0].env[2].valueFrom", "must specify one of"},
			{field.ErrorTypeRequired, "spec.containers[0].env[3].valueFrom.secretKeyRef.name", ""},
			{field.ErrorTypeInvalid, "spec.containers[0].env[3].valueFrom.secretKeyRef.key", "valid config key"},
		}},
		{name: "bad resources", pod: containerPod, mutate: func(p *api.Pod) {
			p.Spec.Containers[0].Resources = corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("-1"),
					"gpus": resource.MustParse("1")},
				Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
			}
		}, want: []want{
			{field.ErrorTypeInvalid, "spec.containers[0].resources.requests[cpu]", "less than or equal to cpu limit of 1"},
			{field.ErrorTypeInvalid, "spec.containers[0].resources.requests[memory]", "greater than or equal to 0"},
			{field.ErrorTypeInvalid, "spec.containers[0].resources.requests[gpus]", "standard resource for containers"},
		}},
		{name: "mount of an undeclared volume", pod: containerPod, mutate: func(p *api.Pod) {
			p.Spec.Containers[0].VolumeMounts = append(p.Spec.Containers[0].VolumeMounts,
				corev1.VolumeMount{Name: "data", MountPath: "/data", SubPath: "../etc"},
				corev1.VolumeMount{Name: "cache", MountPath: "/cache"})
		}, want: []want{
			{field.ErrorTypeNotFound, "spec.containers[0].volumeMounts[1].name", ""},
			{field.ErrorTypeInvalid, "spec.containers[0].volumeMounts[1].subPath", "'..'"},
			{field.ErrorTypeInvalid, "spec.containers[0].volumeMounts[2].mountPath", "must be unique"},
		}},
		{name: "bad pod policies", pod: containerPod, mutate: func(p *api.Pod) {
			p.Spec.RestartPolicy = "Sometimes"
			p.Spec.DNSPolicy = "Google"
			p.Spec.TerminationGracePeriodSeconds = ptr(int64(-1))
			p.Spec.ActiveDeadlineSeconds = ptr(int64(0))
			p.Spec.Containers[0].ImagePullPolicy = "Maybe"
		}, want: []want{
			{field.ErrorTypeNotSupported, "spec.restartPolicy", ""},
			{field.ErrorTypeNotSupported, "spec.dnsPolicy", ""},
			{field.ErrorTypeInvalid, "spec.terminationGracePeriodSeconds", "greater than or equal to 0"},
			{field.ErrorTypeInvalid, "spec.activeDeadlineSeconds", "between 1 and"},
			{field.ErrorTypeNotSupported, "spec.containers[0].imagePullPolicy", ""},
		}},
		{name: "dnsPolicy None without nameservers", pod: containerPod, mutate: func(p *api.Pod) {
			p.Spec.DNSPolicy = corev1.DNSNone
		}, want: []want{{field.ErrorTypeRequired, "spec.dnsConfig.nameservers", ""}}},
		{name: "bad node selector and tolerations", pod: containerPod, mutate: func(p *api.Pod) {
			p.Spec.NodeSelector = map[string]string{"bad key!": "x"}
			p.Spec.Tolerations = []corev1.Toleration{
				{Key: "gpu", Operator: corev1.TolerationOpExists, Value: "yes"},
				{Key: "gpu", Operator: "In", Effect: corev1.TaintEffectNoSchedule},
				{Key: "gpu", Value: "a", Effect: "Sometimes"},
				{Key: "gpu", Value: "a", Effect: corev1.TaintEffectNoSchedule, TolerationSeconds: ptr(int64(5))},
				{Operator: corev1.TolerationOpEqual},
			}
		}, want: []want{
			{field.ErrorTypeInvalid, "spec.nodeSelector", "name part must consist of"},
			{field.ErrorTypeInvalid, "spec.tolerations[0].operator", "value must be empty"},
			{field.ErrorTypeNotSupported, "spec.tolerations[1].operator", ""},
			{field.ErrorTypeNotSupported, "spec.tolerations[2].effect", ""},
			{field.ErrorTypeInvalid, "spec.tolerations[3].effect", "'NoExecute'"},
			{field.ErrorTypeInvalid, "spec.tolerations[4].operator", "must be Exists when `key` is empty"},
		}},
		{name: "bad volumes", pod: containerPod, mutate: func(p *api.Pod) {
			p.Spec.Volumes = append(p.Spec.Volumes,
				corev1.Volume{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				corev1.Volume{Name: "none"},
				corev1.Volume{Name: "two", VolumeSource: corev1.VolumeSource{
					EmptyDir: &corev1.EmptyDirVolumeSource{}, HostPath: &corev1.HostPathVolumeSource{Path: "/tmp"}}},
				corev1.Volume{Name: "secret", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{DefaultMode: ptr(int32(0o1000))}}},
				corev1.Volume{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{
					Path: "/var/../etc", Type: ptr(corev1.HostPathType("Pipe"))}}},
				corev1.Volume{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"},
					Items:                []corev1.KeyToPath{{Key: "a", Path: "/abs"}}}}},
				corev1.Volume{Name: "downward", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{
					Items: []corev1.DownwardAPIVolumeFile{{Path: "labels"}}}}},
			)
		}, want: []want{
			{field.ErrorTypeDuplicate, "spec.volumes[1].name", ""},
			{field.ErrorTypeRequired, "spec.volumes[2]", "must specify a volume type"},
			{field.ErrorTypeForbidden, "spec.volumes[3]", "more than 1 volume type"},
			{field.ErrorTypeInvalid, "spec.volumes[4].secret.defaultMode", "0777"},
			{field.ErrorTypeRequired, "spec.volumes[4].secret.secretName", ""},
			{field.ErrorTypeInvalid, "spec.volumes[5].hostPath.path", "'..'"},
			{field.ErrorTypeNotSupported, "spec.volumes[5].hostPath.type", ""},
			{field.ErrorTypeInvalid, "spec.volumes[6].configMap.items[0].path", "relative path"},
			{field.ErrorTypeRequired, "spec.volumes[7].downwardAPI.items[0]", "`fieldRef` or `resourceFieldRef`"},
		}},
		{name: "bad projected volume", pod: containerPod, mutate: func(p *api.Pod) {
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "proj", VolumeSource: corev1.VolumeSource{
				Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
					{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "a"},
						Items: []corev1.KeyToPath{{Key: "k", Path: "token"}}}},
					{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr(int64(60))}},
					{},
				}}}})
		}, want: []want{
			{field.ErrorTypeInvalid, "spec.volumes[1].projected.sources[1].serviceAccountToken.path", "conflicting duplicate paths"},
			{field.ErrorTypeInvalid, "spec.volumes[1].projected.sources[1].serviceAccountToken.expirationSeconds", "10 minutes"},
			{field.ErrorTypeForbidden, "spec.volumes[1].projected.sources[2]", "exactly one projection type"},
		}},
		{name: "ephemeral containers on create", pod: containerPod, mutate: func(p *api.Pod) {
			p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug"}}}
		}, want: []want{{field.ErrorTypeForbidden, "spec.ephemeralContainers", "cannot be set on create"}}},
		{name: "restart policy on a regular container", pod: containerPod, mutate: func(p *api.Pod) {
			p.Spec.Containers[0].RestartPolicy = ptr(corev1.ContainerRestartPolicyAlways)
		}, want: []want{{field.ErrorTypeForbidden, "spec.containers[0].restartPolicy", "non-init containers"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pod := tc.pod()
			tc.mutate(pod)
			expect(t, ValidatePod(pod), tc.want...)
		})
	}
}

func TestValidatePodUpdate(t *testing.T) {
	cases := []struct {
		name   string
		pod    func() *api.Pod
		mutate func(*api.Pod)
		want   []want
	}{
		{name: "container image", pod: containerPod, mutate: func(p *api.Pod) {
			p.Spec.Containers[0].Image = "nginx:1.28"
		}},
		{name: "VM power state", pod: vmPod, mutate: func(p *api.Pod) {
			p.Spec.VirtualMachine.PowerState = api.PowerStateShutdown
		}},
		{name: "added toleration, shorter deadline, new grace period", pod: containerPod, mutate: func(p *api.Pod) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: "spot", Operator: corev1.TolerationOpExists})
			p.Spec.ActiveDeadlineSeconds = ptr(int64(60))
			p.Spec.TerminationGracePeriodSeconds = ptr(int64(5))
		}},
		{name: "VM image", pod: vmPod, mutate: func(p *api.Pod) {
			p.Spec.VirtualMachine.Image = "registry.example.com/images/debian:13"
		}, want: []want{{field.ErrorTypeForbidden, "spec", "changed: spec.virtualMachine.image"}}},
		{name: "VM power state to an unknown one", pod: vmPod, mutate: func(p *api.Pod) {
			p.Spec.VirtualMachine.PowerState = "Off"
		}, want: []want{{field.ErrorTypeNotSupported, "spec.virtualMachine.powerState", ""}}},
		{name: "VM removed", pod: vmPod, mutate: func(p *api.Pod) {
			p.Spec.VirtualMachine = nil
			p.Spec.Containers = containerPod().Spec.Containers
			p.Spec.Containers[0].VolumeMounts = nil
		}, want: []want{{field.ErrorTypeForbidden, "spec.containers", "may not add or remove containers"}}},
		{name: "node name", pod: func() *api.Pod {
			p := containerPod()
			p.Spec.NodeName = "node-a"
			return p
		}, mutate: func(p *api.Pod) {
			p.Spec.NodeName = "node-b"
		}, want: []want{{field.ErrorTypeForbidden, "spec", "pod updates may not change fields other than"}}},
		{name: "container ports and volumes", pod: containerPod, mutate: func(p *api.Pod) {
			p.Spec.Containers[0].Ports[0].ContainerPort = 8080
			p.Spec.Volumes[0].EmptyDir.Medium = corev1.StorageMediumMemory
		}, want: []want{{field.ErrorTypeForbidden, "spec", "changed: spec.volumes, spec.containers"}}},
		{name: "removed toleration", pod: func() *api.Pod {
			p := containerPod()
			p.Spec.Tolerations = []corev1.Toleration{{Key: "spot", Operator: corev1.TolerationOpExists}}
			return p
		}, mutate: func(p *api.Pod) {
			p.Spec.Tolerations = nil
		}, want: []want{{field.ErrorTypeForbidden, "spec.tolerations", "existing toleration can not be modified"}}},
		{name: "longer deadline", pod: func() *api.Pod {
			p := containerPod()
			p.Spec.ActiveDeadlineSeconds = ptr(int64(60))
			return p
		}, mutate: func(p *api.Pod) {
			p.Spec.ActiveDeadlineSeconds = ptr(int64(120))
		}, want: []want{{field.ErrorTypeInvalid, "spec.activeDeadlineSeconds", "less than or equal to previous value"}}},
		{name: "added container", pod: containerPod, mutate: func(p *api.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "sidecar", Image: "envoy", ImagePullPolicy: corev1.PullAlways})
		}, want: []want{{field.ErrorTypeForbidden, "spec.containers", "may not add or remove containers"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			oldPod := tc.pod()
			newPod := oldPod.DeepCopy()
			tc.mutate(newPod)
			expect(t, ValidatePodUpdate(newPod, oldPod), tc.want...)
		})
	}
}

func TestValidatePodStatusUpdate(t *testing.T) {
	runningVM := func(p *api.Pod) {
		p.Status.Phase = corev1.PodRunning
		p.Status.PodIP = "10.0.0.5"
		p.Status.PodIPs = []corev1.PodIP{{IP: "10.0.0.5"}, {IP: "fd00::5"}}
		p.Status.VirtualMachineStatus = &api.VirtualMachineStatus{Name: "vm", State: api.VirtualMachineRunning,
			PowerState: api.PowerStateRunning, CPUs: 2, Memory: ptr(resource.MustParse("4Gi")), Ready: true}
	}
	cases := []struct {
		name   string
		pod    func() *api.Pod
		mutate func(*api.Pod)
		want   []want
	}{
		{name: "running VM", pod: vmPod, mutate: runningVM},
		{name: "VM status of a container pod", pod: containerPod, mutate: runningVM,
			want: []want{{field.ErrorTypeForbidden, "status.virtualMachineStatus", "spec.virtualMachine"}}},
		{name: "bad VM status", pod: vmPod, mutate: func(p *api.Pod) {
			runningVM(p)
			p.Status.VirtualMachineStatus.Name = "other"
			p.Status.VirtualMachineStatus.State = "Sleeping"
			p.Status.VirtualMachineStatus.RestartCount = -1
		}, want: []want{
			{field.ErrorTypeInvalid, "status.virtualMachineStatus.name", "must match spec.virtualMachine.name"},
			{field.ErrorTypeNotSupported, "status.virtualMachineStatus.state", ""},
			{field.ErrorTypeInvalid, "status.virtualMachineStatus.restartCount", ""},
		}},
		{name: "bad IPs", pod: containerPod, mutate: func(p *api.Pod) {
			p.Status.PodIP = "10.0.0.6"
			p.Status.PodIPs = []corev1.PodIP{{IP: "10.0.0.5"}, {IP: "10.0.0.5"}, {IP: "not-an-ip"}}
		}, want: []want{
			{field.ErrorTypeDuplicate, "status.podIPs[1]", ""},
			{field.ErrorTypeInvalid, "status.podIPs[2]", "valid IP address"},
			{field.ErrorTypeInvalid, "status.podIP", "must match status.podIPs[0]"},
		}},
		{name: "node name", pod: containerPod, mutate: func(p *api.Pod) {
			p.Spec.NodeName = "node-a"
		}, want: []want{{field.ErrorTypeForbidden, "status.nodeName", "may not be changed directly"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			oldPod := tc.pod()
			newPod := oldPod.DeepCopy()
			tc.mutate(newPod)
			expect(t, ValidatePodStatusUpdate(newPod, oldPod), tc.want...)
		})
	}
}

func TestValidatePodStatusUpdateTerminal(t *testing.T) {
	oldPod := containerPod()
	oldPod.Spec.RestartPolicy = corev1.RestartPolicyNever
	oldPod.Status.Phase = corev1.PodSucceeded
	oldPod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app",
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0}}}}
	newPod := oldPod.DeepCopy()
	newPod.Status.Phase = corev1.PodRunning
	newPod.Status.ContainerStatuses[0].State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	expect(t, ValidatePodStatusUpdate(newPod, oldPod),
		want{field.ErrorTypeForbidden, "status.phase", "terminal phase Succeeded"},
		want{field.ErrorTypeForbidden, "status.containerStatuses[0].state", "non-terminated"})
}

func TestValidatePodBinding(t *testing.T) {
	binding := func(kind, name string) *corev1.Binding {
		return &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
			Target: corev1.ObjectReference{Kind: kind, Name: name}}
	}
	expect(t, ValidatePodBinding(binding("Node", "node-a")))
	expect(t, ValidatePodBinding(binding("", "node-a")))
	expect(t, ValidatePodBinding(binding("Pod", "")),
		want{field.ErrorTypeNotSupported, "target.kind", ""},
		want{field.ErrorTypeRequired, "target.name", ""})
}
