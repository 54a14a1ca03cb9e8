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

package printers

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
)

// NewTenantTableConvertor prints tenants: NAME DISPLAY NAME STATUS AGE, and
// in wide output the quota as kubectl prints a ResourceQuota: REQUEST and
// LIMIT, each "resource: used/hard, ...".
func NewTenantTableConvertor() *TableConvertor {
	return newTableConvertor([]metav1.TableColumnDefinition{
		nameColumn,
		column("Display Name", "string", 0, "DisplayName is a human-readable name."),
		column("Status", "string", 0, "The phase of the tenant: Active or Terminating."),
		ageColumn,
		column("Request", "string", 1, "Usage and quota of every resource but limits.*."),
		column("Limit", "string", 1, "Usage and quota of limits.* resources."),
	}, func(t *tenancyv1.Tenant) metav1.TableRow {
		request, limit := quotaColumns(t)
		return cells(t.Name, t.Spec.DisplayName, string(t.Status.Phase), age(t.CreationTimestamp), request, limit)
	})
}

// quotaColumns prints the quota of t against its usage, limits.* apart.
func quotaColumns(t *tenancyv1.Tenant) (request, limit string) {
	var requests, limits []string
	for _, name := range slices.Sorted(maps.Keys(t.Spec.Quota)) {
		hard, used := t.Spec.Quota[name], t.Status.Used[name]
		entry := fmt.Sprintf("%s: %s/%s", name, used.String(), hard.String())
		if strings.HasPrefix(string(name), "limits.") {
			limits = append(limits, entry)
		} else {
			requests = append(requests, entry)
		}
	}
	return strings.Join(requests, ", "), strings.Join(limits, ", ")
}
