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

// Package tenantquota is the tenant quota controller, Kubernetes' resource
// quota controller for Tenants: it recounts status.used of every tenant
// with a quota from the tenant's objects, in all of its namespaces, and
// mirrors spec.quota into status.hard. Admission (pkg/admission/tenantquota)
// charges new objects to status.used; only this controller gives back what
// deleted objects and finished pods held. It recounts a tenant when its
// quota changes, every resync period, and a moment after one of its counted
// objects is deleted or one of its pods finishes (replenishment).
package tenantquota

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	quota "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	usage "github.com/arcturus-cloud/arcturus/pkg/admission/tenantquota"
	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/internal/tenantclient"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

const (
	// DefaultResyncPeriod is how often every tenant with a quota is
	// recounted, whatever happened.
	DefaultResyncPeriod = 30 * time.Second
	// DefaultWorkers recount tenants in parallel.
	DefaultWorkers = 2

	name = "tenant-quota-controller"
	// replenishDelay gathers the deletions of a burst (a namespace
	// emptied, a Deployment scaled down) into one recount of the tenant.
	replenishDelay = time.Second
	// listPageSize bounds what one recount holds in memory at once.
	listPageSize = 500
)

var tenantsResource = tenancyv1.SchemeGroupVersion.WithResource("tenants")

// Config configures the controller. Zero values take the defaults.
type Config struct {
	// Base is the API server's address and a system master identity, with
	// no /tenants/ prefix.
	Base *rest.Config
	// ResyncPeriod is how often every tenant with a quota is recounted.
	ResyncPeriod time.Duration
	// Workers recount tenants in parallel.
	Workers int
}

// Controller is the tenant quota controller.
type Controller struct {
	cfg     Config
	clients *tenantclient.Factory
	http    *http.Client
	tenants dynamic.ResourceInterface
	core    *client.Core
	// wildcard reads object metadata of every tenant at once.
	wildcard  metadata.Interface
	resources *resourceMap
	queue     workqueue.TypedRateLimitingInterface[string]
	now       func() time.Time

	mu sync.Mutex
	// quotas are the quotas of tenants that have one, by tenant name.
	quotas map[string]corev1.ResourceList
	// watched are the resources whose deletions are watched, with the
	// number of tenants whose quota counts them.
	watched map[schema.GroupResource]*replenisher
	// ctx is Run's, for the watches that tenants start; nil before Run.
	ctx context.Context
}

// New returns a controller for the server cfg.Base addresses.
func New(cfg Config) (*Controller, error) {
	if cfg.Base == nil {
		return nil, errors.New("tenant quota controller: no client configuration")
	}
	if cfg.ResyncPeriod < 0 || cfg.Workers < 0 {
		return nil, errors.New("tenant quota controller: the resync period and workers must not be negative")
	}
	if cfg.ResyncPeriod == 0 {
		cfg.ResyncPeriod = DefaultResyncPeriod
	}
	if cfg.Workers == 0 {
		cfg.Workers = DefaultWorkers
	}
	clients, err := tenantclient.New(cfg.Base)
	if err != nil {
		return nil, fmt.Errorf("tenant quota controller: %w", err)
	}
	hc, err := rest.HTTPClientFor(cfg.Base)
	if err != nil {
		return nil, fmt.Errorf("tenant quota controller: building HTTP client: %w", err)
	}
	// Tenants are read and written through the dynamic client, as the
	// tenant controller does, so that no generated clientset is needed.
	system, err := dynamic.NewForConfigAndClient(clients.Config(tenancy.System), hc)
	if err != nil {
		return nil, fmt.Errorf("tenant quota controller: %w", err)
	}
	core, err := client.NewCore(cfg.Base, hc)
	if err != nil {
		return nil, fmt.Errorf("tenant quota controller: %w", err)
	}
	wildcard, err := metadata.NewForConfigAndClient(clients.Config(tenancy.Wildcard), hc)
	if err != nil {
		return nil, fmt.Errorf("tenant quota controller: %w", err)
	}
	disc, err := clients.Discovery(tenancy.System)
	if err != nil {
		return nil, fmt.Errorf("tenant quota controller: %w", err)
	}
	return &Controller{
		cfg: cfg, clients: clients, http: hc, tenants: system.Resource(tenantsResource), core: core, wildcard: wildcard,
		resources: newResourceMap(disc, cfg.ResyncPeriod),
		// A tenant that fails to count is tried again with back-off, but
		// never less often than it is recounted anyway.
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedWithMaxWaitRateLimiter(workqueue.DefaultTypedControllerRateLimiter[string](), cfg.ResyncPeriod),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: name}),
		now:     time.Now,
		quotas:  map[string]corev1.ResourceList{},
		watched: map[schema.GroupResource]*replenisher{},
	}, nil
}

