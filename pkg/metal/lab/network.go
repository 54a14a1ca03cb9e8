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

package lab

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"

	"github.com/vishvananda/netns"

	"github.com/arcturus-cloud/arcturus/pkg/nsenter"
)

// ip runs the ip command, naming the command line in its error.
func ip(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// createNetwork makes the lab's network namespace, with a bridge holding
// the lab's gateway address and one tap per machine on it.
func (o *Options) createNetwork(ctx context.Context, taps []string) error {
	if err := ip(ctx, "netns", "add", o.NetNS); err != nil {
		return err
	}
	in := func(args ...string) error { return ip(ctx, append([]string{"-n", o.NetNS}, args...)...) }
	steps := [][]string{
		{"link", "set", "lo", "up"},
		{"link", "add", o.Bridge, "type", "bridge"},
		{"addr", "add", o.gatewayCIDR(), "dev", o.Bridge},
		{"link", "set", o.Bridge, "up"},
	}
	for _, tap := range taps {
		steps = append(steps,
			[]string{"tuntap", "add", "dev", tap, "mode", "tap"},
			[]string{"link", "set", tap, "master", o.Bridge},
			[]string{"link", "set", tap, "up"},
		)
	}
	for _, s := range steps {
		if err := in(s...); err != nil {
			return err
		}
	}
	return nil
}

// deleteNetwork removes the namespace and everything in it; a namespace
// that is gone already is no error.
func (o *Options) deleteNetwork(ctx context.Context) error {
	if _, err := os.Stat("/run/netns/" + o.NetNS); os.IsNotExist(err) {
		return nil
	}
	return ip(ctx, "netns", "delete", o.NetNS)
}

// hostDialer dials from the network namespace host, while the process
// lives in the lab's: the region's API server listens on the host's
// loopback. A socket stays in the namespace it was made in, so only its
// creation needs a thread there.
func hostDialer(host netns.NsHandle) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var conn net.Conn
		err := nsenter.Do(host, "of the host", func() (err error) {
			conn, err = d.DialContext(ctx, network, addr)
			return err
		})
		if err != nil && conn != nil {
			conn.Close()
			conn = nil
		}
		return conn, err
	}
}
