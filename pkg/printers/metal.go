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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
)

// NewServerTableConvertor prints servers: NAME ACCEPTED CORDONED IN USE
// CLEAN POWER AGENT AGE, and in wide output the hardware at a glance and
// how to reach the server and its BMC.
func NewServerTableConvertor() *TableConvertor {
	return newTableConvertor([]metav1.TableColumnDefinition{
		nameColumn,
		column("Accepted", "boolean", 0, "Whether the server is admitted into the pool."),
		column("Cordoned", "boolean", 0, "Whether the server is kept out of the pool."),
		column("In Use", "boolean", 0, "Whether the server is bound to a claimant."),
		column("Clean", "boolean", 0, "Whether the server was wiped since its last use."),
		column("Power", "string", 0, "The power state the BMC reported last."),
		column("Agent", "string", 0, "What the inventory agent is doing."),
		ageColumn,
		column("Product", "string", 1, "The system's manufacturer and product name."),
		column("CPUs", "integer", 1, "Hardware threads."),
		column("Memory", "string", 1, "Memory the kernel sees."),
		column("Disks", "string", 1, "Disk sizes."),
		column("Addresses", "string", 1, "The server's addresses."),
		column("BMC", "string", 1, "The BMC's endpoint."),
	}, func(s *metalv1alpha1.Server) metav1.TableRow {
		agent := "<none>"
		if a := s.Status.Agent; a != nil && a.Phase != "" {
			agent = string(a.Phase)
			if a.Phase == metalv1alpha1.AgentWiping {
				agent = fmt.Sprintf("%s %d%%", a.Phase, a.WipeProgress)
			}
		}
		var product, memory, disks string
		var cpus int64
		if h := s.Spec.Hardware; h != nil {
			product = strings.TrimSpace(h.System.Manufacturer + " " + h.System.ProductName)
			cpus = int64(h.Compute.TotalThreadCount)
			memory = h.Memory.Total.String()
			var sizes []string
			for _, d := range h.Storage.Disks {
				sizes = append(sizes, d.Size.String())
			}
			disks = strings.Join(sizes, ",")
		}
		var addresses []string
		for _, a := range s.Status.Addresses {
			addresses = append(addresses, a.Address)
		}
		return cells(s.Name, s.Spec.Accepted, s.Spec.Cordoned, s.Status.InUse, s.Status.IsClean, orNone(string(s.Status.Power)),
			agent, age(s.CreationTimestamp), orNone(product), cpus, orNone(memory), orNone(disks),
			orNone(strings.Join(addresses, ",")), orNone(bmcEndpoint(s.Spec.BMC)))
	})
}

func bmcEndpoint(b *metalv1alpha1.BMC) string {
	switch {
	case b == nil:
		return ""
	case b.Redfish != nil:
		return b.Redfish.Endpoint
	case b.IPMI != nil:
		port := b.IPMI.Port
		if port == 0 {
			port = 623
		}
		return fmt.Sprintf("ipmi://%s:%d", b.IPMI.Address, port)
	}
	return ""
}

// NewServerClassTableConvertor prints server classes: NAME AVAILABLE IN USE
// AGE, the servers listed in wide output.
func NewServerClassTableConvertor() *TableConvertor {
	return newTableConvertor([]metav1.TableColumnDefinition{
		nameColumn,
		column("Available", "integer", 0, "Ready servers of the class that are not in use."),
		column("In Use", "integer", 0, "Servers of the class that are in use."),
		ageColumn,
		column("Available Servers", "string", 1, "Names of the available servers."),
		column("Servers In Use", "string", 1, "Names of the servers in use."),
	}, func(c *metalv1alpha1.ServerClass) metav1.TableRow {
		return cells(c.Name, int64(len(c.Status.Available)), int64(len(c.Status.InUse)), age(c.CreationTimestamp),
			orNone(strings.Join(c.Status.Available, ",")), orNone(strings.Join(c.Status.InUse, ",")))
	})
}

// NewEnvironmentTableConvertor prints environments: NAME KERNEL READY AGE,
// the initrd and arguments in wide output.
func NewEnvironmentTableConvertor() *TableConvertor {
	return newTableConvertor([]metav1.TableColumnDefinition{
		nameColumn,
		column("Kernel", "string", 0, "Where the kernel comes from."),
		column("Ready", "string", 0, "Whether every asset is fetched and verified."),
		ageColumn,
		column("Initrd", "string", 1, "Where the initrd comes from."),
		column("Args", "string", 1, "The kernel's command line."),
	}, func(e *metalv1alpha1.Environment) metav1.TableRow {
		initrd := ""
		if e.Spec.Initrd != nil {
			initrd = e.Spec.Initrd.URL
		}
		return cells(e.Name, e.Spec.Kernel.URL, conditionStatus(e.Status.Conditions, "Ready"), age(e.CreationTimestamp),
			orNone(initrd), orNone(strings.Join(e.Spec.Args, " ")))
	})
}

// NewServerBindingTableConvertor prints bindings: NAME CLAIMANT CLASS READY AGE.
func NewServerBindingTableConvertor() *TableConvertor {
	return newTableConvertor([]metav1.TableColumnDefinition{
		nameColumn,
		column("Claimant", "string", 0, "The object that holds the server."),
		column("Class", "string", 0, "The class the server was taken from."),
		column("Ready", "string", 0, "Whether the server is powered on into its Environment."),
		ageColumn,
	}, func(b *metalv1alpha1.ServerBinding) metav1.TableRow {
		c := b.Spec.ClaimantRef
		claimant := c.Kind + "/" + c.Name
		if c.Namespace != "" {
			claimant = c.Kind + "/" + c.Namespace + "/" + c.Name
		}
		return cells(b.Name, claimant, orNone(b.Spec.ServerClassName), conditionStatus(b.Status.Conditions, "Ready"), age(b.CreationTimestamp))
	})
}

func conditionStatus(conditions []metav1.Condition, conditionType string) string {
	for _, c := range conditions {
		if c.Type == conditionType {
			return string(c.Status)
		}
	}
	return "Unknown"
}
