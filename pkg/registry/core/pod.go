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

package core

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/util/dryrun"

	arcv1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/apis/core/validation"
	"github.com/arcturus-cloud/arcturus/pkg/printers"
	"github.com/arcturus-cloud/arcturus/pkg/registry/strategy"
	"github.com/arcturus-cloud/arcturus/pkg/registry/tenantstore"
)

// podFields are a pod's selectable fields.
func podFields(pod *arcv1.Pod) fields.Set {
	set := generic.ObjectMetaFieldsSet(&pod.ObjectMeta, true)
	set["spec.nodeName"] = pod.Spec.NodeName
	set["spec.restartPolicy"] = string(pod.Spec.RestartPolicy)
	set["spec.schedulerName"] = pod.Spec.SchedulerName
	set["spec.serviceAccountName"] = pod.Spec.ServiceAccountName
	set["spec.hostNetwork"] = fmt.Sprint(pod.Spec.HostNetwork)
	set["status.phase"] = string(pod.Status.Phase)
	set["status.podIP"] = pod.Status.PodIP
	set["status.nominatedNodeName"] = pod.Status.NominatedNodeName
	return set
}

func podAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	pod, ok := obj.(*arcv1.Pod)
	if !ok {
		return nil, nil, fmt.Errorf("not a pod: %T", obj)
	}
	return pod.Labels, podFields(pod), nil
}

// podPrepareForCreate resets the status and adds the default NoExecute
// tolerations. Those are added here rather than by the scheme's defaulting,
// which runs on updates too: Kubernetes adds them in admission, on create.
func podPrepareForCreate(_ context.Context, obj runtime.Object) {
	pod := obj.(*arcv1.Pod)
	pod.Status = arcv1.PodStatus{PodStatus: corev1.PodStatus{Phase: corev1.PodPending}}
	arcv1.SetDefaultTolerations(&pod.Spec)
}

// PodStorage is the pod resource and its subresources.
type PodStorage struct {
	Pod     *tenantstore.REST
	Status  *tenantstore.StatusREST
	Binding *BindingREST
}

func newPodStorage(typer runtime.ObjectTyper, optsGetter generic.RESTOptionsGetter) (*PodStorage, error) {
	s := strategy.New(typer, true, strategy.Funcs{
		Validate:         strategy.Validator(validation.ValidatePod),
		ValidateUpdate:   strategy.UpdateValidator(validation.ValidatePodUpdate),
		PrepareForCreate: podPrepareForCreate,
	}).WithStatus("v1")
	pods, err := tenantstore.NewREST(tenantstore.Kind{
		Resource:   arcv1.Resource("pods"),
		Singular:   "pod",
		New:        func() runtime.Object { return &arcv1.Pod{} },
		NewList:    func() runtime.Object { return &arcv1.PodList{} },
		Strategy:   podStrategy{s},
		Attrs:      podAttrs,
		Table:      printers.NewPodTableConvertor(),
		ShortNames: []string{"po"},
		Categories: []string{"all"},
	}, optsGetter)
	if err != nil {
		return nil, err
	}
	return &PodStorage{
		Pod:     pods,
		Status:  pods.Status(s.StatusStrategy("v1", strategy.UpdateValidator(validation.ValidatePodStatusUpdate))),
		Binding: &BindingREST{pods: pods},
	}, nil
}

// BindingREST serves pods/binding: the scheduler's way to place a pod.
type BindingREST struct {
	pods *tenantstore.REST
}

var (
	_ rest.NamedCreater                   = &BindingREST{}
	_ rest.SubresourceObjectMetaPreserver = &BindingREST{}
)

func (r *BindingREST) New() runtime.Object { return &corev1.Binding{} }

func (r *BindingREST) Destroy() {}

// PreserveRequestObjectMetaSystemFieldsOnSubresourceCreate keeps the
// binding's own metadata (annotations to copy onto the pod).
func (r *BindingREST) PreserveRequestObjectMetaSystemFieldsOnSubresourceCreate() bool { return true }

