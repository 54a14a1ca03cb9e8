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
	"github.com/arcturus-cloud/arcturus/pkg/nsenter"
)

// inNetNS runs start on a thread in the named network namespace (this
// process's when name is empty), so that a process it starts lives there.
func inNetNS(name string, start func() error) error {
	if name == "" {
		return start()
	}
	return nsenter.Path("/run/netns/"+name, start)
}
