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
	"slices"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func TestSetDefaultTolerations(t *testing.T) {
	def := func(key string) string { return key + "/NoExecute/300" }
	for _, tc := range []struct {
		name  string
		given []corev1.Toleration
		want  []string
	}{
		{"none", nil, []string{def(corev1.TaintNodeNotReady), def(corev1.TaintNodeUnreachable)}},
		{"unreachable given", []corev1.Toleration{
			{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](5)},
		}, []string{corev1.TaintNodeUnreachable + "/NoExecute/5", def(corev1.TaintNodeNotReady)}},
		{"every effect of not-ready", []corev1.Toleration{
			{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists},
		}, []string{corev1.TaintNodeNotReady + "//forever", def(corev1.TaintNodeUnreachable)}},
		{"everything tolerated", []corev1.Toleration{{Operator: corev1.TolerationOpExists}}, []string{"//forever"}},
		{"NoSchedule only does not count", []corev1.Toleration{
			{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		}, []string{corev1.TaintNodeUnreachable + "/NoSchedule/forever", def(corev1.TaintNodeNotReady), def(corev1.TaintNodeUnreachable)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := &PodSpec{}
			spec.Tolerations = tc.given
			SetDefaultTolerations(spec)
			var got []string
			for _, tol := range spec.Tolerations {
				seconds := "forever"
				if tol.TolerationSeconds != nil {
					seconds = strconv.FormatInt(*tol.TolerationSeconds, 10)
				}
				if tol.TolerationSeconds != nil && tol.Operator != corev1.TolerationOpExists {
					t.Errorf("toleration %+v", tol)
				}
				got = append(got, tol.Key+"/"+string(tol.Effect)+"/"+seconds)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("tolerations %q, want %q", got, tc.want)
			}
		})
	}
}
