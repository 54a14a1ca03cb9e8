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

package apiserver

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestUncachedResources(t *testing.T) {
	configMaps := schema.GroupResource{Resource: "configmaps"}
	pods := schema.GroupResource{Resource: "pods"}
	tenants := schema.GroupResource{Group: "tenancy.arcturus.io", Resource: "tenants"}

	for _, tc := range []struct {
		flag    []string
		want    map[schema.GroupResource]bool
		wantErr bool
	}{
		{flag: nil, want: map[schema.GroupResource]bool{configMaps: true, pods: false, tenants: true}},
		{flag: []string{"pods#0"}, want: map[schema.GroupResource]bool{configMaps: true, pods: true}},
		{flag: []string{"configmaps#100", "tenants.tenancy.arcturus.io#1"}, want: map[schema.GroupResource]bool{configMaps: false, tenants: false}},
		{flag: []string{"configmaps"}, wantErr: true},
		{flag: []string{"configmaps#-1"}, wantErr: true},
	} {
		got, err := uncachedResources(tc.flag)
		if (err != nil) != tc.wantErr {
			t.Errorf("--watch-cache-sizes=%v: error %v, want error %v", tc.flag, err, tc.wantErr)
			continue
		}
		for resource, uncached := range tc.want {
			if got[resource] != uncached {
				t.Errorf("--watch-cache-sizes=%v: %s uncached is %v, want %v", tc.flag, resource, got[resource], uncached)
			}
		}
	}
}
