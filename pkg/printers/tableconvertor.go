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

// Package printers converts objects to the metav1.Table that `kubectl get`
// asks for, with the columns kube-apiserver prints, so that kubectl output
// looks the same against Arcturus as against Kubernetes.
package printers

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
)

// TableConvertor converts objects of one kind, and lists of them, to tables.
// It satisfies k8s.io/apiserver/pkg/registry/rest.TableConvertor.
type TableConvertor struct {
	columns []metav1.TableColumnDefinition
	row     func(runtime.Object) (metav1.TableRow, error)
}

// newTableConvertor builds the convertor of the kind whose objects are T.
// cells returns one row's cells, one per column, priority-1 ones included:
// the client drops those unless asked for wide output.
func newTableConvertor[T runtime.Object](columns []metav1.TableColumnDefinition, cells func(T) metav1.TableRow) *TableConvertor {
	return &TableConvertor{
		columns: columns,
		row: func(obj runtime.Object) (metav1.TableRow, error) {
			typed, ok := obj.(T)
			if !ok {
				var want T
				return metav1.TableRow{}, fmt.Errorf("cannot convert %T to a table of %T", obj, want)
			}
			row := cells(typed)
			row.Object = runtime.RawExtension{Object: obj}
			return row, nil
		},
	}
}

// ConvertToTable converts an object or a list of objects to a table.
func (c *TableConvertor) ConvertToTable(_ context.Context, obj runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	table := &metav1.Table{Rows: []metav1.TableRow{}}
	addRow := func(item runtime.Object) error {
		row, err := c.row(item)
		if err != nil {
			return err
		}
		table.Rows = append(table.Rows, row)
		return nil
	}
	if meta.IsListType(obj) {
		if err := meta.EachListItem(obj, addRow); err != nil {
			return nil, err
		}
	} else if err := addRow(obj); err != nil {
		return nil, err
	}

	if list, err := meta.ListAccessor(obj); err == nil {
		table.ResourceVersion = list.GetResourceVersion()
		table.Continue = list.GetContinue()
		table.RemainingItemCount = list.GetRemainingItemCount()
	} else if common, err := meta.CommonAccessor(obj); err == nil {
		table.ResourceVersion = common.GetResourceVersion()
	}
	if opts, ok := tableOptions.(*metav1.TableOptions); !ok || !opts.NoHeaders {
		table.ColumnDefinitions = c.columns
	}
	return table, nil
}

var objectMetaDoc = metav1.ObjectMeta{}.SwaggerDoc()

// nameColumn and ageColumn start and end most tables.
var (
	nameColumn = metav1.TableColumnDefinition{Name: "Name", Type: "string", Format: "name", Description: objectMetaDoc["name"]}
	ageColumn  = metav1.TableColumnDefinition{Name: "Age", Type: "string", Description: objectMetaDoc["creationTimestamp"]}
)

// column defines a column of the given type; priority 1 marks wide-only columns.
func column(name, typ string, priority int32, description string) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: typ, Priority: priority, Description: description}
}

// cells makes a row of the given cells.
func cells(values ...any) metav1.TableRow {
	return metav1.TableRow{Cells: values}
}

// age prints the time since t as kubectl does: 5s, 3m2s, 4h, 12d.
func age(t metav1.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t.Time))
}

// orNone prints an empty value as kubectl does.
func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
