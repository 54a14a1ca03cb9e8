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

package machine

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// inNetNS runs start on a thread in the named network namespace (this
// process's when name is empty), so that a process it starts lives there.
//
// The thread returns to the Go scheduler afterwards rather than ending,
// as children die with the thread that started them (Pdeathsig).
func inNetNS(name string, start func() error) error {
	if name == "" {
		return start()
	}
	target, err := netns.GetFromName(name)
	if err != nil {
		return fmt.Errorf("opening network namespace %s: %w", name, err)
	}
	defer target.Close()

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
		serr := start()
		if err := netns.Set(orig); err != nil {
			// The thread stays locked, so the runtime ends it with the
			// goroutine instead of reusing it in the wrong namespace;
			// what start started dies with it.
			errc <- errors.Join(serr, fmt.Errorf("leaving network namespace %s: %w", name, err))
			return
		}
		runtime.UnlockOSThread()
		errc <- serr
	}()
	return <-errc
}
