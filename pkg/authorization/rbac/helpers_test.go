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
	"fmt"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

func objectMeta(tenant tenancy.Name, namespace, name string) metav1.ObjectMeta {
	m := metav1.ObjectMeta{Namespace: namespace, Name: name}
	if tenant != "" {
		m.Annotations = map[string]string{tenancy.Annotation: string(tenant)}
	}
	return m
}

func role(tenant tenancy.Name, namespace, name string, rules ...rbacv1.PolicyRule) *rbacv1.Role {
	return &rbacv1.Role{ObjectMeta: objectMeta(tenant, namespace, name), Rules: rules}
}

func clusterRole(tenant tenancy.Name, name string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{ObjectMeta: objectMeta(tenant, "", name), Rules: rules}
}

func roleBinding(tenant tenancy.Name, namespace, name string, ref rbacv1.RoleRef, subjects ...rbacv1.Subject) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{ObjectMeta: objectMeta(tenant, namespace, name), RoleRef: ref, Subjects: subjects}
}

func clusterRoleBinding(tenant tenancy.Name, name string, ref rbacv1.RoleRef, subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{ObjectMeta: objectMeta(tenant, "", name), RoleRef: ref, Subjects: subjects}
}

func roleRef(name string) rbacv1.RoleRef {
	return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name}
}

func clusterRoleRef(name string) rbacv1.RoleRef {
	return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name}
}

func userSubject(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}
}

func groupSubject(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: name}
}

func saSubject(namespace, name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: namespace, Name: name}
}

// identity returns a user of tenant; an empty tenant means a system identity,
// which carries no tenant in its credentials.
func identity(tenant tenancy.Name, name string, groups ...string) user.Info {
	u := &user.DefaultInfo{Name: name, Groups: append([]string{user.AllAuthenticated}, groups...)}
	if tenant != "" {
		u.Extra = map[string][]string{tenancy.UserExtraKey: {string(tenant)}}
	}
	return u
}

func resourceRequest(u user.Info, verb, namespace, group, resource, subresource, name string) authorizer.AttributesRecord {
	return authorizer.AttributesRecord{
		User: u, Verb: verb, Namespace: namespace, APIGroup: group, APIVersion: "v1",
		Resource: resource, Subresource: subresource, Name: name, ResourceRequest: true,
	}
}

func nonResourceRequest(u user.Info, verb, path string) authorizer.AttributesRecord {
	return authorizer.AttributesRecord{User: u, Verb: verb, Path: path}
}

// newTestSource returns a CachedSource holding objs, filled the way its
// reflectors fill it, so that tests exercise the real keys and indexes.
func newTestSource(t *testing.T, objs ...runtime.Object) *CachedSource {
	t.Helper()
	s := newStores()
	for _, obj := range objs {
		var err error
		switch obj.(type) {
		case *rbacv1.Role:
			err = s.roles.Add(obj)
		case *rbacv1.RoleBinding:
			err = s.roleBindings.Add(obj)
		case *rbacv1.ClusterRole:
			err = s.clusterRoles.Add(obj)
		case *rbacv1.ClusterRoleBinding:
			err = s.clusterRoleBindings.Add(obj)
		default:
			t.Fatalf("unexpected object %T", obj)
		}
		if err != nil {
			t.Fatalf("adding %T: %v", obj, err)
		}
	}
	return s
}

// describeRules renders rule infos as sorted strings, since the order of
// bindings in a cache is not defined.
func describeRules(resourceRules []authorizer.ResourceRuleInfo, nonResourceRules []authorizer.NonResourceRuleInfo) []string {
	var out []string
	for _, r := range resourceRules {
		out = append(out, fmt.Sprintf("verbs=%s groups=%s resources=%s names=%s",
			strings.Join(r.GetVerbs(), ","), strings.Join(r.GetAPIGroups(), ","),
			strings.Join(r.GetResources(), ","), strings.Join(r.GetResourceNames(), ",")))
	}
	for _, r := range nonResourceRules {
		out = append(out, fmt.Sprintf("verbs=%s urls=%s", strings.Join(r.GetVerbs(), ","), strings.Join(r.GetNonResourceURLs(), ",")))
	}
	slices.Sort(out)
	return out
}
