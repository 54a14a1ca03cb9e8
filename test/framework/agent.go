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
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// NodeConfig is a client configuration for a node agent's identity.
func (s *Server) NodeConfig(name string) *rest.Config {
	return s.ClientConfig(pki.ClientIdentity{
		User: "system:node:" + name, Groups: []string{rbac.NodesGroup}, Tenant: string(tenancy.System),
	})
}

// Agent is a node agent running in the test process.
type Agent struct {
	cancel context.CancelFunc
	done   chan error
}

// StartAgent runs a node agent with o against s until Stop or the end of
// the test. o.Kubeconfig is set to a node identity's kubeconfig, and the
// health endpoint is off unless o sets one.
func (s *Server) StartAgent(t testing.TB, o *agent.Options) *Agent {
	t.Helper()
	o.Kubeconfig = KubeconfigFile(t, s.NodeConfig("agent"))
	ctx, cancel := context.WithCancel(context.Background())
	a := &Agent{cancel: cancel, done: make(chan error, 1)}
	go func() { a.done <- o.Run(ctx) }()
	t.Cleanup(func() { a.Stop(t) })
	return a
}

// Stop stops the agent and waits for it to finish.
func (a *Agent) Stop(t testing.TB) {
	t.Helper()
	if a.done == nil {
		return
	}
	a.cancel()
	select {
	case err := <-a.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("agent: %v", err)
		}
	case <-time.After(time.Minute):
		t.Error("agent did not stop within a minute")
	}
	a.done = nil
}
