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
	"context"
	"slices"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	api "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
)

func objMeta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, ResourceVersion: "7", CreationTimestamp: ago(5 * time.Minute)}
}

func TestRows(t *testing.T) {
	holder := "node-a"
	created := metav1.NewTime(time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600)))
	cases := []struct {
		name      string
		convertor *TableConvertor
		obj       runtime.Object
		columns   []string
		cells     []any
	}{
		{name: "namespace", convertor: NewNamespaceTableConvertor(),
			obj:     &corev1.Namespace{ObjectMeta: objMeta("team-a"), Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}},
			columns: []string{"Name", "Status", "Age"},
			cells:   []any{"team-a", "Active", "5m"}},
		{name: "config map", convertor: NewConfigMapTableConvertor(),
			obj:     &corev1.ConfigMap{ObjectMeta: objMeta("cfg"), Data: map[string]string{"a": "1"}, BinaryData: map[string][]byte{"b": nil}},
			columns: []string{"Name", "Data", "Age"},
			cells:   []any{"cfg", int64(2), "5m"}},
		{name: "secret", convertor: NewSecretTableConvertor(),
			obj:     &corev1.Secret{ObjectMeta: objMeta("tls"), Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": nil, "tls.key": nil}},
			columns: []string{"Name", "Type", "Data", "Age"},
			cells:   []any{"tls", "kubernetes.io/tls", int64(2), "5m"}},
		{name: "service account", convertor: NewServiceAccountTableConvertor(),
			obj:     &corev1.ServiceAccount{ObjectMeta: objMeta("builder")},
			columns: []string{"Name", "Secrets", "Age"},
			cells:   []any{"builder", int64(0), "5m"}},
		{name: "legacy event", convertor: NewEventTableConvertor(),
			obj: &corev1.Event{ObjectMeta: objMeta("web.17f3a"), Type: corev1.EventTypeWarning, Reason: "BackOff",
				Message:        " Back-off restarting failed container \n",
				InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web", FieldPath: "spec.containers{app}"},
				Source:         corev1.EventSource{Component: "kubelet", Host: "node-a"},
				FirstTimestamp: ago(10 * time.Minute), LastTimestamp: ago(30 * time.Second), Count: 12},
			columns: []string{"Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message", "First Seen", "Count", "Name"},
			cells: []any{"30s", "Warning", "BackOff", "pod/web", "spec.containers{app}", "kubelet, node-a",
				"Back-off restarting failed container", "10m", int64(12), "web.17f3a"}},
		{name: "events.k8s.io event", convertor: NewEventTableConvertor(),
			obj: &corev1.Event{ObjectMeta: objMeta("n.1"), Type: corev1.EventTypeNormal, Reason: "Scheduled",
				InvolvedObject: corev1.ObjectReference{Kind: "Node"}, ReportingController: "scheduler",
				EventTime: metav1.NewMicroTime(time.Now().Add(-2 * time.Hour))},
			columns: []string{"Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message", "First Seen", "Count", "Name"},
			cells:   []any{"120m", "Normal", "Scheduled", "node", "", "scheduler", "", "120m", int64(1), "n.1"}},
		{name: "node", convertor: NewNodeTableConvertor(),
			obj: &corev1.Node{
				ObjectMeta: metav1.ObjectMeta{Name: "node-a", CreationTimestamp: ago(49 * time.Hour), Labels: map[string]string{
					"node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "gpu"}},
				Spec: corev1.NodeSpec{Unschedulable: true},
				Status: corev1.NodeStatus{
					Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
					Addresses:  []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "node-a"}, {Type: corev1.NodeInternalIP, Address: "10.0.0.4"}},
					NodeInfo:   corev1.NodeSystemInfo{KubeletVersion: "v1.37.2-arcturus", OSImage: "Debian GNU/Linux 13", ContainerRuntimeVersion: "containerd://2.1.0"},
				},
			},
			columns: []string{"Name", "Status", "Roles", "Age", "Version", "Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"},
			cells: []any{"node-a", "Ready,SchedulingDisabled", "control-plane,gpu,worker", "2d1h", "v1.37.2-arcturus",
				"10.0.0.4", "<none>", "Debian GNU/Linux 13", "<unknown>", "containerd://2.1.0"}},
		{name: "unreported node", convertor: NewNodeTableConvertor(),
			obj:     &corev1.Node{ObjectMeta: objMeta("node-b")},
			columns: []string{"Name", "Status", "Roles", "Age", "Version", "Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"},
			cells:   []any{"node-b", "Unknown", "<none>", "5m", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"}},
		{name: "lease", convertor: NewLeaseTableConvertor(),
			obj:     &coordinationv1.Lease{ObjectMeta: objMeta("node-a"), Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder}},
			columns: []string{"Name", "Holder", "Age"},
			cells:   []any{"node-a", "node-a", "5m"}},
		{name: "role", convertor: NewRoleTableConvertor(),
			obj:     &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "reader", CreationTimestamp: created}},
			columns: []string{"Name", "Created At"},
			cells:   []any{"reader", "2026-03-01T11:00:00Z"}},
		{name: "cluster role", convertor: NewClusterRoleTableConvertor(),
			obj:     &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "system:node", CreationTimestamp: created}},
			columns: []string{"Name", "Created At"},
			cells:   []any{"system:node", "2026-03-01T11:00:00Z"}},
		{name: "role binding", convertor: NewRoleBindingTableConvertor(),
			obj: &rbacv1.RoleBinding{ObjectMeta: objMeta("read"), RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "view"},
				Subjects: []rbacv1.Subject{{Kind: "User", Name: "alice"}, {Kind: "User", Name: "bob"},
					{Kind: "Group", Name: "devs"}, {Kind: "ServiceAccount", Namespace: "ci", Name: "builder"}}},
			columns: []string{"Name", "Role", "Age", "Users", "Groups", "ServiceAccounts"},
			cells:   []any{"read", "ClusterRole/view", "5m", "alice, bob", "devs", "ci/builder"}},
		{name: "cluster role binding", convertor: NewClusterRoleBindingTableConvertor(),
			obj:     &rbacv1.ClusterRoleBinding{ObjectMeta: objMeta("admins"), RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "cluster-admin"}},
			columns: []string{"Name", "Role", "Age", "Users", "Groups", "ServiceAccounts"},
			cells:   []any{"admins", "ClusterRole/cluster-admin", "5m", "", "", ""}},
		{name: "tenant", convertor: NewTenantTableConvertor(),
			obj: &tenancyv1.Tenant{ObjectMeta: objMeta("acme"), Spec: tenancyv1.TenantSpec{DisplayName: "ACME Corp."},
				Status: tenancyv1.TenantStatus{Phase: tenancyv1.TenantActive}},
			columns: []string{"Name", "Display Name", "Status", "Age", "Request", "Limit"},
			cells:   []any{"acme", "ACME Corp.", "Active", "5m", "", ""}},
		{name: "tenant with quota", convertor: NewTenantTableConvertor(),
			obj: &tenancyv1.Tenant{ObjectMeta: objMeta("acme"), Spec: tenancyv1.TenantSpec{Quota: corev1.ResourceList{
				"pods": resource.MustParse("3"), "requests.cpu": resource.MustParse("1"), "limits.memory": resource.MustParse("1Gi"),
				"count/configmaps": resource.MustParse("5"),
			}}, Status: tenancyv1.TenantStatus{Phase: tenancyv1.TenantActive, Used: corev1.ResourceList{
				"pods": resource.MustParse("2"), "requests.cpu": resource.MustParse("500m"), "limits.memory": resource.MustParse("512Mi"),
			}}},
			columns: []string{"Name", "Display Name", "Status", "Age", "Request", "Limit"},
			cells: []any{"acme", "", "Active", "5m", "count/configmaps: 0/5, pods: 2/3, requests.cpu: 500m/1",
				"limits.memory: 512Mi/1Gi"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			table, err := tc.convertor.ConvertToTable(context.Background(), tc.obj, &metav1.TableOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var columns []string
			for _, c := range table.ColumnDefinitions {
				columns = append(columns, c.Name)
			}
			if !slices.Equal(columns, tc.columns) {
				t.Errorf("columns %q, want %q", columns, tc.columns)
			}
			if len(table.Rows) != 1 || !slices.Equal(table.Rows[0].Cells, tc.cells) {
				t.Fatalf("rows %v, want one with %v", table.Rows, tc.cells)
			}
			if table.Rows[0].Object.Object != tc.obj {
				t.Errorf("row object %v, want the object", table.Rows[0].Object.Object)
			}
		})
	}
}

