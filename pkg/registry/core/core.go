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

// Package core builds the storage of the core/v1 resources Arcturus serves.
package core

import (
	"crypto/tls"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"

	arcv1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/apis/core/validation"
	"github.com/arcturus-cloud/arcturus/pkg/printers"
	"github.com/arcturus-cloud/arcturus/pkg/registry/strategy"
	"github.com/arcturus-cloud/arcturus/pkg/registry/tenantstore"
)

// NewStorage returns the storage of every core/v1 resource, keyed by the
// resource path the API installs it under.
// agentClient is the API server's certificate for calling node agents
// (logs, exec, attach, port-forward).
func NewStorage(typer runtime.ObjectTyper, optsGetter generic.RESTOptionsGetter, tokens TokenIssuer, agentClient tls.Certificate) (map[string]rest.Storage, error) {
	pods, err := newPodStorage(typer, optsGetter)
	if err != nil {
		return nil, err
	}
	namespaces, err := newNamespaceStorage(typer, optsGetter)
	if err != nil {
		return nil, err
	}
	nodeStrategy := strategy.New(typer, false, strategy.Funcs{
		Validate:       strategy.Validator(validation.ValidateNode),
		ValidateUpdate: strategy.UpdateValidator(validation.ValidateNodeUpdate),
	}).WithStatus("v1")
	nodes, err := tenantstore.NewREST(tenantstore.Kind{
		Resource: arcv1.Resource("nodes"), Singular: "node",
		New:      func() runtime.Object { return &corev1.Node{} },
		NewList:  func() runtime.Object { return &corev1.NodeList{} },
		Strategy: nodeStrategy, Scope: tenantstore.SystemScoped,
		Attrs:      nodeAttrs,
		Table:      printers.NewNodeTableConvertor(),
		ShortNames: []string{"no"},
	}, optsGetter)
	if err != nil {
		return nil, err
	}
	locator := podLocator{pods: pods.Pod, nodes: nodes, clientCert: agentClient}
	storage := map[string]rest.Storage{
		"pods":                pods.Pod,
		"pods/log":            &LogREST{locator},
		"pods/exec":           newExecREST(locator),
		"pods/attach":         newAttachREST(locator),
		"pods/portforward":    newPortForwardREST(locator),
		"pods/status":         pods.Status,
		"pods/binding":        pods.Binding,
		"namespaces":          namespaces.Namespace,
		"namespaces/status":   namespaces.Status,
		"namespaces/finalize": namespaces.Finalize,
		"nodes":               nodes,
		"nodes/status":        nodes.Status(nodeStrategy.StatusStrategy("v1", strategy.UpdateValidator(validation.ValidateNodeUpdate))),
	}
	simple := []tenantstore.Kind{
		{
			Resource: arcv1.Resource("configmaps"), Singular: "configmap",
			New:     func() runtime.Object { return &corev1.ConfigMap{} },
			NewList: func() runtime.Object { return &corev1.ConfigMapList{} },
			Strategy: strategy.New(typer, true, strategy.Funcs{
				Validate:       strategy.Validator(validation.ValidateConfigMap),
				ValidateUpdate: strategy.UpdateValidator(validation.ValidateConfigMapUpdate),
			}),
			Table:      printers.NewConfigMapTableConvertor(),
			ShortNames: []string{"cm"},
		},
		{
			Resource: arcv1.Resource("secrets"), Singular: "secret",
			New:     func() runtime.Object { return &corev1.Secret{} },
			NewList: func() runtime.Object { return &corev1.SecretList{} },
			Strategy: strategy.New(typer, true, strategy.Funcs{
				Validate:       strategy.Validator(validation.ValidateSecret),
				ValidateUpdate: strategy.UpdateValidator(validation.ValidateSecretUpdate),
			}),
			Table: printers.NewSecretTableConvertor(),
			Attrs: secretAttrs,
		},
		{
			Resource: arcv1.Resource("serviceaccounts"), Singular: "serviceaccount",
			New:     func() runtime.Object { return &corev1.ServiceAccount{} },
			NewList: func() runtime.Object { return &corev1.ServiceAccountList{} },
			Strategy: strategy.New(typer, true, strategy.Funcs{
				Validate:       strategy.Validator(validation.ValidateServiceAccount),
				ValidateUpdate: strategy.UpdateValidator(validation.ValidateServiceAccountUpdate),
			}),
			Table:      printers.NewServiceAccountTableConvertor(),
			ShortNames: []string{"sa"},
		},
		{
			Resource: arcv1.Resource("events"), Singular: "event",
			New:     func() runtime.Object { return &corev1.Event{} },
			NewList: func() runtime.Object { return &corev1.EventList{} },
			Strategy: strategy.New(typer, true, strategy.Funcs{
				Validate:       strategy.Validator(validation.ValidateEvent),
				ValidateUpdate: strategy.UpdateValidator(validation.ValidateEventUpdate),
			}),
			Table: printers.NewEventTableConvertor(),
			Attrs: eventAttrs,
			// Events are a recent history, as in Kubernetes.
			TTL:        time.Hour,
			ShortNames: []string{"ev"},
		},
	}
	rests, err := tenantstore.NewRESTs(simple, optsGetter)
	if err != nil {
		return nil, err
	}
	for resource, s := range rests {
		storage[resource] = s
	}
	storage["serviceaccounts/token"] = &TokenREST{serviceAccounts: rests["serviceaccounts"].(rest.Getter), issuer: tokens}
	return storage, nil
}

func secretAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	s, ok := obj.(*corev1.Secret)
	if !ok {
		return nil, nil, fmt.Errorf("not a secret: %T", obj)
	}
	set := generic.ObjectMetaFieldsSet(&s.ObjectMeta, true)
	set["type"] = string(s.Type)
	return s.Labels, set, nil
}

func nodeAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return nil, nil, fmt.Errorf("not a node: %T", obj)
	}
	set := generic.ObjectMetaFieldsSet(&n.ObjectMeta, false)
	set["spec.unschedulable"] = strconv.FormatBool(n.Spec.Unschedulable)
	return n.Labels, set, nil
}

func eventAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	e, ok := obj.(*corev1.Event)
	if !ok {
		return nil, nil, fmt.Errorf("not an event: %T", obj)
	}
	set := generic.ObjectMetaFieldsSet(&e.ObjectMeta, true)
	set["involvedObject.kind"] = e.InvolvedObject.Kind
	set["involvedObject.namespace"] = e.InvolvedObject.Namespace
	set["involvedObject.name"] = e.InvolvedObject.Name
	set["involvedObject.uid"] = string(e.InvolvedObject.UID)
	set["involvedObject.apiVersion"] = e.InvolvedObject.APIVersion
	set["involvedObject.resourceVersion"] = e.InvolvedObject.ResourceVersion
	set["involvedObject.fieldPath"] = e.InvolvedObject.FieldPath
	set["reason"] = e.Reason
	set["reportingComponent"] = e.ReportingController
	set["source"] = e.Source.Component
	set["type"] = e.Type
	return e.Labels, set, nil
}
