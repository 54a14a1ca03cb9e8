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
	"slices"

	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	api "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

// MaxUserDataSize bounds cloud-init user data: it travels in the pod object
// and in the NoCloud seed, and guests read it at boot.
const MaxUserDataSize = 64 << 10

var (
	powerStates = []api.VirtualMachinePowerState{api.PowerStateRunning, api.PowerStateShutdown, api.PowerStatePaused}
	vmStates    = []api.VirtualMachineState{api.VirtualMachinePending, api.VirtualMachineCreating,
		api.VirtualMachineRunning, api.VirtualMachinePaused, api.VirtualMachineStopped, api.VirtualMachineFailed}
)

// validateVirtualMachine checks the VM of a VM pod: it boots from a disk
// image or from a kernel, never both.
func validateVirtualMachine(vm *api.VirtualMachineSpec, fldPath *field.Path) field.ErrorList {
	namePath := fldPath.Child("name")
	var allErrs field.ErrorList
	if vm.Name == "" {
		allErrs = append(allErrs, field.Required(namePath, ""))
	} else {
		allErrs = append(allErrs, validateDNSLabel(vm.Name, namePath)...)
	}

	switch {
	case vm.Image == "" && vm.Kernel == nil:
		allErrs = append(allErrs, field.Required(fldPath.Child("image"), "must specify one of: `image` or `kernel`"))
	case vm.Image != "" && vm.Kernel != nil:
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("kernel"), "may not be set together with `image`"))
	case vm.Image != "":
		allErrs = append(allErrs, validateImage(vm.Image, fldPath.Child("image"))...)
	default:
		allErrs = append(allErrs, validateImage(vm.Kernel.Kernel, fldPath.Child("kernel", "kernel"))...)
	}
	// The pull policy is defaulted for disk images only; kernel boots may leave it empty.
	if vm.ImagePullPolicy != "" || vm.Image != "" {
		allErrs = append(allErrs, validatePullPolicy(vm.ImagePullPolicy, fldPath.Child("imagePullPolicy"))...)
	}
	allErrs = append(allErrs, validateResourceRequirements(&vm.Resources, fldPath.Child("resources"))...)
	if len(vm.UserData) > MaxUserDataSize {
		allErrs = append(allErrs, field.TooLong(fldPath.Child("userData"), "", MaxUserDataSize))
	}
	allErrs = append(allErrs, validatePowerState(vm.PowerState, true, fldPath.Child("powerState"))...)
	return allErrs
}

// validatePowerState checks a requested (required) or observed (optional) power state.
func validatePowerState(state api.VirtualMachinePowerState, required bool, fldPath *field.Path) field.ErrorList {
	switch {
	case state == "" && required:
		return field.ErrorList{field.Required(fldPath, "")}
	case state != "" && !slices.Contains(powerStates, state):
		return field.ErrorList{field.NotSupported(fldPath, state, powerStates)}
	}
	return nil
}

// validateVirtualMachineStatus checks what the node reports about a pod's VM.
func validateVirtualMachineStatus(status *api.VirtualMachineStatus, vm *api.VirtualMachineSpec, fldPath *field.Path) field.ErrorList {
	if vm == nil {
		return field.ErrorList{field.Forbidden(fldPath, "may only be set when spec.virtualMachine is set")}
	}
	var allErrs field.ErrorList
	if status.Name != vm.Name {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("name"), status.Name, "must match spec.virtualMachine.name"))
	}
	if status.State != "" && !slices.Contains(vmStates, status.State) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("state"), status.State, vmStates))
	}
	allErrs = append(allErrs, validatePowerState(status.PowerState, false, fldPath.Child("powerState"))...)
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(status.CPUs), fldPath.Child("cpus"))...)
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(status.RestartCount), fldPath.Child("restartCount"))...)
	if status.Memory != nil {
		allErrs = append(allErrs, ValidateNonnegativeQuantity(*status.Memory, fldPath.Child("memory"))...)
	}
	return allErrs
}
