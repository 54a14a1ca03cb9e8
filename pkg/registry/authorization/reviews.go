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

// Package authorization serves the review resources clients ask the
// authorizer through: SelfSubjectAccessReview and SelfSubjectRulesReview
// (kubectl auth can-i) and SelfSubjectReview (kubectl auth whoami).
package authorization

import (
	"context"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
)

// creater is the part of rest.Storage every review shares: a
// cluster-scoped resource that is only created, never stored.
type creater struct {
	newFunc func() runtime.Object
}

func (c creater) New() runtime.Object   { return c.newFunc() }
func (c creater) Destroy()              {}
func (c creater) NamespaceScoped() bool { return false }

func requester(ctx context.Context) (user.Info, error) {
	u, ok := genericapirequest.UserFrom(ctx)
	if !ok {
		return nil, apierrors.NewBadRequest("no user in request")
	}
	return u, nil
}

// SelfSubjectAccessReviewREST answers whether the requester may do one thing.
type SelfSubjectAccessReviewREST struct {
	creater
	authorizer authorizer.Authorizer
}

var (
	_ rest.Creater              = &SelfSubjectAccessReviewREST{}
	_ rest.SingularNameProvider = &SelfSubjectAccessReviewREST{}
	_ rest.Scoper               = &SelfSubjectAccessReviewREST{}
	_ rest.Creater              = &SelfSubjectRulesReviewREST{}
	_ rest.Creater              = &SelfSubjectReviewREST{}
)

// NewSelfSubjectAccessReview serves selfsubjectaccessreviews.
func NewSelfSubjectAccessReview(a authorizer.Authorizer) *SelfSubjectAccessReviewREST {
	return &SelfSubjectAccessReviewREST{
		creater:    creater{newFunc: func() runtime.Object { return &authorizationv1.SelfSubjectAccessReview{} }},
		authorizer: a,
	}
}

func (r *SelfSubjectAccessReviewREST) GetSingularName() string { return "selfsubjectaccessreview" }

func (r *SelfSubjectAccessReviewREST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	review, ok := obj.(*authorizationv1.SelfSubjectAccessReview)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a SelfSubjectAccessReview: %T", obj))
	}
	spec := review.Spec
	if (spec.ResourceAttributes == nil) == (spec.NonResourceAttributes == nil) {
		return nil, apierrors.NewInvalid(authorizationv1.SchemeGroupVersion.WithKind("SelfSubjectAccessReview").GroupKind(), "",
			field.ErrorList{field.Invalid(field.NewPath("spec"), "", "exactly one of resourceAttributes and nonResourceAttributes must be set")})
	}
	if createValidation != nil {
		if err := createValidation(ctx, obj); err != nil {
			return nil, err
		}
	}
	u, err := requester(ctx)
	if err != nil {
		return nil, err
	}
	attrs := authorizer.AttributesRecord{User: u}
	if ra := spec.ResourceAttributes; ra != nil {
		attrs.Verb, attrs.Namespace, attrs.APIGroup, attrs.APIVersion = ra.Verb, ra.Namespace, ra.Group, ra.Version
		attrs.Resource, attrs.Subresource, attrs.Name = ra.Resource, ra.Subresource, ra.Name
		attrs.ResourceRequest = true
	} else {
		attrs.Verb, attrs.Path = spec.NonResourceAttributes.Verb, spec.NonResourceAttributes.Path
	}
	decision, reason, err := r.authorizer.Authorize(ctx, attrs)
	review.Status = authorizationv1.SubjectAccessReviewStatus{
		Allowed: decision == authorizer.DecisionAllow,
		Denied:  decision == authorizer.DecisionDeny,
		Reason:  reason,
	}
	if err != nil {
		review.Status.EvaluationError = err.Error()
	}
	return review, nil
}

// SelfSubjectRulesReviewREST lists what the requester may do in a namespace.
type SelfSubjectRulesReviewREST struct {
	creater
	resolver authorizer.RuleResolver
}

// NewSelfSubjectRulesReview serves selfsubjectrulesreviews.
func NewSelfSubjectRulesReview(resolver authorizer.RuleResolver) *SelfSubjectRulesReviewREST {
	return &SelfSubjectRulesReviewREST{
		creater:  creater{newFunc: func() runtime.Object { return &authorizationv1.SelfSubjectRulesReview{} }},
		resolver: resolver,
	}
}

func (r *SelfSubjectRulesReviewREST) GetSingularName() string { return "selfsubjectrulesreview" }

func (r *SelfSubjectRulesReviewREST) Create(ctx context.Context, obj runtime.Object, _ rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	review, ok := obj.(*authorizationv1.SelfSubjectRulesReview)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a SelfSubjectRulesReview: %T", obj))
	}
	u, err := requester(ctx)
	if err != nil {
		return nil, err
	}
	resourceRules, nonResourceRules, incomplete, err := r.resolver.RulesFor(ctx, u, review.Spec.Namespace)
	review.Status = authorizationv1.SubjectRulesReviewStatus{Incomplete: incomplete}
	if err != nil {
		review.Status.EvaluationError = err.Error()
	}
	for _, rule := range resourceRules {
		review.Status.ResourceRules = append(review.Status.ResourceRules, authorizationv1.ResourceRule{
			Verbs: rule.GetVerbs(), APIGroups: rule.GetAPIGroups(), Resources: rule.GetResources(), ResourceNames: rule.GetResourceNames(),
		})
	}
	for _, rule := range nonResourceRules {
		review.Status.NonResourceRules = append(review.Status.NonResourceRules, authorizationv1.NonResourceRule{
			Verbs: rule.GetVerbs(), NonResourceURLs: rule.GetNonResourceURLs(),
		})
	}
	return review, nil
}

// SelfSubjectReviewREST tells the requester who the server thinks it is.
type SelfSubjectReviewREST struct {
	creater
}

// NewSelfSubjectReview serves selfsubjectreviews.
func NewSelfSubjectReview() *SelfSubjectReviewREST {
	return &SelfSubjectReviewREST{creater{newFunc: func() runtime.Object { return &authenticationv1.SelfSubjectReview{} }}}
}

func (r *SelfSubjectReviewREST) GetSingularName() string { return "selfsubjectreview" }

func (r *SelfSubjectReviewREST) Create(ctx context.Context, obj runtime.Object, _ rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	review, ok := obj.(*authenticationv1.SelfSubjectReview)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a SelfSubjectReview: %T", obj))
	}
	u, err := requester(ctx)
	if err != nil {
		return nil, err
	}
	info := authenticationv1.UserInfo{Username: u.GetName(), UID: u.GetUID(), Groups: u.GetGroups()}
	for k, v := range u.GetExtra() {
		if info.Extra == nil {
			info.Extra = map[string]authenticationv1.ExtraValue{}
		}
		info.Extra[k] = v
	}
	review.Status = authenticationv1.SelfSubjectReviewStatus{UserInfo: info}
	return review, nil
}
