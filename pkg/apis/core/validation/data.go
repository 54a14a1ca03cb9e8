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
	"encoding/json"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateConfigMap checks a config map on creation.
func ValidateConfigMap(cm *corev1.ConfigMap) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&cm.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	dataPath, binaryPath := field.NewPath("data"), field.NewPath("binaryData")
	size := 0
	for _, key := range slices.Sorted(maps.Keys(cm.Data)) {
		allErrs = append(allErrs, validateDataKey(key, dataPath.Key(key))...)
		// A key in both maps would be two files at one path when mounted.
		if _, ok := cm.BinaryData[key]; ok {
			allErrs = append(allErrs, field.Invalid(dataPath.Key(key), key, "duplicate of key present in binaryData"))
		}
		size += len(cm.Data[key])
	}
	for _, key := range slices.Sorted(maps.Keys(cm.BinaryData)) {
		allErrs = append(allErrs, validateDataKey(key, binaryPath.Key(key))...)
		size += len(cm.BinaryData[key])
	}
	// The limit holds for data and binaryData together; report it on data.
	if size > MaxSecretSize {
		allErrs = append(allErrs, field.TooLong(dataPath, "", MaxSecretSize))
	}
	return allErrs
}

// ValidateConfigMapUpdate checks an update of a config map.
func ValidateConfigMapUpdate(newCM, oldCM *corev1.ConfigMap) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newCM.ObjectMeta, &oldCM.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateImmutableData(newCM.Immutable, oldCM.Immutable, map[string]bool{
		"data":       !apiequality.Semantic.DeepEqual(newCM.Data, oldCM.Data),
		"binaryData": !apiequality.Semantic.DeepEqual(newCM.BinaryData, oldCM.BinaryData),
	})...)
	return append(allErrs, ValidateConfigMap(newCM)...)
}

// validateImmutableData freezes an object marked immutable: the mark stays
// and none of the data fields (named, with whether they changed) change.
func validateImmutableData(newImmutable, oldImmutable *bool, changed map[string]bool) field.ErrorList {
	if oldImmutable == nil || !*oldImmutable {
		return nil
	}
	const msg = "field is immutable when `immutable` is set"
	var allErrs field.ErrorList
	if newImmutable == nil || !*newImmutable {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("immutable"), msg))
	}
	for _, name := range slices.Sorted(maps.Keys(changed)) {
		if changed[name] {
			allErrs = append(allErrs, field.Forbidden(field.NewPath(name), msg))
		}
	}
	return allErrs
}

// ValidateSecret checks a secret on creation. stringData is checked with
// data because Arcturus stores the versioned type, where stringData may
// still be present when validation runs.
func ValidateSecret(secret *corev1.Secret) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&secret.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	dataPath := field.NewPath("data")
	size := 0
	for _, key := range slices.Sorted(maps.Keys(secret.Data)) {
		allErrs = append(allErrs, validateDataKey(key, dataPath.Key(key))...)
		size += len(secret.Data[key])
	}
	stringDataPath := field.NewPath("stringData")
	for _, key := range slices.Sorted(maps.Keys(secret.StringData)) {
		allErrs = append(allErrs, validateDataKey(key, stringDataPath.Key(key))...)
		size += len(secret.StringData[key])
	}
	if size > MaxSecretSize {
		allErrs = append(allErrs, field.TooLong(dataPath, "", MaxSecretSize))
	}
	return append(allErrs, validateSecretType(secret, dataPath)...)
}

// secretValue returns a key's value from data or stringData.
func secretValue(secret *corev1.Secret, key string) ([]byte, bool) {
	if s, ok := secret.StringData[key]; ok {
		return []byte(s), true
	}
	v, ok := secret.Data[key]
	return v, ok
}

// validateSecretType requires the keys that consumers of a typed secret read.
func validateSecretType(secret *corev1.Secret, dataPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	require := func(keys ...string) {
		for _, key := range keys {
			if _, ok := secretValue(secret, key); !ok {
				allErrs = append(allErrs, field.Required(dataPath.Key(key), ""))
			}
		}
	}
	requireJSON := func(key string) {
		require(key)
		if v, ok := secretValue(secret, key); ok {
			if err := json.Unmarshal(v, &map[string]any{}); err != nil {
				allErrs = append(allErrs, field.Invalid(dataPath.Key(key), "<secret contents redacted>", err.Error()))
			}
		}
	}
	switch secret.Type {
	case corev1.SecretTypeServiceAccountToken:
		// The token itself is filled in later by the token controller.
		if secret.Annotations[corev1.ServiceAccountNameKey] == "" {
			allErrs = append(allErrs, field.Required(field.NewPath("metadata", "annotations").Key(corev1.ServiceAccountNameKey), ""))
		}
	case corev1.SecretTypeDockercfg:
		requireJSON(corev1.DockerConfigKey)
	case corev1.SecretTypeDockerConfigJson:
		requireJSON(corev1.DockerConfigJsonKey)
	case corev1.SecretTypeBasicAuth:
		_, hasUser := secretValue(secret, corev1.BasicAuthUsernameKey)
		_, hasPassword := secretValue(secret, corev1.BasicAuthPasswordKey)
		if !hasUser && !hasPassword {
			require(corev1.BasicAuthUsernameKey, corev1.BasicAuthPasswordKey)
		}
	case corev1.SecretTypeSSHAuth:
		require(corev1.SSHAuthPrivateKey)
	case corev1.SecretTypeTLS:
		require(corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
	}
	return allErrs
}

// ValidateSecretUpdate checks an update of a secret.
func ValidateSecretUpdate(newSecret, oldSecret *corev1.Secret) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newSecret.ObjectMeta, &oldSecret.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, apimachineryvalidation.ValidateImmutableField(newSecret.Type, oldSecret.Type, field.NewPath("type"))...)
	allErrs = append(allErrs, validateImmutableData(newSecret.Immutable, oldSecret.Immutable, map[string]bool{
		"data":       !apiequality.Semantic.DeepEqual(newSecret.Data, oldSecret.Data),
		"stringData": len(newSecret.StringData) > 0,
	})...)
	return append(allErrs, ValidateSecret(newSecret)...)
}
