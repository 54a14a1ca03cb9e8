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
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// TokenIssuer signs service account tokens.
type TokenIssuer interface {
	Issue(t tenancy.Name, sa *corev1.ServiceAccount, audiences []string, validFor time.Duration) (string, time.Time, error)
}

const (
	minTokenSeconds     = 10 * 60
	defaultTokenSeconds = 60 * 60
	maxTokenSeconds     = 24 * 60 * 60
)

// TokenREST serves serviceaccounts/token: TokenRequest, as kubectl create
// token uses it.
type TokenREST struct {
	serviceAccounts rest.Getter
	issuer          TokenIssuer
}

var _ rest.NamedCreater = &TokenREST{}

func (r *TokenREST) New() runtime.Object { return &authenticationv1.TokenRequest{} }

func (r *TokenREST) Destroy() {}

var tokenRequestKind = authenticationv1.SchemeGroupVersion.WithKind("TokenRequest")

// GroupVersionKind tells discovery that the subresource takes a TokenRequest
// of authentication.k8s.io/v1, not a core object.
func (r *TokenREST) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind {
	return tokenRequestKind
}

func (r *TokenREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	req, ok := obj.(*authenticationv1.TokenRequest)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a TokenRequest: %T", obj))
	}
	if errs := validateTokenRequest(req); len(errs) > 0 {
		return nil, apierrors.NewInvalid(tokenRequestKind.GroupKind(), name, errs)
	}
	if createValidation != nil {
		if err := createValidation(ctx, obj.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	saObj, err := r.serviceAccounts.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	sa := saObj.(*corev1.ServiceAccount)
	t, _ := tenancy.From(ctx)
	seconds := int64(defaultTokenSeconds)
	if req.Spec.ExpirationSeconds != nil {
		seconds = min(*req.Spec.ExpirationSeconds, maxTokenSeconds)
	}
	token, expiry, err := r.issuer.Issue(t, sa, req.Spec.Audiences, time.Duration(seconds)*time.Second)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	out := req.DeepCopy()
	out.Spec.ExpirationSeconds = &seconds
	out.Status = authenticationv1.TokenRequestStatus{Token: token, ExpirationTimestamp: metav1.NewTime(expiry)}
	return out, nil
}

func validateTokenRequest(req *authenticationv1.TokenRequest) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	if s := req.Spec.ExpirationSeconds; s != nil && *s < minTokenSeconds {
		errs = append(errs, field.Invalid(spec.Child("expirationSeconds"), *s, "may not specify a duration less than 10 minutes"))
	}
	if req.Spec.BoundObjectRef != nil {
		errs = append(errs, field.Forbidden(spec.Child("boundObjectRef"), "bound tokens are not supported yet"))
	}
	return errs
}
