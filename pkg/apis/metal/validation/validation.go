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

// Package validation checks metal.arcturus.io/v1alpha1 objects. Servers
// carry what an unauthenticated agent reported, so hardware is bounded too.
package validation

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
)

// Bounds of a hardware report: generous for real servers, small enough that
// a lying agent cannot bloat the store.
const (
	MaxDevices     = 512
	MaxStringBytes = 256
	MaxAddresses   = 64
	maxPatches     = 256
	maxArgs        = 256
)

var (
	bootFromDiskMethods = []metalv1alpha1.BootFromDiskMethod{metalv1alpha1.BootFromDiskExit, metalv1alpha1.BootFromDiskHTTP404, metalv1alpha1.BootFromDiskSANBoot}
	wipeModes           = []metalv1alpha1.WipeMode{metalv1alpha1.WipeFast, metalv1alpha1.WipeFull}
	powerStates         = []metalv1alpha1.PowerState{metalv1alpha1.PowerOn, metalv1alpha1.PowerOff, metalv1alpha1.PowerUnknown}
	agentPhases         = []metalv1alpha1.AgentPhase{metalv1alpha1.AgentRegistered, metalv1alpha1.AgentWaiting, metalv1alpha1.AgentWiping, metalv1alpha1.AgentWiped, metalv1alpha1.AgentPoweringOff}
	patchOps            = []string{"add", "remove", "replace", "move", "copy", "test"}
	checksumAlgorithms  = map[string]int{"sha256": sha256.Size, "sha512": sha512.Size}
)

func validateMeta(meta, old *metav1.ObjectMeta) field.ErrorList {
	p := field.NewPath("metadata")
	allErrs := apimachineryvalidation.ValidateObjectMeta(meta, false, apimachineryvalidation.NameIsDNSSubdomain, p)
	if old != nil {
		allErrs = append(allErrs, apimachineryvalidation.ValidateObjectMetaUpdate(meta, old, p)...)
	}
	return allErrs
}

// ValidateServer checks a server on creation.
func ValidateServer(s *metalv1alpha1.Server) field.ErrorList {
	allErrs := validateMeta(&s.ObjectMeta, nil)
	return append(allErrs, validateServer(s)...)
}

// ValidateServerUpdate checks an update of a server, spec or status.
func ValidateServerUpdate(s, old *metalv1alpha1.Server) field.ErrorList {
	allErrs := validateMeta(&s.ObjectMeta, &old.ObjectMeta)
	return append(allErrs, validateServer(s)...)
}

func validateServer(s *metalv1alpha1.Server) field.ErrorList {
	spec := field.NewPath("spec")
	var allErrs field.ErrorList
	if s.Spec.Hardware != nil {
		allErrs = append(allErrs, ValidateHardware(s.Spec.Hardware, spec.Child("hardware"))...)
	}
	if s.Spec.BMC != nil {
		allErrs = append(allErrs, validateBMC(s.Spec.BMC, spec.Child("bmc"))...)
	}
	allErrs = append(allErrs, validateLocalRef(s.Spec.EnvironmentRef, spec.Child("environmentRef"))...)
	allErrs = append(allErrs, validateBootFromDisk(s.Spec.BootFromDiskMethod, spec.Child("bootFromDiskMethod"))...)
	if m := s.Spec.WipeMode; m != "" && !slices.Contains(wipeModes, m) {
		allErrs = append(allErrs, field.NotSupported(spec.Child("wipeMode"), m, wipeModes))
	}
	allErrs = append(allErrs, validatePatches(s.Spec.ConfigPatches, spec.Child("configPatches"))...)

	status := field.NewPath("status")
	if p := s.Status.Power; p != "" && !slices.Contains(powerStates, p) {
		allErrs = append(allErrs, field.NotSupported(status.Child("power"), p, powerStates))
	}
	if len(s.Status.Addresses) > MaxAddresses {
		allErrs = append(allErrs, field.TooMany(status.Child("addresses"), len(s.Status.Addresses), MaxAddresses))
	}
	if a := s.Status.Agent; a != nil {
		if a.Phase != "" && !slices.Contains(agentPhases, a.Phase) {
			allErrs = append(allErrs, field.NotSupported(status.Child("agent", "phase"), a.Phase, agentPhases))
		}
		if a.WipeProgress < 0 || a.WipeProgress > 100 {
			allErrs = append(allErrs, field.Invalid(status.Child("agent", "wipeProgress"), a.WipeProgress, "must be between 0 and 100"))
		}
		if len(a.Message) > 4*MaxStringBytes {
			allErrs = append(allErrs, field.TooLong(status.Child("agent", "message"), "", 4*MaxStringBytes))
		}
	}
	return append(allErrs, metav1validation.ValidateConditions(s.Status.Conditions, status.Child("conditions"))...)
}

