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

// Package cni writes the node's pod network: one bridge, with addresses
// from the node's pod CIDR, masquerading traffic that leaves the node, and
// host ports. Containers join it through containerd's CRI plugin, VMs
// through the sandbox of their pod, so both share addresses and routes.
package cni

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
)

// Network describes the pod network of a node.
type Network struct {
	// Name of the network list; also names host-local's allocation store.
	Name string
	// Bridge is the host bridge pods are attached to.
	Bridge string
	// Subnet gives pods their addresses; its first address is the gateway.
	Subnet netip.Prefix
	// DataDir keeps address allocations, so that they survive restarts.
	DataDir string
}

// DefaultBinDirs are where Debian and upstream install CNI plugins.
var DefaultBinDirs = []string{"/usr/lib/cni", "/opt/cni/bin"}

// FileName is the network list's file name in the configuration directory.
const FileName = "10-arcturus.conflist"

// Write writes the network list into dir, replacing an earlier one.
func Write(dir string, n Network) error {
	if !n.Subnet.IsValid() || !n.Subnet.Addr().Is4() {
		return fmt.Errorf("pod subnet %q: an IPv4 prefix is required", n.Subnet)
	}
	list := map[string]any{
		"cniVersion": "1.0.0",
		"name":       n.Name,
		"plugins": []any{
			map[string]any{
				"type": "bridge", "bridge": n.Bridge, "isGateway": true, "ipMasq": true, "hairpinMode": true,
				"ipam": map[string]any{
					"type":    "host-local",
					"ranges":  [][]map[string]string{{{"subnet": n.Subnet.Masked().String()}}},
					"routes":  []map[string]string{{"dst": "0.0.0.0/0"}},
					"dataDir": n.DataDir,
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	data, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding network list: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp := filepath.Join(dir, FileName+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("writing network list: %w", err)
	}
	// CRI watches the directory; it must never see half a file.
	if err := os.Rename(tmp, filepath.Join(dir, FileName)); err != nil {
		return fmt.Errorf("writing network list: %w", err)
	}
	return nil
}
