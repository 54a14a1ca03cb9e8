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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
)

// NewTenantTableConvertor prints tenants: NAME DISPLAY NAME STATUS AGE.
func NewTenantTableConvertor() *TableConvertor {
	return newTableConvertor([]metav1.TableColumnDefinition{
		nameColumn,
		column("Display Name", "string", 0, "DisplayName is a human-readable name."),
		column("Status", "string", 0, "The phase of the tenant: Active or Terminating."),
		ageColumn,
	}, func(t *tenancyv1.Tenant) metav1.TableRow {
		return cells(t.Name, t.Spec.DisplayName, string(t.Status.Phase), age(t.CreationTimestamp))
	})
}
