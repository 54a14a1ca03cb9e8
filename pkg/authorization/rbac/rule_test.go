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

package rbac

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

func TestRuleAllows(t *testing.T) {
	u := identity("acme", "alice")
	pods := rbacv1.PolicyRule{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods"}}

	tests := []struct {
		name  string
		rule  rbacv1.PolicyRule
		attrs authorizer.AttributesRecord
		want  bool
	}{
		{"exact match", pods, resourceRequest(u, "get", "ns", "", "pods", "", "p"), true},
		{"other verb", pods, resourceRequest(u, "delete", "ns", "", "pods", "", "p"), false},
		{"other group", pods, resourceRequest(u, "get", "ns", "apps", "pods", "", "p"), false},
		{"other resource", pods, resourceRequest(u, "get", "ns", "", "secrets", "", "s"), false},
		{"resource does not grant its subresource", pods, resourceRequest(u, "get", "ns", "", "pods", "log", "p"), false},
		{
			"resource/subresource",
			rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods/log"}},
			resourceRequest(u, "get", "ns", "", "pods", "log", "p"), true,
		},
		{
			"resource/subresource does not grant the resource",
			rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods/log"}},
			resourceRequest(u, "get", "ns", "", "pods", "", "p"), false,
		},
		{
			"resource/subresource does not grant another subresource",
			rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods/log"}},
			resourceRequest(u, "get", "ns", "", "pods", "status", "p"), false,
		},
		{
			"*/subresource grants that subresource of any resource",
			rbacv1.PolicyRule{Verbs: []string{"update"}, APIGroups: []string{"*"}, Resources: []string{"*/status"}},
			resourceRequest(u, "update", "ns", "apps", "deployments", "status", "d"), true,
		},
		{
			"*/subresource does not grant the resource",
			rbacv1.PolicyRule{Verbs: []string{"update"}, APIGroups: []string{"*"}, Resources: []string{"*/status"}},
			resourceRequest(u, "update", "ns", "apps", "deployments", "", "d"), false,
		},
		{
			"* grants resources and subresources",
			rbacv1.PolicyRule{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}},
			resourceRequest(u, "create", "ns", "", "pods", "exec", "p"), true,
		},
		{
			"resourceNames match the named object",
			rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"a", "b"}},
			resourceRequest(u, "get", "ns", "", "configmaps", "", "b"), true,
		},
		{
			"resourceNames do not match another object",
			rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"a", "b"}},
			resourceRequest(u, "get", "ns", "", "configmaps", "", "c"), false,
		},
		{
			"resourceNames do not match a request without a name",
			rbacv1.PolicyRule{Verbs: []string{"list"}, APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"a"}},
			resourceRequest(u, "list", "ns", "", "configmaps", "", ""), false,
		},
		{"resource rule does not match a non-resource request", pods, nonResourceRequest(u, "get", "/pods"), false},
		{
			"exact non-resource URL",
			rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}},
			nonResourceRequest(u, "get", "/healthz"), true,
		},
		{
			"exact non-resource URL is not a prefix",
			rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}},
			nonResourceRequest(u, "get", "/healthz/etcd"), false,
		},
		{
			"trailing * is a prefix match",
			rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/apis/*"}},
			nonResourceRequest(u, "get", "/apis/apps/v1"), true,
		},
		{
			"trailing * does not match the bare prefix without its slash",
			rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/apis/*"}},
			nonResourceRequest(u, "get", "/apis"), false,
		},
		{
			"* matches every path",
			rbacv1.PolicyRule{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}},
			nonResourceRequest(u, "post", "/anything/at/all"), true,
		},
		{
			"non-resource URL with another verb",
			rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/metrics"}},
			nonResourceRequest(u, "post", "/metrics"), false,
		},
		{
			"non-resource rule does not match a resource request",
			rbacv1.PolicyRule{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}},
			resourceRequest(u, "get", "ns", "", "pods", "", "p"), false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ruleAllows(tt.attrs, &tt.rule); got != tt.want {
				t.Errorf("ruleAllows() = %v, want %v", got, tt.want)
			}
		})
	}
}
