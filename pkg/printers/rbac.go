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
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// roleColumns are kube-apiserver's role columns, a timestamp and not an age.
var roleColumns = []metav1.TableColumnDefinition{
	nameColumn,
	{Name: "Created At", Type: "date", Description: objectMetaDoc["creationTimestamp"]},
}

// NewRoleTableConvertor prints roles: NAME CREATED AT.
func NewRoleTableConvertor() *TableConvertor {
	return newTableConvertor(roleColumns, func(r *rbacv1.Role) metav1.TableRow { return roleRow(&r.ObjectMeta) })
}

// NewClusterRoleTableConvertor prints cluster roles: NAME CREATED AT.
func NewClusterRoleTableConvertor() *TableConvertor {
	return newTableConvertor(roleColumns, func(r *rbacv1.ClusterRole) metav1.TableRow { return roleRow(&r.ObjectMeta) })
}

func roleRow(m *metav1.ObjectMeta) metav1.TableRow {
	return cells(m.Name, m.CreationTimestamp.UTC().Format(time.RFC3339))
}

// bindingColumns names the subjects' kind in the wide columns' descriptions.
func bindingColumns(kind string) []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn,
		column("Role", "string", 0, rbacv1.RoleBinding{}.SwaggerDoc()["roleRef"]),
		ageColumn,
		column("Users", "string", 1, "Users in the "+kind),
		column("Groups", "string", 1, "Groups in the "+kind),
		column("ServiceAccounts", "string", 1, "ServiceAccounts in the "+kind),
	}
}

// NewRoleBindingTableConvertor prints role bindings: NAME ROLE AGE, and
// USERS GROUPS SERVICEACCOUNTS when wide.
func NewRoleBindingTableConvertor() *TableConvertor {
	return newTableConvertor(bindingColumns("roleBinding"), func(b *rbacv1.RoleBinding) metav1.TableRow {
		return bindingRow(&b.ObjectMeta, b.RoleRef, b.Subjects)
	})
}

// NewClusterRoleBindingTableConvertor prints cluster role bindings: NAME
// ROLE AGE, and USERS GROUPS SERVICEACCOUNTS when wide.
func NewClusterRoleBindingTableConvertor() *TableConvertor {
	return newTableConvertor(bindingColumns("clusterRoleBinding"), func(b *rbacv1.ClusterRoleBinding) metav1.TableRow {
		return bindingRow(&b.ObjectMeta, b.RoleRef, b.Subjects)
	})
}

func bindingRow(m *metav1.ObjectMeta, ref rbacv1.RoleRef, subjects []rbacv1.Subject) metav1.TableRow {
	var users, groups, serviceAccounts []string
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.UserKind:
			users = append(users, s.Name)
		case rbacv1.GroupKind:
			groups = append(groups, s.Name)
		case rbacv1.ServiceAccountKind:
			serviceAccounts = append(serviceAccounts, s.Namespace+"/"+s.Name)
		}
	}
	return cells(m.Name, ref.Kind+"/"+ref.Name, age(m.CreationTimestamp),
		strings.Join(users, ", "), strings.Join(groups, ", "), strings.Join(serviceAccounts, ", "))
}
