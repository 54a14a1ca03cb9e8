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

package framework

import (
	"context"
	"errors"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/arcturus-cloud/arcturus/pkg/agent"
	"github.com/arcturus-cloud/arcturus/pkg/authorization/rbac"
	"github.com/arcturus-cloud/arcturus/pkg/pki"
	"github.com/arcturus-cloud/arcturus/pkg/scheduler"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// NodeConfig is a client configuration for a node agent's identity.
func (s *Server) NodeConfig(name string) *rest.Config {
	return s.ClientConfig(pki.ClientIdentity{
		User: "system:node:" + name, Groups: []string{rbac.NodesGroup}, Tenant: string(tenancy.System),
	})
}

// StartAgent runs a node agent with o against s until Stop or the end of
// the test. o.Kubeconfig is set to a node identity's kubeconfig, and the
// health endpoint is off unless o sets one.
func (s *Server) StartAgent(t testing.TB, o *agent.Options) *Component {
	t.Helper()
	o.Kubeconfig = KubeconfigFile(t, s.NodeConfig("agent"))
	return startComponent(t, "agent", o.Run)
}

// StartScheduler runs a scheduler with o against s, as a system master,
// until Stop or the end of the test. Its health endpoint is off unless o
// sets one.
func (s *Server) StartScheduler(t testing.TB, o *scheduler.Options) *Component {
	t.Helper()
	admin := []*rest.Config{s.AdminConfig()}
	return startComponent(t, "scheduler", func(ctx context.Context) error { return o.RunWith(ctx, admin, admin) })
}

// Component is a region component running in the test process.
type Component struct {
	name   string
	cancel context.CancelFunc
	done   chan error
}

func startComponent(t testing.TB, name string, run func(context.Context) error) *Component {
	ctx, cancel := context.WithCancel(context.Background())
	c := &Component{name: name, cancel: cancel, done: make(chan error, 1)}
	go func() { c.done <- run(ctx) }()
	t.Cleanup(func() { c.Stop(t) })
	return c
}

// Stop stops the component and waits for it to finish.
func (c *Component) Stop(t testing.TB) {
	t.Helper()
	if c.done == nil {
		return
	}
	c.cancel()
	select {
	case err := <-c.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("%s: %v", c.name, err)
		}
	case <-time.After(time.Minute):
		t.Errorf("%s did not stop within a minute", c.name)
	}
	c.done = nil
}
