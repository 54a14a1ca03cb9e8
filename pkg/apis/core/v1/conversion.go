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

package v1

import (
	"fmt"
	"net/url"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"
)

// addQueryConversions teaches the scheme to read the options of the pod
// subresources that take them from the query string (logs, exec, attach,
// port-forward), as kube-apiserver's generated conversions do.
func addQueryConversions(scheme *runtime.Scheme) error {
	pairs := []struct {
		into runtime.Object
		fn   func(q query, into any) error
	}{
		{&corev1.PodLogOptions{}, func(q query, into any) error {
			o := into.(*corev1.PodLogOptions)
			*o = corev1.PodLogOptions{}
			o.Container = q.str("container")
			o.Stream = q.strPtr("stream")
			var err error
			if o.Follow, err = q.boolean("follow"); err != nil {
				return err
			}
			if o.Previous, err = q.boolean("previous"); err != nil {
				return err
			}
			if o.Timestamps, err = q.boolean("timestamps"); err != nil {
				return err
			}
			if o.InsecureSkipTLSVerifyBackend, err = q.boolean("insecureSkipTLSVerifyBackend"); err != nil {
				return err
			}
			if o.SinceSeconds, err = q.int64Ptr("sinceSeconds"); err != nil {
				return err
			}
			if o.TailLines, err = q.int64Ptr("tailLines"); err != nil {
				return err
			}
			if o.LimitBytes, err = q.int64Ptr("limitBytes"); err != nil {
				return err
			}
			if s := q.str("sinceTime"); s != "" {
				t := &metav1.Time{}
				if err := t.UnmarshalQueryParameter(s); err != nil {
					return fmt.Errorf("sinceTime: %w", err)
				}
				o.SinceTime = t
			}
			return nil
		}},
		{&corev1.PodExecOptions{}, func(q query, into any) error {
			o := into.(*corev1.PodExecOptions)
			*o = corev1.PodExecOptions{Container: q.str("container"), Command: q["command"]}
			return q.streams(&o.Stdin, &o.Stdout, &o.Stderr, &o.TTY)
		}},
		{&corev1.PodAttachOptions{}, func(q query, into any) error {
			o := into.(*corev1.PodAttachOptions)
			*o = corev1.PodAttachOptions{Container: q.str("container")}
			return q.streams(&o.Stdin, &o.Stdout, &o.Stderr, &o.TTY)
		}},
		{&corev1.PodPortForwardOptions{}, func(q query, into any) error {
			o := into.(*corev1.PodPortForwardOptions)
			*o = corev1.PodPortForwardOptions{}
			for _, p := range q["ports"] {
				port, err := strconv.ParseInt(p, 10, 32)
				if err != nil {
					return fmt.Errorf("ports: %w", err)
				}
				o.Ports = append(o.Ports, int32(port))
			}
			return nil
		}},
	}
	for _, p := range pairs {
		fn := p.fn
		if err := scheme.AddConversionFunc((*url.Values)(nil), p.into, func(a, b any, _ conversion.Scope) error {
			return fn(query(*a.(*url.Values)), b)
		}); err != nil {
			return err
		}
	}
	return nil
}

// query reads typed values from a query string.
type query url.Values

func (q query) str(key string) string {
	if v := q[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (q query) strPtr(key string) *string {
	if v := q[key]; len(v) > 0 {
		return &v[0]
	}
	return nil
}

func (q query) boolean(key string) (bool, error) {
	s := q.str(key)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("%s: %w", key, err)
	}
	return b, nil
}

func (q query) int64Ptr(key string) (*int64, error) {
	s := q.str(key)
	if s == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return &n, nil
}

func (q query) streams(stdin, stdout, stderr, tty *bool) error {
	for key, dst := range map[string]*bool{"stdin": stdin, "stdout": stdout, "stderr": stderr, "tty": tty} {
		v, err := q.boolean(key)
		if err != nil {
			return err
		}
		*dst = v
	}
	return nil
}
