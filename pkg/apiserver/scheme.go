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

package apiserver

import (
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	appsv1 "github.com/arcturus-cloud/arcturus/pkg/apis/apps/v1"
	arcv1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
)

var (
	// Scheme holds every type the server serves. Each group's hub
	// ("internal") version uses the versioned Go types, so the server never
	// converts between Go types.
	Scheme = runtime.NewScheme()
	// Codecs serializes the Scheme's types.
	Codecs = serializer.NewCodecFactory(Scheme)
	// ParameterCodec reads options from query strings, the subresources'
	// own (pod logs, exec) included.
	ParameterCodec = runtime.NewParameterCodec(Scheme)
)

func init() {
	utilruntime.Must(arcv1.AddToScheme(Scheme))
	utilruntime.Must(appsv1.AddToScheme(Scheme))
	utilruntime.Must(tenancyv1.AddToScheme(Scheme))
	utilruntime.Must(metalv1alpha1.AddToScheme(Scheme))
	utilruntime.Must(addWithHub(Scheme, rbacv1.SchemeGroupVersion,
		&rbacv1.Role{}, &rbacv1.RoleList{}, &rbacv1.RoleBinding{}, &rbacv1.RoleBindingList{},
		&rbacv1.ClusterRole{}, &rbacv1.ClusterRoleList{}, &rbacv1.ClusterRoleBinding{}, &rbacv1.ClusterRoleBindingList{}))
	utilruntime.Must(addWithHub(Scheme, coordinationv1.SchemeGroupVersion, &coordinationv1.Lease{}, &coordinationv1.LeaseList{}))
	utilruntime.Must(addWithHub(Scheme, authorizationv1.SchemeGroupVersion,
		&authorizationv1.SelfSubjectAccessReview{}, &authorizationv1.SelfSubjectRulesReview{},
		&authorizationv1.SubjectAccessReview{}, &authorizationv1.LocalSubjectAccessReview{}))
	utilruntime.Must(addWithHub(Scheme, authenticationv1.SchemeGroupVersion,
		&authenticationv1.SelfSubjectReview{}, &authenticationv1.TokenRequest{}, &authenticationv1.TokenReview{}))
	// The scale subresources of apps/v1 serve autoscaling/v1 Scale, as in
	// Kubernetes; the autoscaling group itself is not served.
	utilruntime.Must(addWithHub(Scheme, autoscalingv1.SchemeGroupVersion, &autoscalingv1.Scale{}))

	// Options and status types every API server registers under v1.
	metav1.AddToGroupVersion(Scheme, schema.GroupVersion{Version: "v1"})
	unversioned := schema.GroupVersion{Group: "", Version: "v1"}
	Scheme.AddUnversionedTypes(unversioned,
		&metav1.Status{}, &metav1.APIVersions{}, &metav1.APIGroupList{}, &metav1.APIGroup{}, &metav1.APIResourceList{})
}

// addWithHub registers k8s.io/api types under their version and under the
// group's hub version.
func addWithHub(scheme *runtime.Scheme, gv schema.GroupVersion, types ...runtime.Object) error {
	scheme.AddKnownTypes(gv, types...)
	scheme.AddKnownTypes(schema.GroupVersion{Group: gv.Group, Version: runtime.APIVersionInternal}, types...)
	metav1.AddToGroupVersion(scheme, gv)
	return nil
}
