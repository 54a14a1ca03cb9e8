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
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// ruleAllows reports whether rule grants the request described by attrs,
// with the same matching semantics as Kubernetes RBAC.
func ruleAllows(attrs authorizer.Attributes, rule *rbacv1.PolicyRule) bool {
	if !verbMatches(rule, attrs.GetVerb()) {
		return false
	}
	if !attrs.IsResourceRequest() {
		return nonResourceURLMatches(rule, attrs.GetPath())
	}
	resource := attrs.GetResource()
	subresource := attrs.GetSubresource()
	if subresource != "" {
		resource += "/" + subresource
	}
	return apiGroupMatches(rule, attrs.GetAPIGroup()) &&
		resourceMatches(rule, resource, subresource) &&
		resourceNameMatches(rule, attrs.GetName())
}

func verbMatches(rule *rbacv1.PolicyRule, verb string) bool {
	return slices.ContainsFunc(rule.Verbs, func(v string) bool {
		return v == rbacv1.VerbAll || v == verb
	})
}

func apiGroupMatches(rule *rbacv1.PolicyRule, group string) bool {
	return slices.ContainsFunc(rule.APIGroups, func(g string) bool {
		return g == rbacv1.APIGroupAll || g == group
	})
}

// resourceMatches matches "resource[/subresource]" against the rule. A plain
// resource never matches its subresources: "pods" does not grant "pods/log",
// while "*/log" grants the log subresource of every resource.
func resourceMatches(rule *rbacv1.PolicyRule, resource, subresource string) bool {
	return slices.ContainsFunc(rule.Resources, func(r string) bool {
		switch {
		case r == rbacv1.ResourceAll, r == resource:
			return true
		default:
			return subresource != "" && r == "*/"+subresource
		}
	})
}

// resourceNameMatches treats an empty list as "every name". A rule that lists
// names never matches a request without one (list, watch, create by
// generateName), since the set of objects it reaches is unknown.
func resourceNameMatches(rule *rbacv1.PolicyRule, name string) bool {
	return len(rule.ResourceNames) == 0 || slices.Contains(rule.ResourceNames, name)
}

// nonResourceURLMatches supports exact paths and a trailing "*" as a prefix
// wildcard; "*" alone matches every path.
func nonResourceURLMatches(rule *rbacv1.PolicyRule, path string) bool {
	return slices.ContainsFunc(rule.NonResourceURLs, func(u string) bool {
		switch {
		case u == rbacv1.NonResourceAll, u == path:
			return true
		case strings.HasSuffix(u, "*"):
			return strings.HasPrefix(path, strings.TrimSuffix(u, "*"))
		default:
			return false
		}
	})
}

// ruleInfos converts policy rules to the shape SelfSubjectRulesReview reports.
// A rule may carry both resources and non-resource URLs; each half is
// reported on its own, as Kubernetes does.
func ruleInfos(rules []rbacv1.PolicyRule) ([]authorizer.ResourceRuleInfo, []authorizer.NonResourceRuleInfo) {
	var resourceRules []authorizer.ResourceRuleInfo
	var nonResourceRules []authorizer.NonResourceRuleInfo
	for _, r := range rules {
		if len(r.Resources) > 0 {
			resourceRules = append(resourceRules, &authorizer.DefaultResourceRuleInfo{
				Verbs:         r.Verbs,
				APIGroups:     r.APIGroups,
				Resources:     r.Resources,
				ResourceNames: r.ResourceNames,
			})
		}
		if len(r.NonResourceURLs) > 0 {
			nonResourceRules = append(nonResourceRules, &authorizer.DefaultNonResourceRuleInfo{
				Verbs:           r.Verbs,
				NonResourceURLs: r.NonResourceURLs,
			})
		}
	}
	return resourceRules, nonResourceRules
}
