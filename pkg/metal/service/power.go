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

package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
	"github.com/arcturus-cloud/arcturus/pkg/metal/power"
	"github.com/arcturus-cloud/arcturus/pkg/metal/power/ipmi"
	"github.com/arcturus-cloud/arcturus/pkg/metal/power/redfish"
)

// bmcTimeout bounds one call to a BMC; slow BMCs exist, hung ones too.
const bmcTimeout = 20 * time.Second

// powerDrivers builds the power driver of a server from its BMC and the
// Secret with its credentials, read live so that no Secret is cached.
type powerDrivers struct {
	reader client.Reader
}

func (p *powerDrivers) forServer(ctx context.Context, s *metalv1alpha1.Server) (power.Driver, error) {
	bmc := s.Spec.BMC
	var user, password string
	if ref := bmc.CredentialsRef; ref != nil {
		var secret corev1.Secret
		if err := p.reader.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, &secret); err != nil {
			return nil, fmt.Errorf("reading BMC credentials %s/%s: %w", ref.Namespace, ref.Name, err)
		}
		user, password = string(secret.Data["username"]), string(secret.Data["password"])
	}
	switch {
	case bmc.Redfish != nil:
		return redfish.New(redfish.Config{
			Endpoint: bmc.Redfish.Endpoint, SystemID: bmc.Redfish.SystemID, InsecureSkipVerify: bmc.Redfish.InsecureSkipVerify,
			Username: user, Password: password, Timeout: bmcTimeout,
		})
	case bmc.IPMI != nil:
		return ipmi.New(ipmi.Config{
			Address: bmc.IPMI.Address, Port: int(bmc.IPMI.Port), Username: user, Password: password, Timeout: bmcTimeout,
			EFIBoot: s.Spec.Hardware != nil && s.Spec.Hardware.System.Firmware == metalv1alpha1.FirmwareUEFI,
		})
	}
	return nil, errors.New("the BMC names neither Redfish nor IPMI")
}
