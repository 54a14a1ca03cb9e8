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

// Package ipxe serves what network-booting servers fetch over HTTP once
// iPXE runs: /boot.ipxe, the entry script DHCP points iPXE at; /ipxe, the
// script for one server's state (the inventory agent, its Environment, or
// its disk); and /env/<name>/{kernel,initrd}, the Environments' files.
package ipxe

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/template"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
	"github.com/arcturus-cloud/arcturus/pkg/metal/agentapi"
	"github.com/arcturus-cloud/arcturus/pkg/metal/assets"
	"github.com/arcturus-cloud/arcturus/pkg/metal/inventory"
	"github.com/arcturus-cloud/arcturus/pkg/metal/lifecycle"
)

// Kernel arguments every booted Environment receives.
const (
	// KernelArgConfig is the URL of the server's machine config.
	KernelArgConfig = "arcturus.config"
)

// Paths this package serves.
const (
	BootScriptPath = "/boot.ipxe"
	ScriptPath     = "/ipxe"
	EnvPath        = "/env/"
)

// retryAfter is how long a server waits before asking again for a boot
// script that cannot be served yet.
const retryAfter = 30 * time.Second

// Handler serves boot scripts and Environment files.
type Handler struct {
	Client client.Client
	// Reader reads from a cache; Live reads servers before they are
	// written.
	Reader client.Reader
	Live   client.Reader
	Assets *assets.Store
	// BaseURL is how servers reach this service, such as http://10.0.0.1:8081.
	BaseURL string
	Now     func() time.Time
}

// Register installs the handler's routes on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+BootScriptPath, h.bootScript)
	mux.HandleFunc("GET "+ScriptPath, h.script)
	mux.HandleFunc("GET "+EnvPath+"{name}/{file}", h.envFile)
}

// The entry script asks for this server's script by SMBIOS UUID and the MAC
// of the interface that booted. It does not retry: when the service fails
// the firmware moves on to its next boot device, which is what the http-404
// boot-from-disk method relies on.
var bootScript = template.Must(template.New("boot").Parse(`#!ipxe
chain --replace --autofree {{.}}` + ScriptPath + `?uuid=${uuid}&mac=${mac:hexhyp}&arch=${buildarch}
`))

var (
	bootTemplate = template.Must(template.New("boot").Parse(`#!ipxe
echo Arcturus: booting {{.What}}
kernel {{.Kernel}} {{.Args}}
{{if .Initrd}}initrd --name initrd {{.Initrd}}
{{end}}boot
`))
	waitTemplate = template.Must(template.New("wait").Parse(`#!ipxe
echo Arcturus: {{.Message}}
echo Arcturus: asking again in {{.Seconds}} seconds
sleep {{.Seconds}}
chain --replace --autofree {{.Self}}
`))
)

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) bootScript(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_ = bootScript.Execute(w, h.BaseURL)
}

func (h *Handler) script(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	uuid, mac := q.Get("uuid"), q.Get("mac")
	logger := klog.FromContext(ctx).WithValues("uuid", uuid, "mac", mac, "remote", inventory.RemoteIP(r))
	if _, ok := inventory.NormalizeUUID(uuid); !ok && mac == "" {
		scripts.WithLabelValues("invalid").Inc()
		http.Error(w, "a uuid or a mac parameter is required", http.StatusBadRequest)
		return
	}
	s, err := inventory.FindServer(ctx, h.Reader, uuid, mac)
	if err != nil {
		h.fail(w, r, "the inventory is unavailable", err)
		return
	}
	var b *metalv1alpha1.ServerBinding
	if s != nil {
		if b, err = inventory.Binding(ctx, h.Reader, s.Name); err != nil {
			h.fail(w, r, "the inventory is unavailable", err)
			return
		}
	}
	kind := lifecycle.Boot(s, b)
	class, err := inventory.Class(ctx, h.Reader, b)
	if err != nil {
		h.fail(w, r, "the inventory is unavailable", err)
		return
	}
	logger = logger.WithValues("boot", kind)
	switch kind {
	case lifecycle.BootDisk:
		h.bootDisk(w, lifecycle.BootFromDiskMethod(s, class))
		logger.V(2).Info("Served a boot from disk")
	case lifecycle.BootAgent:
		h.bootEnvironment(w, r, s, metalv1alpha1.EnvironmentAgent, "the inventory agent")
	case lifecycle.BootEnvironment:
		if inventory.Impostor(inventory.RemoteIP(r), inventory.MACs(s.Spec.Hardware)) {
			// Its config would go to the address that fetches this.
			logger.Info("Refused a bound server's boot script to another machine")
			scripts.WithLabelValues("impostor").Inc()
			http.NotFound(w, r)
			return
		}
		env := lifecycle.EnvironmentName(s, b, class)
		if h.bootEnvironment(w, r, s, env, "Environment "+env) {
			h.record(ctx, s.Name, inventory.RemoteIP(r), env)
		}
	}
	scripts.WithLabelValues(string(kind)).Inc()
}

