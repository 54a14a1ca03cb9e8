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
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	scheme.AddTypeDefaultingFunc(&Pod{}, func(obj interface{}) { SetDefaultsPod(obj.(*Pod)) })
	scheme.AddTypeDefaultingFunc(&PodList{}, func(obj interface{}) {
		for i := range obj.(*PodList).Items {
			SetDefaultsPod(&obj.(*PodList).Items[i])
		}
	})
	scheme.AddTypeDefaultingFunc(&corev1.Namespace{}, func(obj interface{}) { SetDefaultsNamespace(obj.(*corev1.Namespace)) })
	scheme.AddTypeDefaultingFunc(&corev1.Secret{}, func(obj interface{}) { SetDefaultsSecret(obj.(*corev1.Secret)) })
	return nil
}

// SetDefaultsNamespace fills what kube-apiserver fills on a namespace.
func SetDefaultsNamespace(ns *corev1.Namespace) {
	if ns.Status.Phase == "" {
		ns.Status.Phase = corev1.NamespaceActive
	}
}

// SetDefaultsSecret defaults the secret type to Opaque.
func SetDefaultsSecret(s *corev1.Secret) {
	if s.Type == "" {
		s.Type = corev1.SecretTypeOpaque
	}
}
