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

package vm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime/vm/iso9660"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

// seedLabel is the volume label cloud-init's NoCloud data source looks for.
const seedLabel = "cidata"

// seedFiles returns the files of the pod's NoCloud seed. YAML scalars are
// written as JSON strings, which YAML reads as they are, so that no value
// from the pod can change the document's structure.
func seedFiles(pod *v1.Pod, net *guestNetwork) []iso9660.File {
	vm := pod.Spec.VirtualMachine
	q := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}

	var meta strings.Builder
	fmt.Fprintf(&meta, "instance-id: %s\n", q(string(pod.UID)))
	fmt.Fprintf(&meta, "local-hostname: %s\n", q(hostname(pod)))
	if vm.PublicKey != "" {
		// cloud-init installs meta-data public-keys for the default user
		// even when the user-data is the pod's own.
		fmt.Fprintf(&meta, "public-keys:\n  - %s\n", q(strings.TrimSpace(vm.PublicKey)))
	}

	userData := vm.UserData
	if userData == "" {
		var b strings.Builder
		b.WriteString("#cloud-config\n")
		if vm.PublicKey != "" {
			fmt.Fprintf(&b, "ssh_authorized_keys:\n  - %s\n", q(strings.TrimSpace(vm.PublicKey)))
		}
		userData = b.String()
	}

	files := []iso9660.File{
		{Name: "meta-data", Data: []byte(meta.String())},
		{Name: "user-data", Data: []byte(userData)},
	}
	if net != nil {
		files = append(files, iso9660.File{Name: "network-config", Data: networkConfig(pod, net)})
	}
	return files
}

// networkConfig renders cloud-init network config version 2: the pod's
// addresses and routes, static, on the NIC with the guest's MAC.
func networkConfig(pod *v1.Pod, n *guestNetwork) []byte {
	q := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	var b bytes.Buffer
	b.WriteString("version: 2\nethernets:\n  eth0:\n")
	fmt.Fprintf(&b, "    match:\n      macaddress: %s\n", q(n.MAC))
	b.WriteString("    set-name: eth0\n")
	if n.MTU > 0 {
		fmt.Fprintf(&b, "    mtu: %d\n", n.MTU)
	}
	b.WriteString("    dhcp4: false\n    dhcp6: false\n")
	b.WriteString("    addresses:\n")
	for _, a := range n.Addresses {
		fmt.Fprintf(&b, "      - %s\n", q(a))
	}
	if len(n.Routes) > 0 {
		b.WriteString("    routes:\n")
		for _, r := range n.Routes {
			fmt.Fprintf(&b, "      - to: %s\n        via: %s\n", q(r.To), q(r.Via))
			if r.OnLink {
				b.WriteString("        on-link: true\n")
			}
		}
	}
	if dns := pod.Spec.DNSConfig; dns != nil && (len(dns.Nameservers) > 0 || len(dns.Searches) > 0) {
		b.WriteString("    nameservers:\n")
		if len(dns.Nameservers) > 0 {
			b.WriteString("      addresses:\n")
			for _, s := range dns.Nameservers {
				fmt.Fprintf(&b, "        - %s\n", q(s))
			}
		}
		if len(dns.Searches) > 0 {
			b.WriteString("      search:\n")
			for _, s := range dns.Searches {
				fmt.Fprintf(&b, "        - %s\n", q(s))
			}
		}
	}
	return b.Bytes()
}

// seedImage renders the seed as an ISO 9660 volume labelled cidata.
func seedImage(pod *v1.Pod, net *guestNetwork) ([]byte, error) {
	var buf bytes.Buffer
	// A fixed time keeps the image identical for identical content.
	created := pod.CreationTimestamp.Time
	if created.IsZero() {
		created = time.Unix(0, 0)
	}
	if err := iso9660.Write(&buf, seedLabel, seedFiles(pod, net), created); err != nil {
		return nil, fmt.Errorf("writing the cloud-init seed: %w", err)
	}
	return buf.Bytes(), nil
}
