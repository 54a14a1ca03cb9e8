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

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
)

func TestValidateServer(t *testing.T) {
	valid := func() *metalv1alpha1.Server {
		return &metalv1alpha1.Server{
			ObjectMeta: metav1.ObjectMeta{Name: "4c4c4544-0044-3010-8036-b4c04f4e4e32"},
			Spec: metalv1alpha1.ServerSpec{
				Hardware: &metalv1alpha1.Hardware{
					System:  metalv1alpha1.SystemInformation{Manufacturer: "Dell", Firmware: metalv1alpha1.FirmwareUEFI},
					Memory:  metalv1alpha1.MemoryInformation{Total: resource.MustParse("64Gi")},
					Storage: metalv1alpha1.StorageInformation{Disks: []metalv1alpha1.Disk{{Name: "sda", Size: resource.MustParse("1Ti")}}},
				},
				BMC: &metalv1alpha1.BMC{
					Redfish:        &metalv1alpha1.RedfishBMC{Endpoint: "https://10.0.0.5"},
					CredentialsRef: &corev1.SecretReference{Namespace: "default", Name: "bmc"},
				},
				BootFromDiskMethod: metalv1alpha1.BootFromDiskSANBoot,
				WipeMode:           metalv1alpha1.WipeFull,
				ConfigPatches:      []metalv1alpha1.ConfigPatch{{Op: "add", Path: "/a", Value: &metalv1alpha1.JSON{Raw: []byte(`1`)}}},
			},
		}
	}
	if errs := ValidateServer(valid()); len(errs) > 0 {
		t.Fatalf("a valid server: %v", errs)
	}
	for _, tc := range []struct {
		name, field string
		change      func(*metalv1alpha1.Server)
	}{
		{"both BMC kinds", "spec.bmc", func(s *metalv1alpha1.Server) { s.Spec.BMC.IPMI = &metalv1alpha1.IPMIBMC{Address: "x"} }},
		{"no BMC kind", "spec.bmc", func(s *metalv1alpha1.Server) { s.Spec.BMC.Redfish = nil }},
		{"a Redfish endpoint that is no URL", "spec.bmc.redfish.endpoint", func(s *metalv1alpha1.Server) { s.Spec.BMC.Redfish.Endpoint = "10.0.0.5" }},
		{"a system ID with a path", "spec.bmc.redfish.systemID", func(s *metalv1alpha1.Server) { s.Spec.BMC.Redfish.SystemID = "../x" }},
		{"credentials without namespace", "spec.bmc.credentialsRef.namespace", func(s *metalv1alpha1.Server) { s.Spec.BMC.CredentialsRef.Namespace = "" }},
		{"an unknown boot method", "spec.bootFromDiskMethod", func(s *metalv1alpha1.Server) { s.Spec.BootFromDiskMethod = "floppy" }},
		{"an unknown wipe", "spec.wipeMode", func(s *metalv1alpha1.Server) { s.Spec.WipeMode = "shred" }},
		{"a patch without value", "spec.configPatches[0].value", func(s *metalv1alpha1.Server) { s.Spec.ConfigPatches[0].Value = nil }},
		{"a patch path that is no pointer", "spec.configPatches[0].path", func(s *metalv1alpha1.Server) { s.Spec.ConfigPatches[0].Path = "a" }},
		{"an unknown firmware", "spec.hardware.system.firmware", func(s *metalv1alpha1.Server) { s.Spec.Hardware.System.Firmware = "OpenFirmware" }},
		{"negative memory", "spec.hardware.memory.total", func(s *metalv1alpha1.Server) { s.Spec.Hardware.Memory.Total = resource.MustParse("-1") }},
		{"a long serial number", "spec.hardware.system", func(s *metalv1alpha1.Server) { s.Spec.Hardware.System.SerialNumber = strings.Repeat("x", 257) }},
		{"a nameless disk", "spec.hardware.storage.disks[0].name", func(s *metalv1alpha1.Server) { s.Spec.Hardware.Storage.Disks[0].Name = "" }},
		{"too many disks", "spec.hardware.storage.disks", func(s *metalv1alpha1.Server) {
			s.Spec.Hardware.Storage.Disks = make([]metalv1alpha1.Disk, MaxDevices+1)
		}},
		{"wipe progress past 100", "status.agent.wipeProgress", func(s *metalv1alpha1.Server) {
			s.Status.Agent = &metalv1alpha1.AgentStatus{WipeProgress: 101}
		}},
	} {
		s := valid()
		tc.change(s)
		errs := ValidateServer(s)
		if len(errs) == 0 || !strings.Contains(errs.ToAggregate().Error(), tc.field) {
			t.Errorf("%s: %v, want an error at %s", tc.name, errs, tc.field)
		}
	}
}

func TestValidateEnvironmentAndClass(t *testing.T) {
	env := &metalv1alpha1.Environment{
		ObjectMeta: metav1.ObjectMeta{Name: "talos"},
		Spec: metalv1alpha1.EnvironmentSpec{
			Kernel: metalv1alpha1.Asset{URL: "https://example.com/vmlinuz", Checksum: "sha512:" + strings.Repeat("ab", 64)},
			Initrd: &metalv1alpha1.Asset{URL: "file:///srv/initrd.img"},
			Args:   []string{"console=ttyS0"},
		},
	}
	if errs := ValidateEnvironment(env); len(errs) > 0 {
		t.Errorf("a valid environment: %v", errs)
	}
	env.Spec.Kernel.Checksum = "sha256:abcd"
	env.Spec.Initrd.URL = "file://host/relative"
	env.Spec.Args = []string{"a\n#!ipxe"}
	got := ValidateEnvironment(env).ToAggregate().Error()
	for _, want := range []string{"spec.kernel.checksum", "spec.initrd.url", "spec.args[0]"} {
		if !strings.Contains(got, want) {
			t.Errorf("environment errors %q lack %s", got, want)
		}
	}

	min, max := resource.MustParse("64Gi"), resource.MustParse("32Gi")
	class := &metalv1alpha1.ServerClass{
		ObjectMeta: metav1.ObjectMeta{Name: "c"},
		Spec: metalv1alpha1.ServerClassSpec{Qualifiers: []metalv1alpha1.HardwareQualifier{
			{SystemProductName: "[", MinThreads: 8, MaxThreads: 4, MinMemory: &min, MaxMemory: &max},
		}},
	}
	got = ValidateServerClass(class).ToAggregate().Error()
	for _, want := range []string{"systemProductName", "maxThreads", "maxMemory"} {
		if !strings.Contains(got, want) {
			t.Errorf("class errors %q lack %s", got, want)
		}
	}
}

func TestValidateServerBindingUpdate(t *testing.T) {
	old := &metalv1alpha1.ServerBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "s", ResourceVersion: "1"},
		Spec:       metalv1alpha1.ServerBindingSpec{ClaimantRef: corev1.ObjectReference{Kind: "MetalMachine", Name: "m1"}},
	}
	if errs := ValidateServerBinding(old); len(errs) > 0 {
		t.Fatalf("a valid binding: %v", errs)
	}
	changed := old.DeepCopy()
	changed.Spec.ClaimantRef.Name = "m2"
	if errs := ValidateServerBindingUpdate(changed, old); len(errs) == 0 {
		t.Error("a binding changed hands")
	}
	if errs := ValidateServerBinding(&metalv1alpha1.ServerBinding{ObjectMeta: metav1.ObjectMeta{Name: "s"}}); len(errs) == 0 {
		t.Error("a binding without a claimant was accepted")
	}
}