// ValidateHardware bounds a hardware report: counts, string lengths and
// sizes that no real server exceeds.
func ValidateHardware(h *metalv1alpha1.Hardware, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	text := func(fp *field.Path, values ...string) {
		for _, v := range values {
			if len(v) > MaxStringBytes {
				allErrs = append(allErrs, field.TooLong(fp, "", MaxStringBytes))
				return
			}
		}
	}
	count := func(fp *field.Path, n int) bool {
		if n > MaxDevices {
			allErrs = append(allErrs, field.TooMany(fp, n, MaxDevices))
			return false
		}
		return true
	}
	nonNegative := func(fp *field.Path, values ...int32) {
		for _, v := range values {
			if v < 0 {
				allErrs = append(allErrs, field.Invalid(fp, v, "must not be negative"))
				return
			}
		}
	}
	quantity := func(fp *field.Path, q resource.Quantity) {
		if q.Sign() < 0 {
			allErrs = append(allErrs, field.Invalid(fp, q.String(), "must not be negative"))
		}
	}
	sys := h.System
	text(p.Child("system"), sys.Manufacturer, sys.ProductName, sys.Version, sys.SerialNumber, sys.SKUNumber, sys.Family)
	if f := sys.Firmware; f != "" && f != metalv1alpha1.FirmwareUEFI && f != metalv1alpha1.FirmwareBIOS {
		allErrs = append(allErrs, field.NotSupported(p.Child("system", "firmware"), f, []metalv1alpha1.Firmware{metalv1alpha1.FirmwareUEFI, metalv1alpha1.FirmwareBIOS}))
	}

	c := p.Child("compute")
	nonNegative(c, h.Compute.ProcessorCount, h.Compute.TotalCoreCount, h.Compute.TotalThreadCount)
	if count(c.Child("processors"), len(h.Compute.Processors)) {
		for i, cpu := range h.Compute.Processors {
			ip := c.Child("processors").Index(i)
			text(ip, cpu.Manufacturer, cpu.ProductName)
			nonNegative(ip, cpu.SpeedMHz, cpu.CoreCount, cpu.ThreadCount)
		}
	}

	m := p.Child("memory")
	quantity(m.Child("total"), h.Memory.Total)
	if count(m.Child("modules"), len(h.Memory.Modules)) {
		for i, mod := range h.Memory.Modules {
			ip := m.Child("modules").Index(i)
			text(ip, mod.Locator, mod.Manufacturer, mod.SerialNumber, mod.Type)
			quantity(ip.Child("size"), mod.Size)
			nonNegative(ip.Child("speedMTs"), mod.SpeedMTs)
		}
	}

	st := p.Child("storage")
	quantity(st.Child("total"), h.Storage.Total)
	if count(st.Child("disks"), len(h.Storage.Disks)) {
		for i, d := range h.Storage.Disks {
			ip := st.Child("disks").Index(i)
			if d.Name == "" {
				allErrs = append(allErrs, field.Required(ip.Child("name"), ""))
			}
			text(ip, d.Name, d.Type, d.Model, d.SerialNumber, d.WWID)
			quantity(ip.Child("size"), d.Size)
		}
	}

	n := p.Child("network", "interfaces")
	if count(n, len(h.Network.Interfaces)) {
		for i, nic := range h.Network.Interfaces {
			ip := n.Index(i)
			if nic.Name == "" {
				allErrs = append(allErrs, field.Required(ip.Child("name"), ""))
			}
			text(ip, nic.Name, nic.MAC)
			nonNegative(ip, nic.MTU, nic.SpeedMbps)
			if len(nic.Addresses) > MaxAddresses {
				allErrs = append(allErrs, field.TooMany(ip.Child("addresses"), len(nic.Addresses), MaxAddresses))
			} else {
				text(ip.Child("addresses"), nic.Addresses...)
			}
		}
	}
	return allErrs
}

