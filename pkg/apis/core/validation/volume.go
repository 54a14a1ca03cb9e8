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

package validation

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Bounds of a projected service account token's lifetime, as in Kubernetes.
const (
	minTokenExpirationSeconds = 10 * 60
	maxTokenExpirationSeconds = 1 << 32
)

// validateVolumes checks the pod's volumes and returns their names, which
// volume mounts must refer to.
func validateVolumes(volumes []corev1.Volume, fldPath *field.Path) (sets.Set[string], field.ErrorList) {
	var allErrs field.ErrorList
	names := sets.New[string]()
	for i := range volumes {
		vol := &volumes[i]
		idxPath := fldPath.Index(i)
		namePath := idxPath.Child("name")
		if vol.Name == "" {
			allErrs = append(allErrs, field.Required(namePath, ""))
		} else {
			allErrs = append(allErrs, validateDNSLabel(vol.Name, namePath)...)
			allErrs = append(allErrs, validateUnique(names, vol.Name, namePath)...)
		}
		allErrs = append(allErrs, validateVolumeSource(&vol.VolumeSource, idxPath)...)
	}
	return names, allErrs
}

// validateVolumeSource requires exactly one source and checks the sources
// Arcturus nodes implement; the others are stored as given.
func validateVolumeSource(src *corev1.VolumeSource, fldPath *field.Path) field.ErrorList {
	switch countSet(*src) {
	case 0:
		return field.ErrorList{field.Required(fldPath, "must specify a volume type")}
	case 1:
	default:
		return field.ErrorList{field.Forbidden(fldPath, "may not specify more than 1 volume type")}
	}
	switch {
	case src.EmptyDir != nil:
		if limit := src.EmptyDir.SizeLimit; limit != nil {
			return ValidateNonnegativeQuantity(*limit, fldPath.Child("emptyDir", "sizeLimit"))
		}
	case src.HostPath != nil:
		return validateHostPath(src.HostPath, fldPath.Child("hostPath"))
	case src.Secret != nil:
		srcPath := fldPath.Child("secret")
		allErrs := validateFileMode(src.Secret.DefaultMode, srcPath.Child("defaultMode"))
		if src.Secret.SecretName == "" {
			allErrs = append(allErrs, field.Required(srcPath.Child("secretName"), ""))
		}
		return append(allErrs, validateKeyToPaths(src.Secret.Items, sets.New[string](), srcPath.Child("items"))...)
	case src.ConfigMap != nil:
		srcPath := fldPath.Child("configMap")
		allErrs := validateFileMode(src.ConfigMap.DefaultMode, srcPath.Child("defaultMode"))
		return append(allErrs, validateObjectItems(src.ConfigMap.Name, src.ConfigMap.Items, sets.New[string](), srcPath)...)
	case src.DownwardAPI != nil:
		srcPath := fldPath.Child("downwardAPI")
		allErrs := validateFileMode(src.DownwardAPI.DefaultMode, srcPath.Child("defaultMode"))
		return append(allErrs, validateDownwardAPIFiles(src.DownwardAPI.Items, sets.New[string](), srcPath.Child("items"))...)
	case src.Projected != nil:
		return validateProjected(src.Projected, fldPath.Child("projected"))
	}
	return nil
}

var supportedHostPathTypes = []corev1.HostPathType{
	corev1.HostPathUnset, corev1.HostPathDirectoryOrCreate, corev1.HostPathDirectory, corev1.HostPathFileOrCreate,
	corev1.HostPathFile, corev1.HostPathSocket, corev1.HostPathCharDev, corev1.HostPathBlockDev,
}

func validateHostPath(src *corev1.HostPathVolumeSource, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if src.Path == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("path"), ""))
	}
	allErrs = append(allErrs, validateNoBacksteps(src.Path, fldPath.Child("path"))...)
	if src.Type != nil && !slices.Contains(supportedHostPathTypes, *src.Type) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("type"), *src.Type, supportedHostPathTypes))
	}
	return allErrs
}

// validateObjectItems checks the projection of a named config map or secret.
func validateObjectItems(name string, items []corev1.KeyToPath, paths sets.Set[string], fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if name == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("name"), ""))
	}
	return append(allErrs, validateKeyToPaths(items, paths, fldPath.Child("items"))...)
}

