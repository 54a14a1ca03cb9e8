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

package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +genclient
// +genclient:nonNamespaced
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Server is one bare-metal machine, named by its SMBIOS system UUID. The
// inventory agent creates it when the machine first network-boots; an
// operator (or --auto-accept) accepts it into the pool.
type Server struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec ServerSpec `json:"spec,omitempty"`
	// +optional
	Status ServerStatus `json:"status,omitempty"`
}

// ServerSpec is the server's hardware, as the agent found it, and what the
// operator decided about it.
type ServerSpec struct {
	// Hardware is what the inventory agent found. The agent rewrites it at
	// each registration.
	// +optional
	Hardware *Hardware `json:"hardware,omitempty"`

	// BMC is how to reach the server's baseboard management controller.
	// Without one, Arcturus cannot power the server and relies on the agent
	// and on the operator to do so.
	// +optional
	BMC *BMC `json:"bmc,omitempty"`

	// EnvironmentRef names the Environment the server boots when bound;
	// when empty, the one of its binding or its ServerClass, then the
	// Environment named "default".
	// +optional
	EnvironmentRef *corev1.LocalObjectReference `json:"environmentRef,omitempty"`

	// Accepted admits the server into the pool: only accepted servers are
	// wiped, powered and bound.
	// +optional
	Accepted bool `json:"accepted,omitempty"`

	// Cordoned keeps the server out of the pool without forgetting it.
	// +optional
	Cordoned bool `json:"cordoned,omitempty"`

	// PXEBootAlways makes a bound server boot its Environment over the
	// network at every boot; otherwise only its first boot after binding
	// does, and later boots go to its disk.
	// +optional
	PXEBootAlways bool `json:"pxeBootAlways,omitempty"`

	// BootFromDiskMethod is how iPXE hands a server over to its disk:
	// ipxe-exit (default), http-404 or ipxe-sanboot.
	// +optional
	BootFromDiskMethod BootFromDiskMethod `json:"bootFromDiskMethod,omitempty"`

	// WipeMode is how the agent wipes the disks: fast (default) or full.
	// +optional
	WipeMode WipeMode `json:"wipeMode,omitempty"`

	// ConfigPatches are JSON patches (RFC 6902) applied to the machine
	// config the server receives from /configdata, after those of its class.
	// +optional
	// +listType=atomic
	ConfigPatches []ConfigPatch `json:"configPatches,omitempty"`
}

// BootFromDiskMethod is how iPXE hands a server over to its disk. Firmware
// differs in what works: returning from iPXE (ipxe-exit), failing the
// script download so the firmware tries its next device (http-404), or
// iPXE booting the first disk itself (ipxe-sanboot).
type BootFromDiskMethod string

const (
	BootFromDiskExit    BootFromDiskMethod = "ipxe-exit"
	BootFromDiskHTTP404 BootFromDiskMethod = "http-404"
	BootFromDiskSANBoot BootFromDiskMethod = "ipxe-sanboot"
)

// WipeMode is how thoroughly the agent wipes disks.
type WipeMode string

const (
	// WipeFast zeroes the partition tables and the first and last MiBs
	// of every disk, which is what makes a disk look empty to installers.
	WipeFast WipeMode = "fast"
	// WipeFull zeroes every byte, or discards it where the disk supports
	// secure discard.
	WipeFull WipeMode = "full"
)

// ConfigPatch is one RFC 6902 JSON patch operation.
type ConfigPatch struct {
	// Op is add, remove, replace, move, copy or test.
	Op string `json:"op"`
	// Path is a JSON pointer.
	Path string `json:"path"`
	// From is the source pointer of move and copy.
	// +optional
	From string `json:"from,omitempty"`
	// Value is the JSON value of add, replace and test.
	// +optional
	Value *JSON `json:"value,omitempty"`
}