// Run recounts tenants until ctx ends and its goroutines have returned. It
// may be called once.
func (c *Controller) Run(ctx context.Context) {
	logger := klog.FromContext(ctx).WithName(name)
	ctx = klog.NewContext(ctx, logger)
	c.mu.Lock()
	c.ctx = ctx
	c.mu.Unlock()

	lw := tenancy.ListWatchOnly(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return c.tenants.List(ctx, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			return c.tenants.Watch(ctx, opts)
		},
	})
	// The reflector's resync is the periodic recount: it hands every
	// tenant with a quota to the queue again.
	reflector := cache.NewReflectorWithOptions(lw, &unstructured.Unstructured{}, &tenantStore{c: c}, cache.ReflectorOptions{
		Name: name, ResyncPeriod: c.cfg.ResyncPeriod, Logger: &logger,
	})

	logger.Info("Starting controller", "resyncPeriod", c.cfg.ResyncPeriod, "workers", c.cfg.Workers)
	var wg sync.WaitGroup
	wg.Go(func() { reflector.RunWithContext(ctx) })
	for range c.cfg.Workers {
		wg.Go(func() {
			for c.processNext(ctx) {
			}
		})
	}
	<-ctx.Done()
	c.queue.ShutDown()
	wg.Wait()
	c.stopWatches()
	logger.Info("Stopped controller")
}

func (c *Controller) processNext(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	logger := klog.FromContext(ctx).WithValues("tenant", key)
	err := c.sync(klog.NewContext(ctx, logger), key)
	switch {
	case err == nil:
		c.queue.Forget(key)
	case ctx.Err() != nil:
	case apierrors.IsConflict(err):
		// Admission charged the tenant while its objects were counted;
		// count again.
		logger.V(4).Info("Tenant changed while counting; recounting")
		c.queue.AddRateLimited(key)
	default:
		logger.Error(err, "Recounting quota usage failed; retrying")
		c.queue.AddRateLimited(key)
	}
	return true
}

// sync recounts the usage of one tenant and writes it, with spec.quota as
// status.hard, if either changed. The write is conditional on the tenant
// read before counting: a charge made meanwhile fails it, and the tenant is
// counted again.
func (c *Controller) sync(ctx context.Context, tenantName string) error {
	if tenantName == string(tenancy.System) {
		return nil
	}
	u, err := c.tenants.Get(ctx, tenantName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("getting tenant: %w", err)
	}
	t, err := fromUnstructured(u)
	if err != nil {
		return err
	}
	// A deleted tenant refuses new objects; its usage only goes down.
	if t.DeletionTimestamp != nil {
		return nil
	}
	hard := t.Spec.Quota
	var used corev1.ResourceList
	if len(hard) > 0 {
		if used, err = c.usage(ctx, tenancy.Name(tenantName), hard); err != nil {
			return err
		}
	}
	if quota.Equals(used, t.Status.Used) && quota.Equals(hard, t.Status.Hard) {
		return nil
	}
	t.Status.Hard = hard.DeepCopy()
	t.Status.Used = used
	u, err = toUnstructured(t)
	if err != nil {
		return err
	}
	if _, err := c.tenants.UpdateStatus(ctx, u, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("updating tenant status: %w", err)
	}
	klog.FromContext(ctx).V(2).Info("Updated quota usage", "used", usage.PrettyPrint(used))
	return nil
}

