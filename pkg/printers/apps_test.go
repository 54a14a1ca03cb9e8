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

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	apps "github.com/arcturus-cloud/arcturus/pkg/apis/apps/v1"
	api "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

func TestAppsRows(t *testing.T) {
	three, one := int32(3), int32(1)
	selector := &metav1.LabelSelector{
		MatchLabels:      map[string]string{"app": "web"},
		MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"front"}}},
	}
	containers := apps.PodTemplateSpec{Spec: api.PodSpec{PodSpec: corev1.PodSpec{Containers: []corev1.Container{
		{Name: "app", Image: "nginx:1.27"}, {Name: "sidecar", Image: "busybox:1"},
	}}}}
	vm := apps.PodTemplateSpec{Spec: api.PodSpec{VirtualMachine: &api.VirtualMachineSpec{Name: "guest", Image: "local/disk:1"}}}
	kernel := apps.PodTemplateSpec{Spec: api.PodSpec{VirtualMachine: &api.VirtualMachineSpec{Kernel: &api.KernelBoot{Kernel: "local/kernel:6"}}}}
	deploymentColumns := []string{"Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"}
	replicaSetColumns := []string{"Name", "Desired", "Current", "Ready", "Age", "Containers", "Images", "Selector"}
	cases := []struct {
		name      string
		convertor *TableConvertor
		obj       runtime.Object
		columns   []string
		cells     []any
	}{
		{name: "deployment", convertor: NewDeploymentTableConvertor(),
			obj: &apps.Deployment{ObjectMeta: objMeta("web"), Spec: apps.DeploymentSpec{Replicas: &three, Selector: selector, Template: containers},
				Status: appsv1.DeploymentStatus{Replicas: 3, ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 1}},
			columns: deploymentColumns,
			cells:   []any{"web", "2/3", int64(3), int64(1), "5m", "app,sidecar", "nginx:1.27,busybox:1", "app=web,tier in (front)"}},
		{name: "VM deployment", convertor: NewDeploymentTableConvertor(),
			obj:     &apps.Deployment{ObjectMeta: objMeta("vms"), Spec: apps.DeploymentSpec{Replicas: &one, Template: vm}},
			columns: deploymentColumns,
			cells:   []any{"vms", "0/1", int64(0), int64(0), "5m", "guest", "local/disk:1", ""}},
		{name: "replica set", convertor: NewReplicaSetTableConvertor(),
			obj: &apps.ReplicaSet{ObjectMeta: objMeta("web-5d8f"), Spec: apps.ReplicaSetSpec{Replicas: &three, Selector: selector, Template: containers},
				Status: appsv1.ReplicaSetStatus{Replicas: 2, ReadyReplicas: 1}},
			columns: replicaSetColumns,
			cells:   []any{"web-5d8f", int64(3), int64(2), int64(1), "5m", "app,sidecar", "nginx:1.27,busybox:1", "app=web,tier in (front)"}},
		{name: "kernel-boot replica set", convertor: NewReplicaSetTableConvertor(),
			obj:     &apps.ReplicaSet{ObjectMeta: objMeta("k"), Spec: apps.ReplicaSetSpec{Template: kernel}},
			columns: replicaSetColumns,
			cells:   []any{"k", int64(1), int64(0), int64(0), "5m", "vm", "local/kernel:6", "<none>"}},
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
				// The wide columns are kubectl's -o wide ones.
				if wide := slices.Contains([]string{"Containers", "Images", "Selector"}, c.Name); wide != (c.Priority == 1) {
					t.Errorf("column %s has priority %d", c.Name, c.Priority)
				}
			}
			if !slices.Equal(columns, tc.columns) {
				t.Errorf("columns %q, want %q", columns, tc.columns)
			}
			if len(table.Rows) != 1 || !slices.Equal(table.Rows[0].Cells, tc.cells) {
				t.Fatalf("rows %v, want one with %v", table.Rows, tc.cells)
			}
		})
	}

	list := &apps.DeploymentList{ListMeta: metav1.ListMeta{ResourceVersion: "9"},
		Items: []apps.Deployment{{ObjectMeta: objMeta("a")}, {ObjectMeta: objMeta("b")}}}
	table, err := NewDeploymentTableConvertor().ConvertToTable(context.Background(), list, nil)
	if err != nil || len(table.Rows) != 2 || table.ResourceVersion != "9" {
		t.Errorf("list table = %+v, %v", table, err)
	}
}
