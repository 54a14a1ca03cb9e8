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

// Package nsenter runs code in another network namespace without moving
// the process: a socket, a device or a child process made there stays
// there, while the rest of the process keeps its own namespace.
package nsenter

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// Path runs fn on an OS thread in the network namespace at path (a file
// such as /run/netns/<name> or /proc/<pid>/ns/net).
func Path(path string, fn func() error) error {
	target, err := netns.GetFromPath(path)
	if err != nil {
		return fmt.Errorf("opening network namespace %s: %w", path, err)
	}
	defer target.Close()
	return Do(target, path, fn)
}

// Do runs fn on an OS thread in the network namespace target; name names
// it in errors. Netlink calls made by fn, devices it creates, sockets it
// opens and processes it starts all belong to target.
//
// The thread goes back to the Go scheduler afterwards rather than ending,
// since a child started with Pdeathsig dies with the thread that started
// it. When it cannot be switched back it stays locked, and the runtime
// ends it with the goroutine rather than reuse it in the wrong namespace.
func Do(target netns.NsHandle, name string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("getting the current network namespace: %w", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(target); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("entering network namespace %s: %w", name, err)
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("leaving network namespace %s: %w", name, err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}