// usage counts what tenant t uses of each resource of hard; resources no
// object uses are zero, so that admission knows they were counted.
func (c *Controller) usage(ctx context.Context, t tenancy.Name, hard corev1.ResourceList) (corev1.ResourceList, error) {
	used := corev1.ResourceList{}
	for name := range hard {
		used[name] = resource.MustParse("0")
	}
	counted := map[schema.GroupResource]int64{}
	if countsPods(hard) {
		pods, n, err := c.podUsage(ctx, t)
		if err != nil {
			return nil, err
		}
		used = quota.Add(used, pods)
		counted[usage.PodsResource] = n
	}
	for name := range hard {
		gr, ok := usage.CountedResource(name)
		if !ok {
			continue
		}
		n, done := counted[gr]
		if !done {
			var err error
			if n, err = c.count(ctx, t, gr); err != nil {
				return nil, err
			}
			counted[gr] = n
		}
		used[name] = *resource.NewQuantity(n, resource.DecimalSI)
	}
	return quota.Mask(used, quota.ResourceNames(hard)), nil
}

// countsPods tells whether a quota needs the tenant's pods listed.
func countsPods(hard corev1.ResourceList) bool {
	for name := range hard {
		if gr, ok := usage.CountedResource(name); usage.IsPodResource(name) || ok && gr == usage.PodsResource {
			return true
		}
	}
	return false
}

// podUsage adds up what the pods of tenant t take, and counts them.
func (c *Controller) podUsage(ctx context.Context, t tenancy.Name) (corev1.ResourceList, int64, error) {
	total := corev1.ResourceList{}
	var n int64
	now := c.now()
	opts := metav1.ListOptions{Limit: listPageSize}
	for {
		list, err := c.core.ListPods(ctx, t, metav1.NamespaceAll, opts)
		if err != nil {
			return nil, 0, fmt.Errorf("listing pods: %w", err)
		}
		for i := range list.Items {
			total = quota.Add(total, usage.PodUsage(&list.Items[i], now))
		}
		n += int64(len(list.Items))
		if list.Continue == "" {
			return total, n, nil
		}
		opts.Continue = list.Continue
	}
}

// count counts the objects of gr in tenant t. A resource the server does
// not serve to tenants has none.
func (c *Controller) count(ctx context.Context, t tenancy.Name, gr schema.GroupResource) (int64, error) {
	gvr, ok, err := c.resources.lookup(ctx, gr)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, nil
	}
	md, err := metadata.NewForConfigAndClient(c.clients.Config(t), c.http)
	if err != nil {
		return 0, err
	}
	var n int64
	opts := metav1.ListOptions{Limit: listPageSize}
	for {
		list, err := md.Resource(gvr).List(ctx, opts)
		if apierrors.IsNotFound(err) {
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("listing %s: %w", gr, err)
		}
		n += int64(len(list.Items))
		// The server counts what is left when it can, which saves the
		// pages.
		if rest := list.RemainingItemCount; rest != nil {
			return n + *rest, nil
		}
		if list.Continue == "" {
			return n, nil
		}
		opts.Continue = list.Continue
	}
}

func fromUnstructured(u *unstructured.Unstructured) (*tenancyv1.Tenant, error) {
	t := &tenancyv1.Tenant{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, t); err != nil {
		return nil, fmt.Errorf("decoding tenant %s: %w", u.GetName(), err)
	}
	return t, nil
}

func toUnstructured(t *tenancyv1.Tenant) (*unstructured.Unstructured, error) {
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(t)
	if err != nil {
		return nil, fmt.Errorf("encoding tenant %s: %w", t.Name, err)
	}
	u := &unstructured.Unstructured{Object: obj}
	u.SetGroupVersionKind(tenancyv1.SchemeGroupVersion.WithKind("Tenant"))
	return u, nil
}

// quotaResources are the resources whose objects a quota counts, pods
// included when it limits anything pods use.
func quotaResources(hard corev1.ResourceList) map[schema.GroupResource]bool {
	out := map[schema.GroupResource]bool{}
	for name := range hard {
		if gr, ok := usage.CountedResource(name); ok {
			out[gr] = true
		}
		if usage.IsPodResource(name) {
			out[usage.PodsResource] = true
		}
	}
	return out
}

// tenantOf is the tenant an object's annotation records.
func tenantOf(obj metav1.Object) string {
	return tenancy.OfObject(obj.GetAnnotations()).String()
}
