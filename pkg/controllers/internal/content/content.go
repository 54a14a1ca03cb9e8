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

// Package content finds, deletes and counts the objects a tenant or a
// namespace holds, for every resource that discovery reports. It knows no
// kinds of its own, so resources added later are emptied too.
package content

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// Resource is a resource whose objects can be listed and deleted.
type Resource struct {
	schema.GroupVersionResource
	Namespaced bool
	// DeleteCollection tells whether one request deletes every object;
	// otherwise they are listed and deleted one by one.
	DeleteCollection bool
}

// Discover returns the deletable resources a tenant serves, in the preferred
// version of each group. When some groups fail discovery it returns the
// resources of the others together with an error: the caller may delete what
// it knows of, but must not conclude that nothing remains.
func Discover(ctx context.Context, d *discovery.DiscoveryClient) ([]Resource, error) {
	lists, discoveryErr := d.ServerPreferredResourcesWithContext(ctx)
	if discoveryErr != nil && !discovery.IsGroupDiscoveryFailedError(discoveryErr) {
		return nil, fmt.Errorf("discovering resources: %w", discoveryErr)
	}
	resources, selectErr := Select(lists)
	if discoveryErr != nil {
		discoveryErr = fmt.Errorf("discovering resources: %w", discoveryErr)
	}
	return resources, errors.Join(discoveryErr, selectErr)
}

// Select picks from discovery lists the resources that support list and
// delete or deletecollection, sorted by group, version and name. It leaves
// out subresources, which go with their objects, and system-scoped
// resources, which every tenant sees but none owns. Lists whose group version
// does not parse are skipped and reported in the error.
func Select(lists []*metav1.APIResourceList) ([]Resource, error) {
	return pick(lists, func(gr schema.GroupResource, verbs []string) bool {
		return !tenancy.SystemScopedResources[gr] && slices.Contains(verbs, "list") &&
			(slices.Contains(verbs, "delete") || slices.Contains(verbs, "deletecollection"))
	})
}

// Watchable picks from discovery lists the resources whose objects can be
// listed, watched and deleted one by one, system-scoped ones included, sorted
// like Select: what a controller that follows every object of a region (the
// garbage collector) watches. Subresources are left out and bad group
// versions reported as Select does.
func Watchable(lists []*metav1.APIResourceList) ([]Resource, error) {
	return pick(lists, func(_ schema.GroupResource, verbs []string) bool {
		return slices.Contains(verbs, "list") && slices.Contains(verbs, "watch") && slices.Contains(verbs, "delete")
	})
}

func pick(lists []*metav1.APIResourceList, keep func(gr schema.GroupResource, verbs []string) bool) ([]Resource, error) {
	var out []Resource
	var errs []error
	for _, list := range lists {
		if list == nil {
			continue
		}
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			errs = append(errs, fmt.Errorf("discovery group version %q: %w", list.GroupVersion, err))
			continue
		}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") || !keep(gv.WithResource(r.Name).GroupResource(), r.Verbs) {
				continue
			}
			collection := slices.Contains(r.Verbs, "deletecollection")
			out = append(out, Resource{GroupVersionResource: gv.WithResource(r.Name), Namespaced: r.Namespaced, DeleteCollection: collection})
		}
	}
	slices.SortFunc(out, func(a, b Resource) int {
		return cmp.Or(cmp.Compare(a.Group, b.Group), cmp.Compare(a.Version, b.Version), cmp.Compare(a.Resource, b.Resource))
	})
	return out, errors.Join(errs...)
}

// Namespaced returns the namespaced resources of rs; with false, the others.
func Namespaced(rs []Resource, namespaced bool) []Resource {
	return slices.DeleteFunc(slices.Clone(rs), func(r Resource) bool { return r.Namespaced != namespaced })
}

// Delete asks for the deletion of every object of resources in namespace
// ("" for tenant-wide resources). Objects with finalizers or grace periods
// may outlive the call; Remaining tells when they are gone. Dependents are
// left to the garbage collector, as kubectl does by default.
func Delete(ctx context.Context, client dynamic.Interface, resources []Resource, namespace string) error {
	background := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &background}
	var errs []error
	for _, r := range resources {
		ri := client.Resource(r.GroupVersionResource).Namespace(namespace)
		var err error
		if r.DeleteCollection {
			err = ri.DeleteCollection(ctx, opts, metav1.ListOptions{})
		} else {
			err = deleteEach(ctx, ri, opts)
		}
		// NotFound: the namespace, or the resource, went away meanwhile.
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting %s: %w", r.GroupResource(), err))
		}
	}
	return errors.Join(errs...)
}

func deleteEach(ctx context.Context, ri dynamic.ResourceInterface, opts metav1.DeleteOptions) error {
	list, err := ri.List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	var errs []error
	for _, item := range list.Items {
		if item.GetDeletionTimestamp() != nil {
			continue
		}
		if err := ri.Delete(ctx, item.GetName(), opts); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Counts are the numbers of objects left per resource.
type Counts map[schema.GroupResource]int64

// String describes the counts the way Kubernetes' namespace conditions do,
// in a stable order.
func (c Counts) String() string {
	parts := make([]string, 0, len(c))
	for gr, n := range c {
		parts = append(parts, fmt.Sprintf("%s has %d resource instances", gr, n))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// Remaining counts the objects of resources left in namespace; with
// namespace "" it counts namespaced resources across every namespace of the
// tenant the client addresses. Resources with no objects are left out.
func Remaining(ctx context.Context, client dynamic.Interface, resources []Resource, namespace string) (Counts, error) {
	counts := Counts{}
	var errs []error
	for _, r := range resources {
		// One object is enough to know; the server counts the rest.
		list, err := client.Resource(r.GroupVersionResource).Namespace(namespace).List(ctx, metav1.ListOptions{Limit: 1})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("listing %s: %w", r.GroupResource(), err))
			continue
		}
		n := int64(len(list.Items))
		if rest := list.GetRemainingItemCount(); rest != nil {
			n += *rest
		} else if list.GetContinue() != "" {
			// The server could not count what is left, but something is.
			n++
		}
		if n > 0 {
			counts[r.GroupResource()] = n
		}
	}
	return counts, errors.Join(errs...)
}
