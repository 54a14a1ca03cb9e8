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

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// Labels that give a node its ROLES.
const (
	labelNodeRolePrefix = "node-role.kubernetes.io/"
	labelNodeRole       = "kubernetes.io/role"
)

// NewNamespaceTableConvertor prints namespaces: NAME STATUS AGE.
func NewNamespaceTableConvertor() *TableConvertor {
	return newTableConvertor([]metav1.TableColumnDefinition{
		nameColumn,
		column("Status", "string", 0, "The status of the namespace"),
		ageColumn,
	}, func(ns *corev1.Namespace) metav1.TableRow {
		return cells(ns.Name, string(ns.Status.Phase), age(ns.CreationTimestamp))
	})
}

// NewConfigMapTableConvertor prints config maps: NAME DATA AGE.
func NewConfigMapTableConvertor() *TableConvertor {
	return newTableConvertor([]metav1.TableColumnDefinition{
		nameColumn,
		column("Data", "string", 0, corev1.ConfigMap{}.SwaggerDoc()["data"]),
		ageColumn,
	}, func(cm *corev1.ConfigMap) metav1.TableRow {
		return cells(cm.Name, int64(len(cm.Data)+len(cm.BinaryData)), age(cm.CreationTimestamp))
	})
}

// NewSecretTableConvertor prints secrets: NAME TYPE DATA AGE.
func NewSecretTableConvertor() *TableConvertor {
	return newTableConvertor([]metav1.TableColumnDefinition{
		nameColumn,
		column("Type", "string", 0, corev1.Secret{}.SwaggerDoc()["type"]),
		column("Data", "string", 0, corev1.Secret{}.SwaggerDoc()["data"]),
		ageColumn,
	}, func(s *corev1.Secret) metav1.TableRow {
		return cells(s.Name, string(s.Type), int64(len(s.Data)), age(s.CreationTimestamp))
	})
}

// NewServiceAccountTableConvertor prints service accounts: NAME SECRETS AGE.
func NewServiceAccountTableConvertor() *TableConvertor {
	return newTableConvertor([]metav1.TableColumnDefinition{
		nameColumn,
		column("Secrets", "string", 0, corev1.ServiceAccount{}.SwaggerDoc()["secrets"]),
		ageColumn,
	}, func(sa *corev1.ServiceAccount) metav1.TableRow {
		return cells(sa.Name, int64(len(sa.Secrets)), age(sa.CreationTimestamp))
	})
}

// NewEventTableConvertor prints events: LAST SEEN TYPE REASON OBJECT
// MESSAGE, and SUBOBJECT SOURCE FIRST SEEN COUNT NAME when wide, in
// kube-apiserver's order.
func NewEventTableConvertor() *TableConvertor {
	eventDoc := corev1.Event{}.SwaggerDoc()
	return newTableConvertor([]metav1.TableColumnDefinition{
		column("Last Seen", "string", 0, eventDoc["lastTimestamp"]),
		column("Type", "string", 0, eventDoc["type"]),
		column("Reason", "string", 0, eventDoc["reason"]),
		column("Object", "string", 0, eventDoc["involvedObject"]),
		column("Subobject", "string", 1, corev1.ObjectReference{}.SwaggerDoc()["fieldPath"]),
		column("Source", "string", 1, eventDoc["source"]),
		column("Message", "string", 0, eventDoc["message"]),
		column("First Seen", "string", 1, eventDoc["firstTimestamp"]),
		column("Count", "string", 1, eventDoc["count"]),
		{Name: "Name", Type: "string", Format: "name", Priority: 1, Description: objectMetaDoc["name"]},
	}, eventRow)
}

func eventRow(e *corev1.Event) metav1.TableRow {
	// Events of the events.k8s.io API carry eventTime and a series instead
	// of the legacy timestamps and count.
	firstSeen := age(e.FirstTimestamp)
	if e.FirstTimestamp.IsZero() {
		firstSeen = microAge(e.EventTime)
	}
	lastSeen := age(e.LastTimestamp)
	if e.LastTimestamp.IsZero() {
		lastSeen = firstSeen
	}
	count := e.Count
	if e.Series != nil {
		lastSeen = microAge(e.Series.LastObservedTime)
		count = e.Series.Count
	} else if count == 0 {
		count = 1
	}
	object := strings.ToLower(e.InvolvedObject.Kind)
	if e.InvolvedObject.Name != "" {
		object += "/" + e.InvolvedObject.Name
	}
	return cells(lastSeen, e.Type, e.Reason, object, e.InvolvedObject.FieldPath,
		eventSource(e), strings.TrimSpace(e.Message), firstSeen, int64(count), e.Name)
}

func microAge(t metav1.MicroTime) string {
	return age(metav1.NewTime(t.Time))
}

// eventSource prints "component, host", falling back to the reporting
// controller and instance that newer clients set instead.
func eventSource(e *corev1.Event) string {
	component, host := e.Source.Component, e.Source.Host
	if component == "" {
		component = e.ReportingController
	}
	if host == "" {
		host = e.ReportingInstance
	}
	if host == "" {
		return component
	}
	return component + ", " + host
}

// NewNodeTableConvertor prints nodes: NAME STATUS ROLES AGE VERSION, and
// INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME when wide.
func NewNodeTableConvertor() *TableConvertor {
	infoDoc, statusDoc := corev1.NodeSystemInfo{}.SwaggerDoc(), corev1.NodeStatus{}.SwaggerDoc()
	return newTableConvertor([]metav1.TableColumnDefinition{
		nameColumn,
		column("Status", "string", 0, "The status of the node"),
		column("Roles", "string", 0, "The roles of the node"),
		ageColumn,
		column("Version", "string", 0, infoDoc["kubeletVersion"]),
		column("Internal-IP", "string", 1, statusDoc["addresses"]),
		column("External-IP", "string", 1, statusDoc["addresses"]),
		column("OS-Image", "string", 1, infoDoc["osImage"]),
		column("Kernel-Version", "string", 1, infoDoc["kernelVersion"]),
		column("Container-Runtime", "string", 1, infoDoc["containerRuntimeVersion"]),
	}, nodeRow)
}

func nodeRow(node *corev1.Node) metav1.TableRow {
	status := "Unknown"
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			status = "NotReady"
			if c.Status == corev1.ConditionTrue {
				status = "Ready"
			}
		}
	}
	if node.Spec.Unschedulable {
		status += ",SchedulingDisabled"
	}
	roles := sets.New[string]()
	for k, v := range node.Labels {
		switch {
		case strings.HasPrefix(k, labelNodeRolePrefix) && len(k) > len(labelNodeRolePrefix):
			roles.Insert(strings.TrimPrefix(k, labelNodeRolePrefix))
		case k == labelNodeRole && v != "":
			roles.Insert(v)
		}
	}
	info := node.Status.NodeInfo
	return cells(node.Name, status, orNone(strings.Join(sets.List(roles), ",")), age(node.CreationTimestamp), info.KubeletVersion,
		nodeAddress(node, corev1.NodeInternalIP), nodeAddress(node, corev1.NodeExternalIP),
		orUnknown(info.OSImage), orUnknown(info.KernelVersion), orUnknown(info.ContainerRuntimeVersion))
}

// nodeAddress returns the node's first address of the given type.
func nodeAddress(node *corev1.Node, typ corev1.NodeAddressType) string {
	for _, a := range node.Status.Addresses {
		if a.Type == typ {
			return a.Address
		}
	}
	return "<none>"
}

func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}