// BMC is how to reach a baseboard management controller: Redfish or IPMI.
type BMC struct {
	// +optional
	Redfish *RedfishBMC `json:"redfish,omitempty"`
	// +optional
	IPMI *IPMIBMC `json:"ipmi,omitempty"`
	// CredentialsRef names a Secret of the system tenant with the keys
	// username and password.
	// +optional
	CredentialsRef *corev1.SecretReference `json:"credentialsRef,omitempty"`
}

// RedfishBMC is a Redfish service.
type RedfishBMC struct {
	// Endpoint is the service's base URL, such as https://10.0.0.5.
	Endpoint string `json:"endpoint"`
	// SystemID is the ComputerSystem's member id; the first system when
	// empty.
	// +optional
	SystemID string `json:"systemID,omitempty"`
	// InsecureSkipVerify accepts any TLS certificate, as BMCs with
	// self-signed certificates need.
	// +optional
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`
}

// IPMIBMC is an IPMI 2.0 BMC reached over RMCP+ (lanplus).
type IPMIBMC struct {
	// Address is the BMC's host name or IP address.
	Address string `json:"address"`
	// Port is the RMCP port, 623 when zero.
	// +optional
	Port int32 `json:"port,omitempty"`
}

// Hardware is what the inventory agent found on a server.
type Hardware struct {
	// +optional
	System SystemInformation `json:"system,omitempty"`
	// +optional
	Compute ComputeInformation `json:"compute,omitempty"`
	// +optional
	Memory MemoryInformation `json:"memory,omitempty"`
	// +optional
	Storage StorageInformation `json:"storage,omitempty"`
	// +optional
	Network NetworkInformation `json:"network,omitempty"`
}

// SystemInformation is SMBIOS's system information (type 1).
type SystemInformation struct {
	// +optional
	Manufacturer string `json:"manufacturer,omitempty"`
	// +optional
	ProductName string `json:"productName,omitempty"`
	// +optional
	Version string `json:"version,omitempty"`
	// +optional
	SerialNumber string `json:"serialNumber,omitempty"`
	// +optional
	SKUNumber string `json:"skuNumber,omitempty"`
	// +optional
	Family string `json:"family,omitempty"`
	// Firmware is how the server booted: UEFI or BIOS. IPMI needs it to
	// ask for a network boot the firmware understands.
	// +optional
	Firmware Firmware `json:"firmware,omitempty"`
}

// Firmware is a server's boot firmware interface.
type Firmware string

const (
	FirmwareUEFI Firmware = "UEFI"
	FirmwareBIOS Firmware = "BIOS"
)

// ComputeInformation is the server's processors.
type ComputeInformation struct {
	// +optional
	ProcessorCount int32 `json:"processorCount,omitempty"`
	// +optional
	TotalCoreCount int32 `json:"totalCoreCount,omitempty"`
	// +optional
	TotalThreadCount int32 `json:"totalThreadCount,omitempty"`
	// +optional
	// +listType=atomic
	Processors []Processor `json:"processors,omitempty"`
}

// Processor is one processor package.
type Processor struct {
	// +optional
	Manufacturer string `json:"manufacturer,omitempty"`
	// +optional
	ProductName string `json:"productName,omitempty"`
	// SpeedMHz is its maximum speed.
	// +optional
	SpeedMHz int32 `json:"speedMHz,omitempty"`
	// +optional
	CoreCount int32 `json:"coreCount,omitempty"`
	// +optional
	ThreadCount int32 `json:"threadCount,omitempty"`
}

// MemoryInformation is the server's memory.
type MemoryInformation struct {
	// Total is the memory the running kernel sees.
	// +optional
	Total resource.Quantity `json:"total,omitempty"`
	// +optional
	// +listType=atomic
	Modules []MemoryModule `json:"modules,omitempty"`
}

// MemoryModule is one memory device (SMBIOS type 17).
type MemoryModule struct {
	// +optional
	Locator string `json:"locator,omitempty"`
	// +optional
	Manufacturer string `json:"manufacturer,omitempty"`
	// +optional
	SerialNumber string `json:"serialNumber,omitempty"`
	// +optional
	Type string `json:"type,omitempty"`
	// +optional
	Size resource.Quantity `json:"size,omitempty"`
	// +optional
	SpeedMTs int32 `json:"speedMTs,omitempty"`
}

// StorageInformation is the server's block devices.
type StorageInformation struct {
	// Total is the sum of the disks' sizes.
	// +optional
	Total resource.Quantity `json:"total,omitempty"`
	// +optional
	// +listType=atomic
	Disks []Disk `json:"disks,omitempty"`
}

// Disk is one whole block device.
type Disk struct {
	// Name is the kernel's name, such as sda or nvme0n1.
	Name string `json:"name"`
	// +optional
	Size resource.Quantity `json:"size,omitempty"`
	// Type is HDD, SSD, NVMe or Virtual.
	// +optional
	Type string `json:"type,omitempty"`
	// +optional
	Model string `json:"model,omitempty"`
	// +optional
	SerialNumber string `json:"serialNumber,omitempty"`
	// +optional
	WWID string `json:"wwid,omitempty"`
}

// NetworkInformation is the server's network interfaces.
type NetworkInformation struct {
	// +optional
	// +listType=atomic
	Interfaces []NetworkInterface `json:"interfaces,omitempty"`
}

// NetworkInterface is one physical network interface.
type NetworkInterface struct {
	Name string `json:"name"`
	// MAC is the hardware address, lowercase with colons.
	// +optional
	MAC string `json:"mac,omitempty"`
	// +optional
	MTU int32 `json:"mtu,omitempty"`
	// SpeedMbps is the link speed, when the driver knows it.
	// +optional
	SpeedMbps int32 `json:"speedMbps,omitempty"`
	// Addresses are its IP addresses in CIDR notation.
	// +optional
	// +listType=atomic
	Addresses []string `json:"addresses,omitempty"`
}

// ServerStatus is the observed state of a server.
type ServerStatus struct {
	// Ready servers are accepted, not cordoned and clean: they can be bound.
	// +optional
	Ready bool `json:"ready"`
	// InUse servers are bound to a claimant.
	// +optional
	InUse bool `json:"inUse"`
	// IsClean servers have been wiped since their last use.
	// +optional
	IsClean bool `json:"isClean"`
	// Power is the power state the BMC reported last: On, Off or Unknown.
	// +optional
	Power PowerState `json:"power,omitempty"`
	// Addresses are the server's addresses, as the agent and the boot
	// services saw them.
	// +optional
	// +listType=atomic
	Addresses []corev1.NodeAddress `json:"addresses,omitempty"`
	// Agent is what the inventory agent on the server is doing.
	// +optional
	Agent *AgentStatus `json:"agent,omitempty"`
	// LastPowerAction is the last power action Arcturus asked of the BMC,
	// so that a slow boot is waited for rather than interrupted.
	// +optional
	LastPowerAction *PowerAction `json:"lastPowerAction,omitempty"`
	// LastBootTime is when the server last came up: its agent registered,
	// or it fetched its Environment's boot script. A power action older
	// than that is done.
	// +optional
	LastBootTime *metav1.Time `json:"lastBootTime,omitempty"`
	// Conditions of the server: BMCReachable and EnvironmentBooted.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// PowerState is a server's power state.
type PowerState string

const (
	PowerOn      PowerState = "On"
	PowerOff     PowerState = "Off"
	PowerUnknown PowerState = "Unknown"
)

// AgentStatus is the inventory agent's progress.
type AgentStatus struct {
	// Phase is Registered, Waiting, Wiping, Wiped or PoweringOff.
	// +optional
	Phase AgentPhase `json:"phase,omitempty"`
	// WipeProgress is the share of the disks' bytes wiped, in percent.
	// +optional
	WipeProgress int32 `json:"wipeProgress,omitempty"`
	// LastRegistrationTime is when the agent last registered: the server's
	// last boot into the agent.
	// +optional
	LastRegistrationTime *metav1.Time `json:"lastRegistrationTime,omitempty"`
	// LastHeartbeatTime is when the agent last reported, updated at most
	// every HeartbeatRecordInterval unless its phase changes.
	// +optional
	LastHeartbeatTime *metav1.Time `json:"lastHeartbeatTime,omitempty"`
	// Message is the agent's last report in words, errors included.
	// +optional
	Message string `json:"message,omitempty"`
}

// PowerAction is a power action Arcturus asked of a server's BMC.
type PowerAction struct {
	// Action is On, Off or Cycle; PXE says the next boot was set to the
	// network first.
	Action string `json:"action"`
	// +optional
	PXE bool `json:"pxe,omitempty"`
	// Reason is why, in words.
	// +optional
	Reason string `json:"reason,omitempty"`
	// Time is when it was asked.
	Time metav1.Time `json:"time"`
}

// AgentPhase is what the agent is doing.
type AgentPhase string

const (
	AgentRegistered  AgentPhase = "Registered"
	AgentWaiting     AgentPhase = "Waiting"
	AgentWiping      AgentPhase = "Wiping"
	AgentWiped       AgentPhase = "Wiped"
	AgentPoweringOff AgentPhase = "PoweringOff"
)

// Server condition types.
const (
	// ServerBMCReachable is whether the last call to the BMC succeeded.
	ServerBMCReachable = "BMCReachable"
	// ServerEnvironmentBooted is whether the bound server fetched its
	// Environment's boot script; later boots go to disk unless
	// pxeBootAlways.
	ServerEnvironmentBooted = "EnvironmentBooted"
)

// ServerFinalizer holds a deleted server until it is decommissioned:
// unbound and powered off.
const ServerFinalizer = "metal.arcturus.io/server"

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ServerList is a list of servers.
type ServerList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Server `json:"items"`
}

// +genclient
// +genclient:nonNamespaced
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ServerClass is a set of servers: those whose hardware meets one of its
// qualifiers and whose labels match its selector. The class "any" holds
// every server.
type ServerClass struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec ServerClassSpec `json:"spec,omitempty"`
	// +optional
	Status ServerClassStatus `json:"status,omitempty"`
}

// ServerClassSpec says which servers belong to the class and how they boot.
type ServerClassSpec struct {
	// Qualifiers a server's hardware must meet, any one of them; none
	// means any hardware.
	// +optional
	// +listType=atomic
	Qualifiers []HardwareQualifier `json:"qualifiers,omitempty"`
	// Selector selects servers by label; none means every server.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`
	// EnvironmentRef is the Environment the class's servers boot when bound
	// and their own spec names none.
	// +optional
	EnvironmentRef *corev1.LocalObjectReference `json:"environmentRef,omitempty"`
	// ConfigPatches are applied to the machine config of the class's
	// servers, before the server's own.
	// +optional
	// +listType=atomic
	ConfigPatches []ConfigPatch `json:"configPatches,omitempty"`
	// BootFromDiskMethod applies to the class's servers whose spec sets none.
	// +optional
	BootFromDiskMethod BootFromDiskMethod `json:"bootFromDiskMethod,omitempty"`
}