func TestLists(t *testing.T) {
	remaining := int64(3)
	cases := []struct {
		name      string
		convertor *TableConvertor
		list      runtime.Object
		names     []any
	}{
		{name: "pods", convertor: NewPodTableConvertor(), list: &api.PodList{
			ListMeta: metav1.ListMeta{ResourceVersion: "42", Continue: "next", RemainingItemCount: &remaining},
			Items:    []api.Pod{*pod(corev1.PodRunning, nil, running(true, 0)), *vm(corev1.PodPending, nil)},
		}, names: []any{"web", "vm1"}},
		{name: "secrets", convertor: NewSecretTableConvertor(), list: &corev1.SecretList{
			ListMeta: metav1.ListMeta{ResourceVersion: "42", Continue: "next", RemainingItemCount: &remaining},
			Items:    []corev1.Secret{{ObjectMeta: objMeta("a")}, {ObjectMeta: objMeta("b")}, {ObjectMeta: objMeta("c")}},
		}, names: []any{"a", "b", "c"}},
		{name: "tenants", convertor: NewTenantTableConvertor(), list: &tenancyv1.TenantList{
			ListMeta: metav1.ListMeta{ResourceVersion: "42", Continue: "next", RemainingItemCount: &remaining},
			Items:    []tenancyv1.Tenant{{ObjectMeta: objMeta("system")}},
		}, names: []any{"system"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			table, err := tc.convertor.ConvertToTable(context.Background(), tc.list, &metav1.TableOptions{NoHeaders: true})
			if err != nil {
				t.Fatal(err)
			}
			if table.ColumnDefinitions != nil {
				t.Errorf("got columns %v with noHeaders", table.ColumnDefinitions)
			}
			if table.ResourceVersion != "42" || table.Continue != "next" || table.RemainingItemCount == nil || *table.RemainingItemCount != 3 {
				t.Errorf("list metadata %+v not copied", table.ListMeta)
			}
			var names []any
			for _, row := range table.Rows {
				names = append(names, row.Cells[0])
				if o, ok := row.Object.Object.(metav1.Object); !ok || o.GetName() != row.Cells[0] {
					t.Errorf("row %v has object %v", row.Cells, row.Object.Object)
				}
			}
			if !slices.Equal(names, tc.names) {
				t.Errorf("rows %v, want %v", names, tc.names)
			}
		})
	}
}

