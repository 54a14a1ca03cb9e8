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
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Pod is a Kubernetes Pod that holds either containers or one virtual machine.
// Clients that know only the Kubernetes Pod read and write it unchanged and
// ignore spec.virtualMachine and status.virtualMachineStatus.
type Pod struct {
	metav1.TypeMeta `json:",inline"`
	// Standard object's metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Specification of the desired behavior of the pod.
	// +optional
	Spec PodSpec `json:"spec,omitempty"`

	// Most recently observed status of the pod.
	// +optional
	Status PodStatus `json:"status,omitempty"`
}

// PodSpec is the Kubernetes PodSpec plus an optional virtual machine. A pod
// has containers or a virtual machine, never both.
type PodSpec struct {
	corev1.PodSpec `json:",inline"`

	// VirtualMachine makes this pod a virtual machine. When it is set,
	// containers and initContainers must be empty.
	// +optional
	VirtualMachine *VirtualMachineSpec `json:"virtualMachine,omitempty"`
}

// PodStatus is the Kubernetes PodStatus plus the state of the pod's virtual machine.
type PodStatus struct {
	corev1.PodStatus `json:",inline"`

	// VirtualMachineStatus reports the virtual machine of a VM pod.
	// +optional
	VirtualMachineStatus *VirtualMachineStatus `json:"virtualMachineStatus,omitempty"`
}

// VirtualMachinePowerState is the power state a VM is asked to be in, or is in.
type VirtualMachinePowerState string

const (
	PowerStateRunning  VirtualMachinePowerState = "Running"
	PowerStateShutdown VirtualMachinePowerState = "Shutdown"
	PowerStatePaused   VirtualMachinePowerState = "Paused"
)

// VirtualMachineSpec describes the one virtual machine of a VM pod. It boots
// from a disk image, or directly from a kernel and an initrd.
type VirtualMachineSpec struct {
	// Name of the virtual machine, unique in the pod like a container name.
	// Defaults to "vm".
	// +optional
	Name string `json:"name,omitempty"`

	// Image is the boot disk (qcow2 or raw): an OCI image reference whose
	// layers hold the disk file. Each pod gets a copy-on-write overlay of it.
	// Either image or kernel must be set.
	// +optional
	Image string `json:"image,omitempty"`

	// ImagePullPolicy as for containers. Defaults like a container's.
	// +optional
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`

	// Kernel boots the VM directly from a kernel and an optional initrd.
	// +optional
	Kernel *KernelBoot `json:"kernel,omitempty"`

	// Resources of the VM. requests.cpu rounded up gives the vCPUs;
	// requests.memory (or limits.memory) gives the guest memory.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// UserData is cloud-init user data served to the guest in a NoCloud seed.
	// +optional
	UserData string `json:"userData,omitempty"`

	// PublicKey is an SSH public key installed for the guest's default user.
	// +optional
	PublicKey string `json:"publicKey,omitempty"`

	// PowerState is the power state the VM should be in. Defaults to Running.
	// +optional
	PowerState VirtualMachinePowerState `json:"powerState,omitempty"`
}

// KernelBoot names a kernel, an initrd and a command line to boot a VM with.
// Kernel and initrd are OCI image references (the file is the image's only
// regular file) or absolute paths on the node.
type KernelBoot struct {
	// Kernel image to boot.
	Kernel string `json:"kernel"`
	// Initrd to load beside the kernel.
	// +optional
	Initrd string `json:"initrd,omitempty"`
	// Args is the kernel command line.
	// +optional
	Args string `json:"args,omitempty"`
}

// VirtualMachineState is the lifecycle state of a VM as the node sees it.
type VirtualMachineState string

const (
	VirtualMachinePending  VirtualMachineState = "Pending"
	VirtualMachineCreating VirtualMachineState = "Creating"
	VirtualMachineRunning  VirtualMachineState = "Running"
	VirtualMachinePaused   VirtualMachineState = "Paused"
	VirtualMachineStopped  VirtualMachineState = "Stopped"
	VirtualMachineFailed   VirtualMachineState = "Failed"
)

// VirtualMachineStatus is the observed state of a pod's virtual machine.
type VirtualMachineStatus struct {
	// Name of the virtual machine.
	Name string `json:"name"`
	// State of the VM's lifecycle.
	// +optional
	State VirtualMachineState `json:"state,omitempty"`
	// PowerState the VM is in.
	// +optional
	PowerState VirtualMachinePowerState `json:"powerState,omitempty"`
	// Accelerator is "kvm" or "tcg".
	// +optional
	Accelerator string `json:"accelerator,omitempty"`
	// CPUs given to the guest.
	// +optional
	CPUs int32 `json:"cpus,omitempty"`
	// Memory given to the guest.
	// +optional
	Memory *resource.Quantity `json:"memory,omitempty"`
	// Ready is true while the guest runs and is not paused.
	// +optional
	Ready bool `json:"ready,omitempty"`
	// RestartCount counts the times the VM was started again.
	// +optional
	RestartCount int32 `json:"restartCount,omitempty"`
	// Reason is a brief CamelCase reason for the state.
	// +optional
	Reason string `json:"reason,omitempty"`
	// Message is a human-readable detail for the state.
	// +optional
	Message string `json:"message,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// PodList is a list of Pods.
type PodList struct {
	metav1.TypeMeta `json:",inline"`
	// Standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`

	// List of pods.
	Items []Pod `json:"items"`
}
