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

package agent

import (
	"context"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/client"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// objects reads ConfigMaps and Secrets from the tenant and partition of
// the pod that refers to them.
type objects struct{ agent *Agent }

func (o objects) partitionOf(pod *v1.Pod) (*client.Core, error) {
	bp, ok := o.agent.pods.get(pod.UID)
	if !ok {
		return nil, fmt.Errorf("pod %s/%s is no longer bound here", pod.Namespace, pod.Name)
	}
	return bp.partition, nil
}

func (o objects) ConfigMap(ctx context.Context, pod *v1.Pod, name string) (*corev1.ConfigMap, error) {
	p, err := o.partitionOf(pod)
	if err != nil {
		return nil, err
	}
	cm := &corev1.ConfigMap{}
	err = p.Request(http.MethodGet, tenancy.OfObject(pod.Annotations)).Namespace(pod.Namespace).Resource("configmaps").Name(name).Do(ctx).Into(cm)
	return cm, err
}

func (o objects) Secret(ctx context.Context, pod *v1.Pod, name string) (*corev1.Secret, error) {
	p, err := o.partitionOf(pod)
	if err != nil {
		return nil, err
	}
	s := &corev1.Secret{}
	err = p.Request(http.MethodGet, tenancy.OfObject(pod.Annotations)).Namespace(pod.Namespace).Resource("secrets").Name(name).Do(ctx).Into(s)
	return s, err
}
