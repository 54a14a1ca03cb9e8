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

package agent

import (
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/klog/v2/ktesting"
)

func TestInventory(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	addrs := func(name string) ([]string, error) {
		if name == "eth0" {
			return []string{"10.0.2.15/24"}, nil
		}
		return nil, nil
	}
	reg, err := Inventory(ctx, "testdata/root", addrs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(reg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	// The SMBIOS table is /sys/firmware/dmi/tables/DMI of a QEMU 7.2 guest
	// started with
	//   -m 1024 -smp 4,sockets=2,cores=2
	//   -smbios "type=1,manufacturer=Arcturus,product=Lab Server,version=1.0,serial=SRV-0001,uuid=4C4C4544-0042-3110-8052-B4C04F4D3232,sku=SKU-42,family=Lab"
	//   -smbios "type=4,sock_pfx=CPU,manufacturer=GenuineIntel,version=Intel(R) Xeon(R) Gold 6230,max-speed=3900,current-speed=2100"
	//   -smbios type=17,loc_pfx=DIMM,manufacturer=Samsung,serial=S0001,part=M393A4K40CB2,speed=2933
	// The sysfs tree, modelled on that guest's, has 2 packages of 2 cores of
	// 2 threads, and disks and interfaces the inventory must skip.
	want := `{
  "uuid": "4c4c4544-0042-3110-8052-b4c04f4d3232",
  "hardware": {
    "system": {
      "manufacturer": "Arcturus",
      "productName": "Lab Server",
      "version": "1.0",
      "serialNumber": "SRV-0001",
      "skuNumber": "SKU-42",
      "family": "Lab",
      "firmware": "BIOS"
    },
    "compute": {
      "processorCount": 2,
      "totalCoreCount": 4,
      "totalThreadCount": 8,
      "processors": [
        {
          "manufacturer": "GenuineIntel",
          "productName": "Intel(R) Xeon(R) Gold 6230",
          "speedMHz": 3900,
          "coreCount": 2,
          "threadCount": 2
        },
        {
          "manufacturer": "GenuineIntel",
          "productName": "Intel(R) Xeon(R) Gold 6230",
          "speedMHz": 3900,
          "coreCount": 2,
          "threadCount": 2
        }
      ]
    },
    "memory": {
      "total": "982988Ki",
      "modules": [
        {
          "locator": "DIMM 0",
          "manufacturer": "Samsung",
          "serialNumber": "S0001",
          "type": "RAM",
          "size": "1Gi",
          "speedMTs": 2933
        }
      ]
    },
    "storage": {
      "total": "1211291952Ki",
      "disks": [
        {
          "name": "nvme0n1",
          "size": "32Mi",
          "type": "NVMe",
          "model": "QEMU NVMe Ctrl",
          "serialNumber": "NVME0001",
          "wwid": "nvme.1b36-4e564d4530303031-51454d55204e564d65204374726c-00000001"
        },
        {
          "name": "sda",
          "size": "976762584Ki",
          "type": "HDD",
          "model": "TestDisk",
          "serialNumber": "SATA0001",
          "wwid": "t10.ATA     TestDisk                                SATA0001"
        },
        {
          "name": "sdb",
          "size": "234431064Ki",
          "type": "SSD"
        },
        {
          "name": "vda",
          "size": "64Mi",
          "type": "Virtual",
          "serialNumber": "VIRTIO-0001"
        }
      ]
    },
    "network": {
      "interfaces": [
        {
          "name": "eth0",
          "mac": "52:54:00:12:34:56",
          "mtu": 1500,
          "speedMbps": 1000,
          "addresses": [
            "10.0.2.15/24"
          ]
        },
        {
          "name": "eth1",
          "mac": "52:54:00:ab:cd:ef",
          "mtu": 9000
        }
      ]
    }
  }
}`
	if string(got) != want {
		t.Errorf("inventory:\n%s\nwant:\n%s", got, want)
	}
}

func TestInventoryErrors(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	root := copyTree(t, "testdata/root")
	// The SMBIOS table is optional.
	removeAll(t, root, "sys/firmware")
	reg, err := Inventory(ctx, root, nil)
	if err != nil {
		t.Fatalf("without an SMBIOS table: %v", err)
	}
	if len(reg.Hardware.Compute.Processors) != 0 || len(reg.Hardware.Memory.Modules) != 0 || reg.Hardware.Compute.TotalThreadCount != 8 {
		t.Errorf("without an SMBIOS table: %+v", reg.Hardware)
	}
	// The UUID, which names the server, is not.
	for _, p := range []string{"sys/class/dmi/id/product_uuid", "proc/meminfo", "sys/block", "sys/devices/system/cpu"} {
		root := copyTree(t, "testdata/root")
		removeAll(t, root, p)
		if _, err := Inventory(ctx, root, nil); err == nil || !strings.Contains(err.Error(), root) {
			t.Errorf("without %s: %v", p, err)
		}
	}
}