// Create binds the pod named by the binding to its target node. A pod that
// is already bound, or being deleted, is a conflict.
func (r *BindingREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	binding, ok := obj.(*corev1.Binding)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a Binding object: %T", obj))
	}
	if name != binding.Name {
		return nil, apierrors.NewBadRequest("name in URL does not match name in Binding object")
	}
	if createValidation != nil {
		if err := createValidation(ctx, binding.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	if errs := validation.ValidatePodBinding(binding); len(errs) > 0 {
		return nil, apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Binding").GroupKind(), binding.Name, errs)
	}
	key, err := r.pods.KeyFunc(ctx, binding.Name)
	if err != nil {
		return nil, err
	}
	var preconditions *storage.Preconditions
	if binding.UID != "" {
		preconditions = &storage.Preconditions{UID: &binding.UID}
	}
	err = r.pods.Storage.GuaranteedUpdate(ctx, key, &arcv1.Pod{}, false, preconditions,
		storage.SimpleUpdate(func(obj runtime.Object) (runtime.Object, error) {
			pod := obj.(*arcv1.Pod)
			if pod.DeletionTimestamp != nil {
				return nil, apierrors.NewConflict(arcv1.Resource("pods/binding"), binding.Name, fmt.Errorf("pod %s is being deleted, cannot be assigned to a host", binding.Name))
			}
			if pod.Spec.NodeName != "" {
				return nil, apierrors.NewConflict(arcv1.Resource("pods/binding"), binding.Name, fmt.Errorf("pod %s is already assigned to node %q", binding.Name, pod.Spec.NodeName))
			}
			pod.Spec.NodeName = binding.Target.Name
			for k, v := range binding.Annotations {
				if pod.Annotations == nil {
					pod.Annotations = map[string]string{}
				}
				pod.Annotations[k] = v
			}
			setPodScheduled(pod)
			return pod, nil
		}), dryrun.IsDryRun(options.DryRun), nil)
	if err != nil {
		return nil, err
	}
	return &metav1.Status{Status: metav1.StatusSuccess, Code: 201}, nil
}

func setPodScheduled(pod *arcv1.Pod) {
	cond := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodScheduled {
			pod.Status.Conditions[i] = cond
			return
		}
	}
	pod.Status.Conditions = append(pod.Status.Conditions, cond)
}

// podStrategy deletes pods gracefully, as Kubernetes does: a pod running on
// a node is marked for deletion and given its grace period to stop, and the
// node's agent deletes it for good.
type podStrategy struct {
	*strategy.Strategy
}

var _ rest.RESTGracefulDeleteStrategy = podStrategy{}

// defaultContainerAnnotation names the container kubectl picks when the
// user names none.
const defaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

// Canonicalize shows the VM of a VM pod to stock kubectl as a container:
// an ephemeral container of the VM's name, made the default one. kubectl
// logs (the serial console), attach and exec only address containers that
// the pod spec lists, and a VM pod has no other. Nothing runs it.
func (podStrategy) Canonicalize(obj runtime.Object) {
	pod := obj.(*arcv1.Pod)
	vm := pod.Spec.VirtualMachine
	if vm == nil {
		return
	}
	name := vm.Name
	if name == "" {
		name = arcv1.DefaultVirtualMachineName
	}
	if pod.Annotations[defaultContainerAnnotation] == "" {
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		pod.Annotations[defaultContainerAnnotation] = name
	}
	for _, c := range pod.Spec.EphemeralContainers {
		if c.Name == name {
			return
		}
	}
	image := vm.Image
	if image == "" && vm.Kernel != nil {
		image = vm.Kernel.Kernel
	}
	pod.Spec.EphemeralContainers = append(pod.Spec.EphemeralContainers, corev1.EphemeralContainer{
		EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: name, Image: image},
	})
}

// PrepareForUpdate keeps the ephemeral containers, which updates of the
// pod cannot change.
func (s podStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	s.Strategy.PrepareForUpdate(ctx, obj, old)
	obj.(*arcv1.Pod).Spec.EphemeralContainers = old.(*arcv1.Pod).Spec.EphemeralContainers
}

func (podStrategy) CheckGracefulDelete(_ context.Context, obj runtime.Object, options *metav1.DeleteOptions) bool {
	if options == nil {
		return false
	}
	pod := obj.(*arcv1.Pod)
	var period int64
	switch {
	case options.GracePeriodSeconds != nil:
		period = *options.GracePeriodSeconds
	case pod.Spec.TerminationGracePeriodSeconds != nil:
		period = *pod.Spec.TerminationGracePeriodSeconds
	}
	// Nothing runs an unscheduled or finished pod: delete it at once.
	if pod.Spec.NodeName == "" || pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded {
		period = 0
	}
	if period < 0 {
		period = 1
	}
	options.GracePeriodSeconds = &period
	return true
}
