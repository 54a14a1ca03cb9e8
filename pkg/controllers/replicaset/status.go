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

package replicaset

import (
	"context"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"

	apps "github.com/arcturus-cloud/arcturus/pkg/apis/apps/v1"
	v1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
)

// Reasons of the ReplicaFailure condition and of events, as Kubernetes'.
const (
	reasonFailedCreate     = "FailedCreate"
	reasonFailedDelete     = "FailedDelete"
	reasonSuccessfulCreate = "SuccessfulCreate"
	reasonSuccessfulDelete = "SuccessfulDelete"
)

// statusUpdateRetries is how many times a status write that failed is
// retried on a fresh read of the replica set.
const statusUpdateRetries = 1

// calculateStatus is rs's status given its active, claimed pods, the pods
// it controls that are being deleted, and the error of the last attempt to
// create or delete pods. A failure becomes the ReplicaFailure condition
// (which is how a quota refusal shows on the replica set and its
// deployment); success removes it.
func calculateStatus(rs *apps.ReplicaSet, pods, terminating []*v1.Pod, manageErr error, now time.Time) appsv1.ReplicaSetStatus {
	status := *rs.Status.DeepCopy()
	fullyLabeled, ready, available := 0, 0, 0
	template := labels.Set(rs.Spec.Template.Labels).AsSelectorPreValidated()
	for _, pod := range pods {
		if template.Matches(labels.Set(pod.Labels)) {
			fullyLabeled++
		}
		if podReady(pod) {
			ready++
			if podAvailable(pod, rs.Spec.MinReadySeconds, now) {
				available++
			}
		}
	}
	failure := condition(status, appsv1.ReplicaSetReplicaFailure)
	switch {
	case manageErr != nil && failure == nil:
		var reason string
		if diff := len(pods) - int(*rs.Spec.Replicas); diff < 0 {
			reason = reasonFailedCreate
		} else if diff > 0 {
			reason = reasonFailedDelete
		}
		status.Conditions = append(status.Conditions, appsv1.ReplicaSetCondition{
			Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(now), Reason: reason, Message: manageErr.Error(),
		})
	case manageErr == nil && failure != nil:
		status.Conditions = withoutCondition(status.Conditions, appsv1.ReplicaSetReplicaFailure)
	}
	status.Replicas = int32(len(pods))
	status.FullyLabeledReplicas = int32(fullyLabeled)
	status.ReadyReplicas = int32(ready)
	status.AvailableReplicas = int32(available)
	status.TerminatingReplicas = ptr.To(int32(len(terminating)))
	return status
}

func condition(status appsv1.ReplicaSetStatus, t appsv1.ReplicaSetConditionType) *appsv1.ReplicaSetCondition {
	for i := range status.Conditions {
		if status.Conditions[i].Type == t {
			return &status.Conditions[i]
		}
	}
	return nil
}

func withoutCondition(conds []appsv1.ReplicaSetCondition, t appsv1.ReplicaSetConditionType) []appsv1.ReplicaSetCondition {
	var out []appsv1.ReplicaSetCondition
	for _, c := range conds {
		if c.Type != t {
			out = append(out, c)
		}
	}
	return out
}

// updateStatus writes status unless rs already has it for its current
// generation, and returns the replica set as written.
func (c *Controller) updateStatus(ctx context.Context, key Key, rs *apps.ReplicaSet, status appsv1.ReplicaSetStatus) (*apps.ReplicaSet, error) {
	status.ObservedGeneration = rs.Status.ObservedGeneration
	if rs.Generation == rs.Status.ObservedGeneration && equality.Semantic.DeepEqual(rs.Status, status) {
		return rs, nil
	}
	status.ObservedGeneration = rs.Generation
	for i := 0; ; i++ {
		rs.Status = status
		updated, err := c.apps.UpdateReplicaSetStatus(ctx, key.Tenant, rs)
		if err == nil {
			return updated, nil
		}
		if i >= statusUpdateRetries {
			return nil, err
		}
		// Most likely stale: try once more on a fresh read.
		if rs, err = c.apps.GetReplicaSet(ctx, key.Tenant, key.Namespace, key.Name); err != nil {
			return nil, err
		}
	}
}
