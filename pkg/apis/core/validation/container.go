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
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateContainers checks init or regular containers. names holds the
// container names seen so far in the pod; volumes the declared volume names.
func validateContainers(containers []corev1.Container, isInit bool, volumes, names sets.Set[string], fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i := range containers {
		c := &containers[i]
		idxPath := fldPath.Index(i)
		namePath := idxPath.Child("name")
		if c.Name == "" {
			allErrs = append(allErrs, field.Required(namePath, ""))
		} else {
			allErrs = append(allErrs, validateDNSLabel(c.Name, namePath)...)
			allErrs = append(allErrs, validateUnique(names, c.Name, namePath)...)
		}
		allErrs = append(allErrs, validateImage(c.Image, idxPath.Child("image"))...)
		allErrs = append(allErrs, validatePullPolicy(c.ImagePullPolicy, idxPath.Child("imagePullPolicy"))...)
		allErrs = append(allErrs, validateContainerRestartPolicy(c.RestartPolicy, isInit, idxPath.Child("restartPolicy"))...)
		allErrs = append(allErrs, validateContainerPorts(c.Ports, idxPath.Child("ports"))...)
		allErrs = append(allErrs, validateEnv(c.Env, idxPath.Child("env"))...)
		allErrs = append(allErrs, validateEnvFrom(c.EnvFrom, idxPath.Child("envFrom"))...)
		allErrs = append(allErrs, validateResourceRequirements(&c.Resources, idxPath.Child("resources"))...)
		allErrs = append(allErrs, validateVolumeMounts(c.VolumeMounts, volumes, idxPath.Child("volumeMounts"))...)
	}
	return allErrs
}

func validatePullPolicy(policy corev1.PullPolicy, fldPath *field.Path) field.ErrorList {
	switch policy {
	case corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
		return nil
	case "":
		return field.ErrorList{field.Required(fldPath, "")}
	}
	return field.ErrorList{field.NotSupported(fldPath, policy, []corev1.PullPolicy{
		corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever})}
}

// validateContainerRestartPolicy allows only init containers to set a
// restart policy, and only Always, which makes them sidecars.
func validateContainerRestartPolicy(policy *corev1.ContainerRestartPolicy, isInit bool, fldPath *field.Path) field.ErrorList {
	switch {
	case policy == nil:
		return nil
	case !isInit:
		return field.ErrorList{field.Forbidden(fldPath, "may not be set for non-init containers")}
	case *policy != corev1.ContainerRestartPolicyAlways:
		return field.ErrorList{field.NotSupported(fldPath, *policy, []corev1.ContainerRestartPolicy{corev1.ContainerRestartPolicyAlways})}
	}
	return nil
}

func validateContainerPorts(ports []corev1.ContainerPort, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	names := sets.New[string]()
	for i, port := range ports {
		idxPath := fldPath.Index(i)
		if port.Name != "" {
			namePath := idxPath.Child("name")
			msgs := validation.IsValidPortName(port.Name)
			for _, msg := range msgs {
				allErrs = append(allErrs, field.Invalid(namePath, port.Name, msg))
			}
			if len(msgs) == 0 {
				allErrs = append(allErrs, validateUnique(names, port.Name, namePath)...)
			}
		}
		if port.ContainerPort == 0 {
			allErrs = append(allErrs, field.Required(idxPath.Child("containerPort"), ""))
		} else {
			allErrs = append(allErrs, validatePortNumber(port.ContainerPort, idxPath.Child("containerPort"))...)
		}
		// hostPort 0 means "not exposed on the host".
		if port.HostPort != 0 {
			allErrs = append(allErrs, validatePortNumber(port.HostPort, idxPath.Child("hostPort"))...)
		}
		switch port.Protocol {
		case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
		case "":
			allErrs = append(allErrs, field.Required(idxPath.Child("protocol"), ""))
		default:
			allErrs = append(allErrs, field.NotSupported(idxPath.Child("protocol"), port.Protocol,
				[]corev1.Protocol{corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP}))
		}
	}
	return allErrs
}

func validatePortNumber(port int32, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range validation.IsValidPortNum(int(port)) {
		allErrs = append(allErrs, field.Invalid(fldPath, port, msg))
	}
	return allErrs
}