// HardwareQualifier is a set of requirements, all of which a server's
// hardware must meet. Text fields are shell patterns (path.Match).
type HardwareQualifier struct {
	// +optional
	SystemManufacturer string `json:"systemManufacturer,omitempty"`
	// +optional
	SystemProductName string `json:"systemProductName,omitempty"`
	// +optional
	ProcessorProductName string `json:"processorProductName,omitempty"`
	// MinThreads is the least number of hardware threads.
	// +optional
	MinThreads int32 `json:"minThreads,omitempty"`
	// MaxThreads is the most; zero means no limit.
	// +optional
	MaxThreads int32 `json:"maxThreads,omitempty"`
	// +optional
	MinMemory *resource.Quantity `json:"minMemory,omitempty"`
	// +optional
	MaxMemory *resource.Quantity `json:"maxMemory,omitempty"`
	// MinDiskSize is a size at least one disk must have.
	// +optional
	MinDiskSize *resource.Quantity `json:"minDiskSize,omitempty"`
}

// ServerClassStatus lists the class's servers.
type ServerClassStatus struct {
	// Available are the ready servers of the class that are not in use.
	// +optional
	// +listType=set
	Available []string `json:"available,omitempty"`
	// InUse are the servers of the class that are in use.
	// +optional
	// +listType=set
	InUse []string `json:"inUse,omitempty"`
}