func validateBMC(b *metalv1alpha1.BMC, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	switch {
	case b.Redfish != nil && b.IPMI != nil:
		allErrs = append(allErrs, field.Forbidden(p, "may name a Redfish service or an IPMI BMC, not both"))
	case b.Redfish == nil && b.IPMI == nil:
		allErrs = append(allErrs, field.Required(p, "a Redfish service or an IPMI BMC"))
	}
	if r := b.Redfish; r != nil {
		u, err := url.Parse(r.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			allErrs = append(allErrs, field.Invalid(p.Child("redfish", "endpoint"), r.Endpoint, "must be an http or https URL"))
		}
		if strings.ContainsAny(r.SystemID, "/?#") {
			allErrs = append(allErrs, field.Invalid(p.Child("redfish", "systemID"), r.SystemID, "must be a member id, not a path"))
		}
	}
	if i := b.IPMI; i != nil {
		if i.Address == "" {
			allErrs = append(allErrs, field.Required(p.Child("ipmi", "address"), ""))
		}
		if i.Port < 0 || i.Port > 65535 {
			allErrs = append(allErrs, field.Invalid(p.Child("ipmi", "port"), i.Port, "must be between 1 and 65535, or 0 for 623"))
		}
	}
	allErrs = append(allErrs, validateSecretRef(b.CredentialsRef, p.Child("credentialsRef"))...)
	return allErrs
}

func validateSecretRef(ref *corev1.SecretReference, p *field.Path) field.ErrorList {
	if ref == nil {
		return nil
	}
	var allErrs field.ErrorList
	for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(ref.Name, false) {
		allErrs = append(allErrs, field.Invalid(p.Child("name"), ref.Name, msg))
	}
	if ref.Namespace == "" {
		allErrs = append(allErrs, field.Required(p.Child("namespace"), "secrets are namespaced"))
	} else {
		for _, msg := range apimachineryvalidation.ValidateNamespaceName(ref.Namespace, false) {
			allErrs = append(allErrs, field.Invalid(p.Child("namespace"), ref.Namespace, msg))
		}
	}
	return allErrs
}

func validateLocalRef(ref *corev1.LocalObjectReference, p *field.Path) field.ErrorList {
	if ref == nil {
		return nil
	}
	var allErrs field.ErrorList
	for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(ref.Name, false) {
		allErrs = append(allErrs, field.Invalid(p.Child("name"), ref.Name, msg))
	}
	return allErrs
}

func validateBootFromDisk(m metalv1alpha1.BootFromDiskMethod, p *field.Path) field.ErrorList {
	if m != "" && !slices.Contains(bootFromDiskMethods, m) {
		return field.ErrorList{field.NotSupported(p, m, bootFromDiskMethods)}
	}
	return nil
}

func validatePatches(patches []metalv1alpha1.ConfigPatch, p *field.Path) field.ErrorList {
	if len(patches) > maxPatches {
		return field.ErrorList{field.TooMany(p, len(patches), maxPatches)}
	}
	var allErrs field.ErrorList
	pointer := func(fp *field.Path, v string) {
		if v != "" && !strings.HasPrefix(v, "/") {
			allErrs = append(allErrs, field.Invalid(fp, v, "must be a JSON pointer: empty or starting with /"))
		}
	}
	for i, patch := range patches {
		ip := p.Index(i)
		if !slices.Contains(patchOps, patch.Op) {
			allErrs = append(allErrs, field.NotSupported(ip.Child("op"), patch.Op, patchOps))
		}
		pointer(ip.Child("path"), patch.Path)
		switch patch.Op {
		case "add", "replace", "test":
			if patch.Value == nil {
				allErrs = append(allErrs, field.Required(ip.Child("value"), "op "+patch.Op+" needs a value"))
			}
		case "move", "copy":
			if patch.From == "" {
				allErrs = append(allErrs, field.Required(ip.Child("from"), "op "+patch.Op+" needs a source"))
			}
			pointer(ip.Child("from"), patch.From)
		}
	}
	return allErrs
}

