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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupName is the apps group's name.
const GroupName = "apps"

// SchemeGroupVersion is the served version of the apps group.
var SchemeGroupVersion = schema.GroupVersion{Group: GroupName, Version: "v1"}

// InternalGroupVersion is the hub version; it uses the same Go types, so the
// server never converts between Go types.
var InternalGroupVersion = schema.GroupVersion{Group: GroupName, Version: runtime.APIVersionInternal}

var (
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes, addDefaultingFuncs)
	AddToScheme   = SchemeBuilder.AddToScheme
)

// Resource takes an unqualified resource and returns a group-qualified one.
func Resource(resource string) schema.GroupResource {
	return SchemeGroupVersion.WithResource(resource).GroupResource()
}

// Kind takes an unqualified kind and returns a group-qualified one.
func Kind(kind string) schema.GroupKind {
	return SchemeGroupVersion.WithKind(kind).GroupKind()
}

// addKnownTypes registers the kinds. They need no field label conversion:
// like kube-apiserver's apps/v1, Deployments and ReplicaSets accept the
// field selectors metadata.name and metadata.namespace only, which is the
// scheme's default.
func addKnownTypes(scheme *runtime.Scheme) error {
	for _, gv := range []schema.GroupVersion{SchemeGroupVersion, InternalGroupVersion} {
		scheme.AddKnownTypes(gv, &Deployment{}, &DeploymentList{}, &ReplicaSet{}, &ReplicaSetList{})
	}
	metav1.AddToGroupVersion(scheme, SchemeGroupVersion)
	return nil
}