// ServerClassAny is the class that holds every server; it always exists.
const ServerClassAny = "any"

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ServerClassList is a list of server classes.
type ServerClassList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ServerClass `json:"items"`
}

// +genclient
// +genclient:nonNamespaced
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Environment is what a server boots over the network: a kernel, an
// initrd and kernel arguments. The Environment "agent" boots Arcturus's
// inventory agent and always exists.
type Environment struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec EnvironmentSpec `json:"spec,omitempty"`
	// +optional
	Status EnvironmentStatus `json:"status,omitempty"`
}

// EnvironmentSpec is a kernel, an initrd and their arguments.
type EnvironmentSpec struct {
	Kernel Asset `json:"kernel"`
	// +optional
	Initrd *Asset `json:"initrd,omitempty"`
	// Args are the kernel's command line, one argument each.
	// +optional
	// +listType=atomic
	Args []string `json:"args,omitempty"`
}

// Asset is a file the boot services serve: fetched once from URL (http,
// https, or file for a file on the metal service's host) and checked
// against Checksum.
type Asset struct {
	URL string `json:"url"`
	// Checksum is "sha256:<hex>" or "sha512:<hex>"; when set, the asset is
	// served only if it matches.
	// +optional
	Checksum string `json:"checksum,omitempty"`
}