// ValidateServerClass checks a server class on creation.
func ValidateServerClass(c *metalv1alpha1.ServerClass) field.ErrorList {
	return append(validateMeta(&c.ObjectMeta, nil), validateServerClass(c)...)
}

// ValidateServerClassUpdate checks an update of a server class.
func ValidateServerClassUpdate(c, old *metalv1alpha1.ServerClass) field.ErrorList {
	return append(validateMeta(&c.ObjectMeta, &old.ObjectMeta), validateServerClass(c)...)
}

func validateServerClass(c *metalv1alpha1.ServerClass) field.ErrorList {
	spec := field.NewPath("spec")
	var allErrs field.ErrorList
	for i, q := range c.Spec.Qualifiers {
		ip := spec.Child("qualifiers").Index(i)
		for name, pattern := range map[string]string{
			"systemManufacturer": q.SystemManufacturer, "systemProductName": q.SystemProductName, "processorProductName": q.ProcessorProductName,
		} {
			if _, err := path.Match(pattern, ""); err != nil {
				allErrs = append(allErrs, field.Invalid(ip.Child(name), pattern, err.Error()))
			}
		}
		if q.MinThreads < 0 || q.MaxThreads < 0 {
			allErrs = append(allErrs, field.Invalid(ip.Child("minThreads"), q.MinThreads, "thread counts must not be negative"))
		}
		if q.MaxThreads > 0 && q.MaxThreads < q.MinThreads {
			allErrs = append(allErrs, field.Invalid(ip.Child("maxThreads"), q.MaxThreads, "must not be less than minThreads"))
		}
		if q.MinMemory != nil && q.MaxMemory != nil && q.MaxMemory.Cmp(*q.MinMemory) < 0 {
			allErrs = append(allErrs, field.Invalid(ip.Child("maxMemory"), q.MaxMemory.String(), "must not be less than minMemory"))
		}
	}
	allErrs = append(allErrs, metav1validation.ValidateLabelSelector(c.Spec.Selector, metav1validation.LabelSelectorValidationOptions{}, spec.Child("selector"))...)
	allErrs = append(allErrs, validateLocalRef(c.Spec.EnvironmentRef, spec.Child("environmentRef"))...)
	allErrs = append(allErrs, validatePatches(c.Spec.ConfigPatches, spec.Child("configPatches"))...)
	return append(allErrs, validateBootFromDisk(c.Spec.BootFromDiskMethod, spec.Child("bootFromDiskMethod"))...)
}

// ValidateEnvironment checks an environment on creation.
func ValidateEnvironment(e *metalv1alpha1.Environment) field.ErrorList {
	return append(validateMeta(&e.ObjectMeta, nil), validateEnvironment(e)...)
}

// ValidateEnvironmentUpdate checks an update of an environment.
func ValidateEnvironmentUpdate(e, old *metalv1alpha1.Environment) field.ErrorList {
	return append(validateMeta(&e.ObjectMeta, &old.ObjectMeta), validateEnvironment(e)...)
}