func validateEnvVarName(name string, fldPath *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	var allErrs field.ErrorList
	for _, msg := range validation.IsEnvVarName(name) {
		allErrs = append(allErrs, field.Invalid(fldPath, name, msg))
	}
	return allErrs
}

func validateEnv(vars []corev1.EnvVar, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, ev := range vars {
		idxPath := fldPath.Index(i)
		allErrs = append(allErrs, validateEnvVarName(ev.Name, idxPath.Child("name"))...)
		if ev.ValueFrom != nil {
			allErrs = append(allErrs, validateEnvVarSource(ev.ValueFrom, ev.Value, idxPath.Child("valueFrom"))...)
		}
	}
	return allErrs
}

func validateEnvVarSource(src *corev1.EnvVarSource, value string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if value != "" {
		allErrs = append(allErrs, field.Invalid(fldPath, "", "may not be specified when `value` is not empty"))
	}
	switch countSet(*src) {
	case 0:
		allErrs = append(allErrs, field.Invalid(fldPath, "",
			"must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef`, `secretKeyRef` or `fileKeyRef`"))
	case 1:
	default:
		allErrs = append(allErrs, field.Invalid(fldPath, "", "may not have more than one field specified at a time"))
	}
	if ref := src.FieldRef; ref != nil && ref.FieldPath == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("fieldRef", "fieldPath"), ""))
	}
	if ref := src.ResourceFieldRef; ref != nil && ref.Resource == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("resourceFieldRef", "resource"), ""))
	}
	if ref := src.ConfigMapKeyRef; ref != nil {
		allErrs = append(allErrs, validateKeySelector(ref.Name, ref.Key, fldPath.Child("configMapKeyRef"))...)
	}
	if ref := src.SecretKeyRef; ref != nil {
		allErrs = append(allErrs, validateKeySelector(ref.Name, ref.Key, fldPath.Child("secretKeyRef"))...)
	}
	return allErrs
}

// validateKeySelector checks a reference to one key of a config map or secret.
func validateKeySelector(name, key string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if name == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("name"), ""))
	}
	return append(allErrs, validateDataKey(key, fldPath.Child("key"))...)
}

func validateEnvFrom(sources []corev1.EnvFromSource, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, src := range sources {
		idxPath := fldPath.Index(i)
		if src.Prefix != "" {
			allErrs = append(allErrs, validateEnvVarName(src.Prefix, idxPath.Child("prefix"))...)
		}
		if countSet(src) != 1 {
			allErrs = append(allErrs, field.Invalid(idxPath, "", "must specify exactly one of: `configMapRef` or `secretRef`"))
		}
		if src.ConfigMapRef != nil && src.ConfigMapRef.Name == "" {
			allErrs = append(allErrs, field.Required(idxPath.Child("configMapRef", "name"), ""))
		}
		if src.SecretRef != nil && src.SecretRef.Name == "" {
			allErrs = append(allErrs, field.Required(idxPath.Child("secretRef", "name"), ""))
		}
	}
	return allErrs
}

func validateVolumeMounts(mounts []corev1.VolumeMount, volumes sets.Set[string], fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	mountPaths := sets.New[string]()
	for i, m := range mounts {
		idxPath := fldPath.Index(i)
		switch {
		case m.Name == "":
			allErrs = append(allErrs, field.Required(idxPath.Child("name"), ""))
		case !volumes.Has(m.Name):
			allErrs = append(allErrs, field.NotFound(idxPath.Child("name"), m.Name))
		}
		mountPath := idxPath.Child("mountPath")
		switch {
		case m.MountPath == "":
			allErrs = append(allErrs, field.Required(mountPath, ""))
		case mountPaths.Has(m.MountPath):
			allErrs = append(allErrs, field.Invalid(mountPath, m.MountPath, "must be unique"))
		default:
			mountPaths.Insert(m.MountPath)
		}
		if m.SubPath != "" {
			allErrs = append(allErrs, validateRelativePath(m.SubPath, idxPath.Child("subPath"))...)
		}
		if m.SubPath != "" && m.SubPathExpr != "" {
			allErrs = append(allErrs, field.Invalid(idxPath.Child("subPathExpr"), m.SubPathExpr,
				"subPathExpr and subPath are mutually exclusive"))
		}
	}
	return allErrs
}
