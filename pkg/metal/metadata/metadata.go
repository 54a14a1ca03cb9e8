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

// Package metadata serves /configdata: the machine config of a bound
// server, with its class's and its own config patches applied. A server
// gets its own config only: the request must come from one of the
// addresses the server was seen at, and anything else is a 404 that tells
// nothing.
package metadata

import (
	"encoding/json"
	"fmt"
	"net/http"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
	"github.com/arcturus-cloud/arcturus/pkg/metal/inventory"
)

// Path is where the config is served.
const Path = "/configdata"

// ConfigKey is the key of a config Secret that holds the config.
const ConfigKey = "value"

// Handler serves machine configs.
type Handler struct {
	Reader client.Reader
}

// Register installs the handler's route on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+Path, h.serve)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	remote := inventory.RemoteIP(r)
	uuid, ok := inventory.NormalizeUUID(r.URL.Query().Get("uuid"))
	logger := klog.FromContext(ctx).WithValues("server", uuid, "remote", remote)
	notFound := func(why string) {
		// One answer for every refusal, so that a prober learns nothing.
		logger.Info("Refused a config request", "reason", why)
		requests.WithLabelValues("refused").Inc()
		http.NotFound(w, r)
	}
	if !ok {
		notFound("no valid uuid")
		return
	}
	s, err := inventory.FindServer(ctx, h.Reader, uuid, "")
	if err != nil {
		h.unavailable(w, err)
		return
	}
	if s == nil {
		notFound("unknown server")
		return
	}
	if !inventory.HasAddress(s, remote) || inventory.Impostor(remote, inventory.MACs(s.Spec.Hardware)) {
		notFound("the request does not come from an address of the server")
		return
	}
	b, err := inventory.Binding(ctx, h.Reader, s.Name)
	if err != nil {
		h.unavailable(w, err)
		return
	}
	if b == nil || b.Spec.ConfigSecretRef == nil {
		notFound("not bound, or bound without a config")
		return
	}
	var secret corev1.Secret
	ref := b.Spec.ConfigSecretRef
	if err := h.Reader.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			notFound(fmt.Sprintf("config secret %s/%s does not exist", ref.Namespace, ref.Name))
			return
		}
		h.unavailable(w, err)
		return
	}
	config, ok := secret.Data[ConfigKey]
	if !ok {
		notFound(fmt.Sprintf("config secret %s/%s has no key %q", ref.Namespace, ref.Name, ConfigKey))
		return
	}
	class, err := inventory.Class(ctx, h.Reader, b)
	if err != nil {
		h.unavailable(w, err)
		return
	}
	var patches []metalv1alpha1.ConfigPatch
	if class != nil {
		patches = append(patches, class.Spec.ConfigPatches...)
	}
	patches = append(patches, s.Spec.ConfigPatches...)
	out, err := Patch(config, patches)
	if err != nil {
		logger.Error(err, "Applying config patches failed")
		requests.WithLabelValues("error").Inc()
		http.Error(w, "the server's config patches do not apply", http.StatusInternalServerError)
		return
	}
	requests.WithLabelValues("served").Inc()
	logger.Info("Served a machine config", "bytes", len(out), "patches", len(patches))
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(out)
}

func (h *Handler) unavailable(w http.ResponseWriter, err error) {
	requests.WithLabelValues("error").Inc()
	klog.Background().Error(err, "Serving a machine config failed")
	http.Error(w, "the inventory is unavailable", http.StatusServiceUnavailable)
}

// Patch applies RFC 6902 patches to a YAML or JSON config and returns YAML;
// a config without patches is returned as it is, whatever its format.
func Patch(config []byte, patches []metalv1alpha1.ConfigPatch) ([]byte, error) {
	if len(patches) == 0 {
		return config, nil
	}
	doc, err := yaml.YAMLToJSON(config)
	if err != nil {
		return nil, fmt.Errorf("config is not YAML or JSON: %w", err)
	}
	ops, err := json.Marshal(patches)
	if err != nil {
		return nil, fmt.Errorf("encoding patches: %w", err)
	}
	patch, err := jsonpatch.DecodePatch(ops)
	if err != nil {
		return nil, fmt.Errorf("decoding patches: %w", err)
	}
	patched, err := patch.Apply(doc)
	if err != nil {
		return nil, fmt.Errorf("applying patches: %w", err)
	}
	out, err := yaml.JSONToYAML(patched)
	if err != nil {
		return nil, fmt.Errorf("writing the patched config: %w", err)
	}
	return out, nil
}
