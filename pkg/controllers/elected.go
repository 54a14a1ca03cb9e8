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

package controllers

import (
	"context"

	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/leaderelection"
)

// LeaseName is the Lease in the system tenant's kube-system namespace
// through which every runner of these controllers, in an API server or in
// `arcturus controller-manager`, elects the one that works.
const LeaseName = "arcturus-controller-manager"

// RunElected runs the controllers while this replica leads, until ctx
// ends.
func RunElected(ctx context.Context, base *rest.Config, opts Options, election *leaderelection.Options) error {
	return election.Run(ctx, base, leaderelection.Identity(), func(ctx context.Context) {
		if err := Run(ctx, base, opts); err != nil {
			klog.FromContext(ctx).Error(err, "Controllers failed to start")
		}
	})
}
