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

// Package strategy is the create/update/delete strategy shared by the kinds
// Arcturus serves. Each kind supplies only what differs: its validation,
// whether it is namespaced, and whether it has a status subresource.
package strategy

import (
	"context"
	"fmt"
	"reflect"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage/names"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// Funcs are the kind-specific parts of a strategy. Validate and
// ValidateUpdate are required; other nil functions do nothing.
type Funcs struct {
	// Validate checks a new object, its metadata included.
	Validate func(obj runtime.Object) field.ErrorList
	// ValidateUpdate checks an update, its metadata included.
	ValidateUpdate func(obj, old runtime.Object) field.ErrorList
	// PrepareForCreate clears or defaults server-owned fields on create.
	PrepareForCreate func(ctx context.Context, obj runtime.Object)
	// PrepareForUpdate carries server-owned fields over from old.
	PrepareForUpdate func(ctx context.Context, obj, old runtime.Object)
}

// Strategy implements the rest create, update and delete strategies.
type Strategy struct {
	runtime.ObjectTyper
	names.NameGenerator

	namespaced bool
	hasStatus  bool
	funcs      Funcs
	// resetFields are the fields a write through this strategy cannot set,
	// for server-side apply's managed fields.
	resetFields map[fieldpath.APIVersion]*fieldpath.Set
}

var (
	_ rest.RESTCreateStrategy  = &Strategy{}
	_ rest.RESTUpdateStrategy  = &Strategy{}
	_ rest.RESTDeleteStrategy  = &Strategy{}
	_ rest.ResetFieldsStrategy = &Strategy{}
)

// New returns the strategy of a kind.
func New(typer runtime.ObjectTyper, namespaced bool, funcs Funcs) *Strategy {
	if funcs.Validate == nil || funcs.ValidateUpdate == nil {
		panic("strategy: Validate and ValidateUpdate are required")
	}
	return &Strategy{ObjectTyper: typer, NameGenerator: names.SimpleNameGenerator, namespaced: namespaced, funcs: funcs}
}

// StatusStrategy returns the strategy of the kind's status subresource:
// updates through it change the status and the metadata, never the spec.
func (s *Strategy) StatusStrategy(apiVersion string, validateStatus func(obj, old runtime.Object) field.ErrorList) *Strategy {
	status := *s
	status.hasStatus = false
	status.funcs.PrepareForUpdate = func(_ context.Context, obj, old runtime.Object) {
		copyField("Spec", old, obj)
		if m, err := meta.Accessor(obj); err == nil {
			if o, err := meta.Accessor(old); err == nil {
				m.SetOwnerReferences(o.GetOwnerReferences())
			}
		}
	}
	status.funcs.ValidateUpdate = validateStatus
	status.resetFields = map[fieldpath.APIVersion]*fieldpath.Set{
		fieldpath.APIVersion(apiVersion): fieldpath.NewSet(fieldpath.MakePathOrDie("spec")),
	}
	return &status
}

// WithStatus returns a copy of s for a kind with a status subresource: its
// main resource keeps the stored status on update.
func (s *Strategy) WithStatus(apiVersion string) *Strategy {
	c := *s
	c.hasStatus = true
	c.resetFields = map[fieldpath.APIVersion]*fieldpath.Set{
		fieldpath.APIVersion(apiVersion): fieldpath.NewSet(fieldpath.MakePathOrDie("status")),
	}
	return &c
}

// copyField sets the named struct field of *to to that of *from. Both are
// pointers to the same struct type; the copy is shallow, as the stored
// object it comes from is not used again.
func copyField(name string, from, to runtime.Object) {
	f := reflect.ValueOf(from).Elem().FieldByName(name)
	t := reflect.ValueOf(to).Elem().FieldByName(name)
	if f.IsValid() && t.IsValid() && t.CanSet() {
		t.Set(f)
	}
}

func (s *Strategy) NamespaceScoped() bool { return s.namespaced }

func (s *Strategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	if s.funcs.PrepareForCreate != nil {
		s.funcs.PrepareForCreate(ctx, obj)
	}
}

func (s *Strategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	if s.funcs.PrepareForUpdate != nil {
		s.funcs.PrepareForUpdate(ctx, obj, old)
	}
	// The main resource does not change the status of kinds that have a
	// status subresource.
	if s.hasStatus {
		copyField("Status", old, obj)
	}
}

func (s *Strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return s.funcs.Validate(obj)
}

func (s *Strategy) WarningsOnCreate(context.Context, runtime.Object) []string { return nil }

func (s *Strategy) Canonicalize(runtime.Object) {}

func (s *Strategy) AllowCreateOnUpdate(context.Context) bool { return false }

func (s *Strategy) AllowUnconditionalUpdate(context.Context) bool { return true }

func (s *Strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return s.funcs.ValidateUpdate(obj, old)
}

func (s *Strategy) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}

func (s *Strategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set { return s.resetFields }

// Validator adapts a typed validation function.
func Validator[T runtime.Object](validate func(T) field.ErrorList) func(runtime.Object) field.ErrorList {
	return func(obj runtime.Object) field.ErrorList {
		typed, ok := obj.(T)
		if !ok {
			return field.ErrorList{field.InternalError(nil, fmt.Errorf("unexpected type %T", obj))}
		}
		return validate(typed)
	}
}

// UpdateValidator adapts a typed update validation function.
func UpdateValidator[T runtime.Object](validate func(obj, old T) field.ErrorList) func(obj, old runtime.Object) field.ErrorList {
	return func(obj, old runtime.Object) field.ErrorList {
		typed, ok1 := obj.(T)
		typedOld, ok2 := old.(T)
		if !ok1 || !ok2 {
			return field.ErrorList{field.InternalError(nil, fmt.Errorf("unexpected types %T, %T", obj, old))}
		}
		return validate(typed, typedOld)
	}
}
