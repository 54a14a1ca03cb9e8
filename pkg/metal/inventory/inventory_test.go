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

package inventory

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
	"github.com/arcturus-cloud/arcturus/pkg/apis/metal/validation"
	"github.com/arcturus-cloud/arcturus/pkg/metal/agentapi"
)

func TestParseRegistration(t *testing.T) {
	reg, err := ParseRegistration([]byte(`{"uuid":"0B1C2D3E-4F50-6172-8394-A5B6C7D8E9F0",
		"hardware":{"network":{"interfaces":[{"name":"eno1","mac":"52-54-00-AB-CD-EF"}]},"memory":{"total":"1Gi"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if reg.UUID != "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0" || reg.Hardware.Network.Interfaces[0].MAC != "52:54:00:ab:cd:ef" {
		t.Errorf("not normalized: %+v", reg)
	}
	for name, body := range map[string]string{
		"not JSON":          `{`,
		"no UUID":           `{"hardware":{}}`,
		"a path for a UUID": `{"uuid":"../../x"}`,
		"negative memory":   `{"uuid":"0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0","hardware":{"memory":{"total":"-1Gi"}}}`,
		"a nameless disk":   `{"uuid":"0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0","hardware":{"storage":{"disks":[{"size":"1Gi"}]}}}`,
		"a huge serial":     `{"uuid":"0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0","hardware":{"system":{"serialNumber":"` + strings.Repeat("x", 300) + `"}}}`,
	} {
		if _, err := ParseRegistration([]byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzParseRegistration feeds arbitrary reports to the parser: it must
// never panic, and what it accepts must be within validation's bounds,
// normalized, and parse again to the same registration.
func FuzzParseRegistration(f *testing.F) {
	good, _ := json.Marshal(agentapi.Registration{UUID: "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0", Hardware: metalv1alpha1.Hardware{
		System:  metalv1alpha1.SystemInformation{Manufacturer: "QEMU"},
		Compute: metalv1alpha1.ComputeInformation{TotalThreadCount: 2, Processors: []metalv1alpha1.Processor{{ProductName: "cpu"}}},
		Storage: metalv1alpha1.StorageInformation{Disks: []metalv1alpha1.Disk{{Name: "vda"}}},
		Network: metalv1alpha1.NetworkInformation{Interfaces: []metalv1alpha1.NetworkInterface{{Name: "eth0", MAC: "52:54:00:12:34:56", Addresses: []string{"10.0.0.2/24"}}}},
	}})
	f.Add(good)
	f.Add([]byte(`{"uuid":"0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0","hardware":{"memory":{"total":"1e100"}}}`))
	f.Add([]byte(`{"uuid":null,"hardware":[]}`))
	f.Add([]byte(`{"uuid":"0B1C2D3E-4F50-6172-8394-A5B6C7D8E9F0","hardware":{"network":{"interfaces":[{"name":"x","mac":"AA-BB-CC-DD-EE-FF"}]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		reg, err := ParseRegistration(data)
		if err != nil {
			return
		}
		if _, ok := NormalizeUUID(reg.UUID); !ok || reg.UUID != strings.ToLower(reg.UUID) {
			t.Fatalf("accepted UUID %q", reg.UUID)
		}
		if errs := validation.ValidateHardware(&reg.Hardware, field.NewPath("hardware")); len(errs) > 0 {
			t.Fatalf("accepted hardware that does not validate: %v", errs)
		}
		again, err := json.Marshal(reg)
		if err != nil {
			t.Fatalf("re-encoding: %v", err)
		}
		reg2, err := ParseRegistration(again)
		if err != nil {
			t.Fatalf("an accepted registration does not parse again: %v", err)
		}
		a, _ := json.Marshal(reg2)
		if !reflect.DeepEqual(again, a) {
			t.Fatalf("parsing is not idempotent:\n%s\n%s", again, a)
		}
	})
}

func FuzzParseHeartbeat(f *testing.F) {
	f.Add([]byte(`{"uuid":"0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0","phase":"Wiping","wipeProgress":50}`))
	f.Add([]byte(`{"uuid":"0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0","wipeProgress":-1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		hb, err := ParseHeartbeat(data)
		if err != nil {
			return
		}
		if hb.WipeProgress < 0 || hb.WipeProgress > 100 || len(hb.Message) > 1024 {
			t.Fatalf("accepted %+v", hb)
		}
	})
}