// EnvironmentStatus is whether the assets are ready to serve.
type EnvironmentStatus struct {
	// Conditions: Ready is true once every asset is fetched and verified.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// EnvironmentAgent boots the inventory agent.
const EnvironmentAgent = "agent"

// EnvironmentDefault is what bound servers boot when nothing names
// another Environment.
const EnvironmentDefault = "default"

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// EnvironmentList is a list of environments.
type EnvironmentList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Environment `json:"items"`
}

// +genclient
// +genclient:nonNamespaced
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ServerBinding gives one server to one claimant. It is named after the
// server, so two claimants can never hold the same server: the second
// create fails with AlreadyExists. Deleting it releases the server, which
// is then wiped and returned to the pool.
type ServerBinding struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ServerBindingSpec `json:"spec"`
	// +optional
	Status ServerBindingStatus `json:"status,omitempty"`
}

// ServerBindingSpec is who holds the server and what it boots.
type ServerBindingSpec struct {
	// ServerClassName is the class the server was taken from, if any.
	// +optional
	ServerClassName string `json:"serverClassName,omitempty"`
	// ClaimantRef is the object that holds the server, such as a
	// MetalMachine.
	ClaimantRef corev1.ObjectReference `json:"claimantRef"`
	// EnvironmentRef overrides the Environment the server boots.
	// +optional
	EnvironmentRef *corev1.LocalObjectReference `json:"environmentRef,omitempty"`
	// ConfigSecretRef names a Secret of the system tenant whose key
	// "value" is the machine config the server reads from /configdata.
	// +optional
	ConfigSecretRef *corev1.SecretReference `json:"configSecretRef,omitempty"`
}

// ServerBindingStatus is the binding's progress.
type ServerBindingStatus struct {
	// Conditions: Ready once the server is powered on into its Environment.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ServerBindingList is a list of server bindings.
type ServerBindingList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ServerBinding `json:"items"`
}