func validateEnvironment(e *metalv1alpha1.Environment) field.ErrorList {
	spec := field.NewPath("spec")
	allErrs := validateAsset(e.Spec.Kernel, spec.Child("kernel"))
	if e.Spec.Initrd != nil {
		allErrs = append(allErrs, validateAsset(*e.Spec.Initrd, spec.Child("initrd"))...)
	}
	if len(e.Spec.Args) > maxArgs {
		allErrs = append(allErrs, field.TooMany(spec.Child("args"), len(e.Spec.Args), maxArgs))
	}
	for i, arg := range e.Spec.Args {
		// iPXE scripts end a command at a newline; one would let an
		// argument inject commands.
		if arg == "" || strings.ContainsAny(arg, "\n\r") {
			allErrs = append(allErrs, field.Invalid(spec.Child("args").Index(i), arg, "must be a non-empty single line"))
		}
	}
	return append(allErrs, metav1validation.ValidateConditions(e.Status.Conditions, field.NewPath("status", "conditions"))...)
}

func validateAsset(a metalv1alpha1.Asset, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	u, err := url.Parse(a.URL)
	switch {
	case a.URL == "":
		allErrs = append(allErrs, field.Required(p.Child("url"), ""))
	case err != nil:
		allErrs = append(allErrs, field.Invalid(p.Child("url"), a.URL, err.Error()))
	case u.Scheme == "file" && u.Path != "" && u.Host == "":
	case (u.Scheme == "http" || u.Scheme == "https") && u.Host != "":
	default:
		allErrs = append(allErrs, field.Invalid(p.Child("url"), a.URL, "must be an http, https or file URL (file:///path)"))
	}
	if a.Checksum != "" {
		if _, _, err := ParseChecksum(a.Checksum); err != nil {
			allErrs = append(allErrs, field.Invalid(p.Child("checksum"), a.Checksum, err.Error()))
		}
	}
	return allErrs
}

// ParseChecksum splits "sha256:<hex>" or "sha512:<hex>" into the algorithm
// and the digest.
func ParseChecksum(s string) (algorithm string, digest []byte, err error) {
	algorithm, hexDigest, ok := strings.Cut(s, ":")
	size, known := checksumAlgorithms[algorithm]
	if !ok || !known {
		return "", nil, fmt.Errorf("must be sha256:<hex> or sha512:<hex>")
	}
	digest, err = hex.DecodeString(hexDigest)
	if err != nil || len(digest) != size {
		return "", nil, fmt.Errorf("%s digest must be %d hexadecimal bytes", algorithm, size)
	}
	return algorithm, digest, nil
}

// ValidateServerBinding checks a binding on creation.
func ValidateServerBinding(b *metalv1alpha1.ServerBinding) field.ErrorList {
	return append(validateMeta(&b.ObjectMeta, nil), validateServerBinding(b)...)
}

// ValidateServerBindingUpdate checks an update of a binding: who holds the
// server never changes; a new claimant makes a new binding.
func ValidateServerBindingUpdate(b, old *metalv1alpha1.ServerBinding) field.ErrorList {
	allErrs := append(validateMeta(&b.ObjectMeta, &old.ObjectMeta), validateServerBinding(b)...)
	if !apiequality.Semantic.DeepEqual(b.Spec.ClaimantRef, old.Spec.ClaimantRef) {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("spec", "claimantRef"), "is immutable"))
	}
	if b.Spec.ServerClassName != old.Spec.ServerClassName {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("spec", "serverClassName"), "is immutable"))
	}
	return allErrs
}

func validateServerBinding(b *metalv1alpha1.ServerBinding) field.ErrorList {
	spec := field.NewPath("spec")
	var allErrs field.ErrorList
	c := b.Spec.ClaimantRef
	if c.Kind == "" {
		allErrs = append(allErrs, field.Required(spec.Child("claimantRef", "kind"), ""))
	}
	if c.Name == "" {
		allErrs = append(allErrs, field.Required(spec.Child("claimantRef", "name"), ""))
	}
	allErrs = append(allErrs, validateLocalRef(b.Spec.EnvironmentRef, spec.Child("environmentRef"))...)
	allErrs = append(allErrs, validateSecretRef(b.Spec.ConfigSecretRef, spec.Child("configSecretRef"))...)
	return append(allErrs, metav1validation.ValidateConditions(b.Status.Conditions, field.NewPath("status", "conditions"))...)
}
