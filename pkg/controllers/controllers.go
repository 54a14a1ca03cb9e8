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

// Package controllers runs the controllers a tenant partition's API server
// needs for its own API to behave like Kubernetes: namespace lifecycle and
// tenant lifecycle.
package controllers

import (
	"context"
	"fmt"
	"sync"

	"k8s.io/client-go/rest"

	"github.com/arcturus-cloud/arcturus/pkg/controllers/namespace"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/tenant"
)

const (
	// namespaceWorkers is higher than tenantWorkers because emptying a
	// namespace takes a request per resource, and a deleted tenant hands the
	// namespace controller all of its namespaces at once.
	namespaceWorkers = 4
	tenantWorkers    = 2
)

// Run runs the controllers until ctx ends. base is the API server's address
// and a system master identity with no /tenants/ prefix, such as the
// server's loopback client config. Run returns an error only if the
// controllers cannot be set up; it returns nil when ctx ends.
func Run(ctx context.Context, base *rest.Config) error {
	namespaces, err := namespace.New(base)
	if err != nil {
		return fmt.Errorf("namespace controller: %w", err)
	}
	tenants, err := tenant.New(base)
	if err != nil {
		return fmt.Errorf("tenant controller: %w", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { namespaces.Run(ctx, namespaceWorkers) })
	wg.Go(func() { tenants.Run(ctx, tenantWorkers) })
	wg.Wait()
	return nil
}
