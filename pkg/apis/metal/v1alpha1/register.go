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

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupName is the metal group's name.
const GroupName = "metal.arcturus.io"

// SchemeGroupVersion is the served version of the metal group.
var SchemeGroupVersion = schema.GroupVersion{Group: GroupName, Version: "v1alpha1"}

// InternalGroupVersion is the hub version; it uses the same Go types.
var InternalGroupVersion = schema.GroupVersion{Group: GroupName, Version: runtime.APIVersionInternal}

var (
	// SchemeBuilder registers the served and the hub version, as the API
	// server needs.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)
	AddToScheme   = SchemeBuilder.AddToScheme
	// ClientSchemeBuilder registers the served version only, as clients
	// that map each Go type to one kind (controller-runtime's) need.
	ClientSchemeBuilder = runtime.NewSchemeBuilder(addServedTypes)
	AddToClientScheme   = ClientSchemeBuilder.AddToScheme
)

// Resource takes an unqualified resource and returns a group-qualified one.
func Resource(resource string) schema.GroupResource {
	return SchemeGroupVersion.WithResource(resource).GroupResource()
}

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(InternalGroupVersion, types()...)
	return addServedTypes(scheme)
}

func addServedTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(SchemeGroupVersion, types()...)
	metav1.AddToGroupVersion(scheme, SchemeGroupVersion)
	return nil
}

func types() []runtime.Object {
	return []runtime.Object{
		&Server{}, &ServerList{},
		&ServerClass{}, &ServerClassList{},
		&Environment{}, &EnvironmentList{},
		&ServerBinding{}, &ServerBindingList{},
	}
}
