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

// Package leaderelection lets several replicas of a component run while
// one works: the scheduler and the controller manager elect a leader
// through a Lease in the system tenant, as their Kubernetes namesakes do.
package leaderelection

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"

	arcclient "github.com/arcturus-cloud/arcturus/pkg/client"
)

// Options configure the election. The defaults are shorter than
// Kubernetes' (15 s lease) so that a standby takes over within 15 seconds
// of a leader dying without handing its lease back. client-go polls every
// RetryPeriod with up to 120 % jitter, so a standby may notice the last
// renewal up to 2.2 RetryPeriods late and notice the expiry as late again:
// the worst case is LeaseDuration + 4.4 × RetryPeriod, 12.4 s here.
type Options struct {
	Enabled       bool
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
	// Namespace and Name locate the Lease in the system tenant.
	Namespace, Name string
}

// NewOptions returns the defaults for a component whose Lease is name.
func NewOptions(name string) *Options {
	return &Options{
		Enabled: true, LeaseDuration: 8 * time.Second, RenewDeadline: 6 * time.Second, RetryPeriod: time.Second,
		Namespace: metav1.NamespaceSystem, Name: name,
	}
}

// AddFlags adds the election's flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.Enabled, "leader-elect", o.Enabled, "Elect a leader through a Lease before working, so that several replicas can run.")
	fs.DurationVar(&o.LeaseDuration, "leader-elect-lease-duration", o.LeaseDuration, "How long a standby waits after the leader's last renewal before taking over.")
	fs.DurationVar(&o.RenewDeadline, "leader-elect-renew-deadline", o.RenewDeadline, "How long the leader keeps trying to renew before it stops working.")
	fs.DurationVar(&o.RetryPeriod, "leader-elect-retry-period", o.RetryPeriod, "How often candidates try to acquire or renew the Lease.")
	fs.StringVar(&o.Name, "leader-elect-resource-name", o.Name, "Name of the Lease in the system tenant's kube-system namespace.")
}

// Identity names this replica: the host name plus a unique suffix, so that
// two replicas on one machine differ.
func Identity() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return host + "_" + string(uuid.NewUUID())
}

// Run calls work while this replica leads, until ctx ends. When it loses
// the lead, work's context is cancelled and, once work has returned, the
// replica stands for election again. With elections disabled, work simply
// runs.
func (o *Options) Run(ctx context.Context, config *rest.Config, identity string, work func(context.Context)) error {
	if !o.Enabled {
		work(ctx)
		return nil
	}
	client, err := kubernetes.NewForConfig(arcclient.PreferProtobuf(config))
	if err != nil {
		return fmt.Errorf("leader election client: %w", err)
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: o.Namespace, Name: o.Name},
		Client:     client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: identity},
	}
	logger := klog.FromContext(ctx).WithValues("lease", o.Namespace+"/"+o.Name, "identity", identity)
	// working is done when work has returned: client-go does not wait for
	// it, and a replica that stood again before the last term's work
	// ended would run it twice.
	var working sync.WaitGroup
	for ctx.Err() == nil {
		elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock: lock, LeaseDuration: o.LeaseDuration, RenewDeadline: o.RenewDeadline, RetryPeriod: o.RetryPeriod,
			// A replica that stops on SIGTERM hands over at once.
			ReleaseOnCancel: true,
			Name:            o.Name,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(ctx context.Context) {
					logger.Info("Leading")
					working.Add(1)
					defer working.Done()
					work(ctx)
				},
				OnStoppedLeading: func() { logger.Info("Stopped leading") },
				OnNewLeader: func(leader string) {
					if leader != identity {
						logger.Info("Following", "leader", leader)
					}
				},
			},
		})
		if err != nil {
			return fmt.Errorf("leader election: %w", err)
		}
		elector.Run(ctx)
		working.Wait()
	}
	return nil
}