// record notes that bound server name fetched Environment env's script from
// ip: that address may then read its config, and later boots go to disk.
func (h *Handler) record(ctx context.Context, name, ip, env string) {
	_, err := inventory.UpdateStatus(ctx, h.Live, h.Client, name, func(s *metalv1alpha1.Server) bool {
		inventory.AddAddress(s, ip)
		lifecycle.MarkEnvironmentBooted(s, env, h.now())
		lifecycle.MarkBooted(s, h.now())
		return true
	})
	if err != nil {
		klog.FromContext(ctx).Error(err, "Recording an Environment boot failed", "server", name)
	}
}

func (h *Handler) bootDisk(w http.ResponseWriter, method metalv1alpha1.BootFromDiskMethod) {
	switch method {
	case metalv1alpha1.BootFromDiskHTTP404:
		// iPXE's chain fails, and the firmware tries its next device.
		http.Error(w, "boot from disk", http.StatusNotFound)
	case metalv1alpha1.BootFromDiskSANBoot:
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "#!ipxe\nsanboot --no-describe --drive 0x80\n")
	default:
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "#!ipxe\nexit\n")
	}
}

// bootEnvironment serves the script that boots Environment name on server s
// (nil when it is not registered yet); it reports whether it did, or served
// a script that waits because the Environment is not ready.
func (h *Handler) bootEnvironment(w http.ResponseWriter, r *http.Request, s *metalv1alpha1.Server, name, what string) bool {
	var env metalv1alpha1.Environment
	if err := h.Reader.Get(r.Context(), client.ObjectKey{Name: name}, &env); err != nil {
		if apierrors.IsNotFound(err) {
			h.wait(w, r, fmt.Sprintf("Environment %s does not exist", name))
			return false
		}
		h.fail(w, r, "the inventory is unavailable", err)
		return false
	}
	if !meta.IsStatusConditionTrue(env.Status.Conditions, "Ready") {
		h.wait(w, r, fmt.Sprintf("Environment %s is not ready", name))
		return false
	}
	args := append([]string{}, env.Spec.Args...)
	args = append(args, agentapi.KernelArgURL+"="+h.BaseURL)
	if s != nil {
		args = append(args, KernelArgConfig+"="+h.BaseURL+"/configdata?uuid="+url.QueryEscape(s.Name))
	}
	data := struct{ What, Kernel, Initrd, Args string }{What: what, Kernel: h.BaseURL + EnvPath + url.PathEscape(name) + "/kernel"}
	if env.Spec.Initrd != nil {
		data.Initrd = h.BaseURL + EnvPath + url.PathEscape(name) + "/initrd"
		// UEFI kernels find the initrd iPXE loaded by this name.
		args = append(args, "initrd=initrd")
	}
	data.Args = strings.Join(args, " ")
	w.Header().Set("Content-Type", "text/plain")
	_ = bootTemplate.Execute(w, data)
	return true
}

// wait serves a script that shows message and asks again later.
func (h *Handler) wait(w http.ResponseWriter, r *http.Request, message string) {
	klog.FromContext(r.Context()).Info("A server must wait to boot", "reason", message, "remote", inventory.RemoteIP(r))
	w.Header().Set("Content-Type", "text/plain")
	_ = waitTemplate.Execute(w, struct {
		Message, Self string
		Seconds       int
	}{message, h.BaseURL + r.URL.RequestURI(), int(retryAfter / time.Second)})
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, message string, err error) {
	klog.FromContext(r.Context()).Error(err, "Serving a boot script failed")
	scripts.WithLabelValues("error").Inc()
	http.Error(w, message, http.StatusServiceUnavailable)
}

func (h *Handler) envFile(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name, file := r.PathValue("name"), r.PathValue("file")
	var env metalv1alpha1.Environment
	if err := h.Reader.Get(ctx, client.ObjectKey{Name: name}, &env); err != nil {
		if apierrors.IsNotFound(err) {
			http.NotFound(w, r)
			return
		}
		http.Error(w, "the inventory is unavailable", http.StatusServiceUnavailable)
		return
	}
	var asset *metalv1alpha1.Asset
	switch file {
	case "kernel":
		asset = &env.Spec.Kernel
	case "initrd":
		asset = env.Spec.Initrd
	}
	if asset == nil {
		http.NotFound(w, r)
		return
	}
	path, err := h.Assets.Path(ctx, *asset)
	if err != nil {
		klog.FromContext(ctx).Error(err, "An Environment asset is unavailable", "environment", name, "file", file)
		http.Error(w, "asset unavailable", http.StatusServiceUnavailable)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		http.Error(w, "asset unavailable", http.StatusServiceUnavailable)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		http.Error(w, "asset unavailable", http.StatusServiceUnavailable)
		return
	}
	start := time.Now()
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", fi.ModTime(), f)
	assetBytes.WithLabelValues(file).Add(float64(fi.Size()))
	klog.FromContext(ctx).V(2).Info("Served an Environment asset", "environment", name, "file", file, "bytes", fi.Size(),
		"duration", time.Since(start), "remote", inventory.RemoteIP(r))
}