func validateKeyToPaths(items []corev1.KeyToPath, paths sets.Set[string], fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, item := range items {
		idxPath := fldPath.Index(i)
		if item.Key == "" {
			allErrs = append(allErrs, field.Required(idxPath.Child("key"), ""))
		}
		allErrs = append(allErrs, validateProjectedPath(item.Path, paths, idxPath.Child("path"))...)
		allErrs = append(allErrs, validateFileMode(item.Mode, idxPath.Child("mode"))...)
	}
	return allErrs
}

func validateDownwardAPIFiles(items []corev1.DownwardAPIVolumeFile, paths sets.Set[string], fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, item := range items {
		idxPath := fldPath.Index(i)
		allErrs = append(allErrs, validateProjectedPath(item.Path, paths, idxPath.Child("path"))...)
		allErrs = append(allErrs, validateFileMode(item.Mode, idxPath.Child("mode"))...)
		switch {
		case item.FieldRef == nil && item.ResourceFieldRef == nil:
			allErrs = append(allErrs, field.Required(idxPath, "must specify one of: `fieldRef` or `resourceFieldRef`"))
		case item.FieldRef != nil && item.ResourceFieldRef != nil:
			allErrs = append(allErrs, field.Invalid(idxPath, "", "fieldRef and resourceFieldRef can not be specified simultaneously"))
		case item.FieldRef != nil && item.FieldRef.FieldPath == "":
			allErrs = append(allErrs, field.Required(idxPath.Child("fieldRef", "fieldPath"), ""))
		case item.ResourceFieldRef != nil && item.ResourceFieldRef.Resource == "":
			allErrs = append(allErrs, field.Required(idxPath.Child("resourceFieldRef", "resource"), ""))
		}
	}
	return allErrs
}

// validateProjectedPath checks the path of a projected file. paths holds the
// paths of the volume so far: two files cannot land on the same path.
func validateProjectedPath(p string, paths sets.Set[string], fldPath *field.Path) field.ErrorList {
	if p == "" {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	allErrs := validateRelativePath(p, fldPath)
	if paths.Has(p) {
		allErrs = append(allErrs, field.Invalid(fldPath, p, "conflicting duplicate paths"))
	}
	paths.Insert(p)
	return allErrs
}

func validateProjected(src *corev1.ProjectedVolumeSource, fldPath *field.Path) field.ErrorList {
	allErrs := validateFileMode(src.DefaultMode, fldPath.Child("defaultMode"))
	paths := sets.New[string]()
	for i, proj := range src.Sources {
		idxPath := fldPath.Child("sources").Index(i)
		if countSet(proj) != 1 {
			allErrs = append(allErrs, field.Forbidden(idxPath, "must specify exactly one projection type"))
		}
		switch {
		case proj.Secret != nil:
			allErrs = append(allErrs, validateObjectItems(proj.Secret.Name, proj.Secret.Items, paths, idxPath.Child("secret"))...)
		case proj.ConfigMap != nil:
			allErrs = append(allErrs, validateObjectItems(proj.ConfigMap.Name, proj.ConfigMap.Items, paths, idxPath.Child("configMap"))...)
		case proj.DownwardAPI != nil:
			allErrs = append(allErrs, validateDownwardAPIFiles(proj.DownwardAPI.Items, paths, idxPath.Child("downwardAPI", "items"))...)
		case proj.ServiceAccountToken != nil:
			allErrs = append(allErrs, validateServiceAccountTokenProjection(proj.ServiceAccountToken, paths, idxPath.Child("serviceAccountToken"))...)
		case proj.ClusterTrustBundle != nil:
			allErrs = append(allErrs, validateProjectedPath(proj.ClusterTrustBundle.Path, paths, idxPath.Child("clusterTrustBundle", "path"))...)
		}
	}
	return allErrs
}

func validateServiceAccountTokenProjection(src *corev1.ServiceAccountTokenProjection, paths sets.Set[string], fldPath *field.Path) field.ErrorList {
	allErrs := validateProjectedPath(src.Path, paths, fldPath.Child("path"))
	if src.ExpirationSeconds != nil {
		expPath := fldPath.Child("expirationSeconds")
		switch {
		case *src.ExpirationSeconds < minTokenExpirationSeconds:
			allErrs = append(allErrs, field.Invalid(expPath, *src.ExpirationSeconds, "may not specify a duration less than 10 minutes"))
		case *src.ExpirationSeconds > maxTokenExpirationSeconds:
			allErrs = append(allErrs, field.Invalid(expPath, *src.ExpirationSeconds, "may not specify a duration larger than 2^32 seconds"))
		}
	}
	return allErrs
}