func TestEmptyListAndSingleObjectMetadata(t *testing.T) {
	table, err := NewNamespaceTableConvertor().ConvertToTable(context.Background(), &corev1.NamespaceList{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if table.Rows == nil || len(table.Rows) != 0 || len(table.ColumnDefinitions) != 3 {
		t.Errorf("empty list: rows %v, columns %v; want no rows and the columns", table.Rows, table.ColumnDefinitions)
	}
	table, err = NewNamespaceTableConvertor().ConvertToTable(context.Background(), &corev1.Namespace{ObjectMeta: objMeta("a")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if table.ResourceVersion != "7" {
		t.Errorf("resourceVersion %q, want the object's", table.ResourceVersion)
	}
}

func TestWrongKind(t *testing.T) {
	if _, err := NewPodTableConvertor().ConvertToTable(context.Background(), &corev1.Pod{}, nil); err == nil {
		t.Error("converting a Kubernetes pod with the Arcturus pod convertor succeeded")
	}
	list := &corev1.SecretList{Items: []corev1.Secret{{ObjectMeta: objMeta("a")}}}
	if _, err := NewConfigMapTableConvertor().ConvertToTable(context.Background(), list, nil); err == nil {
		t.Error("converting a secret list with the config map convertor succeeded")
	}
}
