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
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apps "github.com/arcturus-cloud/arcturus/pkg/apis/apps/v1"
	arcv1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

// Wide columns that deployments and replica sets share.
var (
	templateContainersColumn = column("Containers", "string", 1, "Names of each container in the template.")
	templateImagesColumn     = column("Images", "string", 1, "Images referenced by each container in the template.")
)

// NewDeploymentTableConvertor prints deployments: NAME READY UP-TO-DATE
// AVAILABLE AGE, and CONTAINERS IMAGES SELECTOR when wide.
func NewDeploymentTableConvertor() *TableConvertor {
	return newTableConvertor([]metav1.TableColumnDefinition{
		nameColumn,
		column("Ready", "string", 0, "Number of the pod with ready state"),
		column("Up-to-date", "string", 0, appsv1.DeploymentStatus{}.SwaggerDoc()["updatedReplicas"]),
		column("Available", "string", 0, appsv1.DeploymentStatus{}.SwaggerDoc()["availableReplicas"]),
		ageColumn,
		templateContainersColumn,
		templateImagesColumn,
		column("Selector", "string", 1, appsv1.DeploymentSpec{}.SwaggerDoc()["selector"]),
	}, func(d *apps.Deployment) metav1.TableRow {
		names, images := templateCells(&d.Spec.Template.Spec)
		return cells(d.Name, fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, replicas(d.Spec.Replicas)),
			int64(d.Status.UpdatedReplicas), int64(d.Status.AvailableReplicas), age(d.CreationTimestamp),
			names, images, selectorString(d.Spec.Selector))
	})
}

// NewReplicaSetTableConvertor prints replica sets: NAME DESIRED CURRENT
// READY AGE, and CONTAINERS IMAGES SELECTOR when wide.
func NewReplicaSetTableConvertor() *TableConvertor {
	return newTableConvertor([]metav1.TableColumnDefinition{
		nameColumn,
		column("Desired", "integer", 0, appsv1.ReplicaSetSpec{}.SwaggerDoc()["replicas"]),
		column("Current", "integer", 0, appsv1.ReplicaSetStatus{}.SwaggerDoc()["replicas"]),
		column("Ready", "integer", 0, appsv1.ReplicaSetStatus{}.SwaggerDoc()["readyReplicas"]),
		ageColumn,
		templateContainersColumn,
		templateImagesColumn,
		column("Selector", "string", 1, appsv1.ReplicaSetSpec{}.SwaggerDoc()["selector"]),
	}, func(rs *apps.ReplicaSet) metav1.TableRow {
		names, images := templateCells(&rs.Spec.Template.Spec)
		return cells(rs.Name, int64(replicas(rs.Spec.Replicas)), int64(rs.Status.Replicas), int64(rs.Status.ReadyReplicas),
			age(rs.CreationTimestamp), names, images, metav1.FormatLabelSelector(rs.Spec.Selector))
	})
}

// templateCells are the CONTAINERS and IMAGES cells of a pod template. A VM
// template shows its VM as the pod printer does: by name, with its disk
// image or kernel as the image.
func templateCells(spec *arcv1.PodSpec) (names, images string) {
	if vm := spec.VirtualMachine; vm != nil {
		name, image := vm.Name, vm.Image
		if name == "" {
			name = arcv1.DefaultVirtualMachineName
		}
		if image == "" && vm.Kernel != nil {
			image = vm.Kernel.Kernel
		}
		return name, image
	}
	n := make([]string, len(spec.Containers))
	i := make([]string, len(spec.Containers))
	for k, c := range spec.Containers {
		n[k], i[k] = c.Name, c.Image
	}
	return strings.Join(n, ","), strings.Join(i, ",")
}

// replicas is a desired replica count; the server defaults it to 1.
func replicas(n *int32) int32 {
	if n == nil {
		return 1
	}
	return *n
}

// selectorString prints a selector as kubectl's deployment printer does.
func selectorString(ls *metav1.LabelSelector) string {
	s, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		return "<invalid>"
	}
	return s.String()
}
