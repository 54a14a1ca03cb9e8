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

package machine

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/metal/power"
)

// The Redfish tree: one system and the manager (the BMC) that manages it,
// with the ids many BMCs use.
const (
	redfishRoot     = "/redfish/v1"
	redfishSystems  = redfishRoot + "/Systems"
	redfishSystem   = redfishSystems + "/1"
	redfishReset    = redfishSystem + "/Actions/ComputerSystem.Reset"
	redfishManagers = redfishRoot + "/Managers"
	redfishManager  = redfishManagers + "/1"
	// messagePrefix names the Base message registry that error messages
	// come from.
	messagePrefix = "Base.1.15."
	// maxRequestBytes bounds request bodies; Redfish requests are small.
	maxRequestBytes = 64 << 10
)

// Redfish values the emulation accepts.
const (
	resetOn               = "On"
	resetForceOff         = "ForceOff"
	resetGracefulShutdown = "GracefulShutdown"
	resetForceRestart     = "ForceRestart"
	resetPowerCycle       = "PowerCycle"

	bootTarget     = "BootSourceOverrideTarget"
	bootEnabled    = "BootSourceOverrideEnabled"
	targetNone     = "None"
	targetPxe      = "Pxe"
	enabledOff     = "Disabled"
	enabledOnce    = "Once"
	enabledAlways  = "Continuous"
	resetActionKey = "#ComputerSystem.Reset"
)

var (
	resetTypes     = []string{resetOn, resetForceOff, resetGracefulShutdown, resetForceRestart, resetPowerCycle}
	bootTargets    = []string{targetNone, targetPxe}
	bootEnabledSet = []string{enabledOff, enabledOnce, enabledAlways}
)

// redfishBMC is a running Redfish service.
type redfishBMC struct {
	srv  *http.Server
	url  string
	done chan struct{}
}

// startRedfish serves the machine's Redfish BMC on its address.
func (m *Machine) startRedfish(ctx context.Context) (*redfishBMC, error) {
	ln, err := net.Listen("tcp", m.spec.BMC.Address)
	if err != nil {
		return nil, err
	}
	// Requests get the logger of ctx, not its deadline.
	base := context.WithoutCancel(ctx)
	b := &redfishBMC{
		srv: &http.Server{
			Handler:           &redfishService{m: m},
			ReadHeaderTimeout: 10 * time.Second,
			BaseContext:       func(net.Listener) context.Context { return base },
		},
		url:  "http://" + ln.Addr().String(),
		done: make(chan struct{}),
	}
	go func() {
		defer close(b.done)
		if err := b.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			m.logger(ctx).Error(err, "Redfish BMC stopped serving")
		}
	}()
	return b, nil
}

func (b *redfishBMC) endpoint() string { return b.url }

func (b *redfishBMC) stop(ctx context.Context) error {
	err := b.srv.Shutdown(ctx)
	if err != nil {
		// Requests still running are cut off.
		_ = b.srv.Close()
	}
	<-b.done
	return err
}

// redfishService is the HTTP handler of a machine's Redfish BMC.
type redfishService struct {
	m *Machine
}

func (s *redfishService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
	defer func() {
		method := r.Method
		if !slices.Contains([]string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete}, method) {
			method = "other"
		}
		redfishRequests.WithLabelValues(method, strconv.Itoa(sw.code)).Inc()
	}()
	r.Body = http.MaxBytesReader(sw, r.Body, maxRequestBytes)
	path := strings.TrimSuffix(r.URL.Path, "/")

	// The service root is open to all, as the specification requires, so
	// that clients can discover the service before they log in.
	if path != "/redfish" && path != redfishRoot && !s.authorized(r) {
		sw.Header().Set("WWW-Authenticate", `Basic realm="`+s.m.spec.Name+` BMC"`)
		writeError(sw, http.StatusUnauthorized, "NoValidSession", "There is no valid session established with the implementation.")
		return
	}
	switch path {
	case "/redfish":
		if allow(sw, r, http.MethodGet) {
			writeJSON(sw, http.StatusOK, map[string]string{"v1": redfishRoot + "/"})
		}
	case redfishRoot:
		if allow(sw, r, http.MethodGet) {
			writeJSON(sw, http.StatusOK, s.serviceRoot())
		}
	case redfishSystems:
		if allow(sw, r, http.MethodGet) {
			writeJSON(sw, http.StatusOK, collection(redfishSystems, "ComputerSystemCollection", "Computer System Collection", redfishSystem))
		}
	case redfishSystem:
		if allow(sw, r, http.MethodGet, http.MethodPatch) {
			if r.Method == http.MethodPatch {
				s.patchSystem(sw, r)
				return
			}
			writeSystem(sw, http.StatusOK, s.system())
		}
	case redfishReset:
		if allow(sw, r, http.MethodPost) {
			s.reset(sw, r)
		}
	case redfishManagers:
		if allow(sw, r, http.MethodGet) {
			writeJSON(sw, http.StatusOK, collection(redfishManagers, "ManagerCollection", "Manager Collection", redfishManager))
		}
	case redfishManager:
		if allow(sw, r, http.MethodGet) {
			writeJSON(sw, http.StatusOK, s.manager())
		}
	default:
		writeError(sw, http.StatusNotFound, "ResourceMissingAtURI", fmt.Sprintf("The resource at the URI %s was not found.", r.URL.Path), r.URL.Path)
	}
}

func (s *redfishService) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	u, p := s.m.BMCCredentials()
	return ok &&
		subtle.ConstantTimeCompare([]byte(user), []byte(u)) == 1 &&
		subtle.ConstantTimeCompare([]byte(pass), []byte(p)) == 1
}

// allow answers 405 unless r's method is one of methods.
func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeError(w, http.StatusMethodNotAllowed, "OperationNotAllowed", "The HTTP method is not allowed on this resource.")
	return false
}

// reset runs a ComputerSystem.Reset action.
func (s *redfishService) reset(w http.ResponseWriter, r *http.Request) {
	const action = "ComputerSystem.Reset"
	var params map[string]json.RawMessage
	if !decodeBody(w, r, &params) {
		return
	}
	for _, name := range sortedKeys(params) {
		if name != "ResetType" {
			writeError(w, http.StatusBadRequest, "ActionParameterUnknown",
				fmt.Sprintf("The action %s was submitted with the invalid parameter %s.", action, name), action, name)
			return
		}
	}
	raw, ok := params["ResetType"]
	if !ok {
		writeError(w, http.StatusBadRequest, "ActionParameterMissing",
			fmt.Sprintf("The action %s requires the parameter ResetType to be present in the request body.", action), action, "ResetType")
		return
	}
	var resetType string
	if json.Unmarshal(raw, &resetType) != nil || !slices.Contains(resetTypes, resetType) {
		writeError(w, http.StatusBadRequest, "ActionParameterValueNotInList",
			fmt.Sprintf("The value %s for the parameter ResetType in the action %s is not in the list of acceptable values.", raw, action),
			string(raw), "ResetType", action)
		return
	}

	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), bmcOperationTimeout)
	defer cancel()
	m := s.m
	var err error
	switch resetType {
	case resetOn:
		err = m.PowerOn(ctx)
	case resetForceOff:
		err = m.PowerOff(ctx)
	case resetGracefulShutdown:
		err = m.Shutdown(ctx)
	case resetForceRestart:
		err = m.Reset(ctx)
	case resetPowerCycle:
		if err = m.PowerOff(ctx); err == nil {
			err = m.PowerOn(ctx)
		}
	}
	switch {
	case errors.Is(err, ErrPoweredOff):
		writeError(w, http.StatusConflict, "ResourceInStandby",
			"The request could not be performed because the resource is in standby: the system is powered off.")
	case err != nil:
		klog.FromContext(ctx).Error(err, "Redfish reset failed", "machine", m.spec.Name, "resetType", resetType)
		writeError(w, http.StatusInternalServerError, "GeneralError", err.Error())
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// patchSystem changes the boot override, the only writable property.
func (s *redfishService) patchSystem(w http.ResponseWriter, r *http.Request) {
	if match := r.Header.Get("If-Match"); match != "" && match != "*" && match != etag(s.system()) {
		writeError(w, http.StatusPreconditionFailed, "PreconditionFailed",
			"The ETag supplied did not match the ETag required to change this resource.")
		return
	}
	var props map[string]json.RawMessage
	if !decodeBody(w, r, &props) {
		return
	}
	for _, name := range sortedKeys(props) {
		if name != "Boot" && !strings.HasPrefix(name, "@") {
			writeError(w, http.StatusBadRequest, "PropertyUnknown",
				fmt.Sprintf("The property %s is not in the list of valid properties for the resource.", name), name)
			return
		}
	}
	target, enabled := bootValues(s.m.BootOverride())
	if raw, ok := props["Boot"]; ok {
		var boot map[string]json.RawMessage
		if json.Unmarshal(raw, &boot) != nil {
			writeError(w, http.StatusBadRequest, "PropertyValueTypeError",
				fmt.Sprintf("The value %s for the property Boot is of a different type than the property can accept.", raw), string(raw), "Boot")
			return
		}
		newTarget, newEnabled := "", ""
		for _, name := range sortedKeys(boot) {
			var allowed []string
			var dst *string
			switch name {
			case bootTarget:
				allowed, dst = bootTargets, &newTarget
			case bootEnabled:
				allowed, dst = bootEnabledSet, &newEnabled
			default:
				writeError(w, http.StatusBadRequest, "PropertyUnknown",
					fmt.Sprintf("The property Boot/%s is not in the list of valid properties for the resource.", name), "Boot/"+name)
				return
			}
			if json.Unmarshal(boot[name], dst) != nil || !slices.Contains(allowed, *dst) {
				writeError(w, http.StatusBadRequest, "PropertyValueNotInList",
					fmt.Sprintf("The value %s for the property Boot/%s is not in the list of acceptable values.", boot[name], name),
					string(boot[name]), "Boot/"+name)
				return
			}
		}
		if newTarget != "" {
			target = newTarget
			// A target without a mode means the next boot, as on most
			// BMCs.
			if newEnabled == "" && enabled == enabledOff {
				enabled = enabledOnce
			}
		}
		if newEnabled != "" {
			enabled = newEnabled
		}
	}
	s.m.SetBootOverride(BootOverride{
		PXE:        target == targetPxe && enabled != enabledOff,
		Persistent: enabled == enabledAlways,
	})
	writeSystem(w, http.StatusOK, s.system())
}

// bootValues is the Redfish form of a boot override.
func bootValues(o BootOverride) (target, enabled string) {
	switch {
	case !o.PXE:
		return targetNone, enabledOff
	case o.Persistent:
		return targetPxe, enabledAlways
	}
	return targetPxe, enabledOnce
}

func (s *redfishService) serviceRoot() map[string]any {
	return map[string]any{
		"@odata.type":    "#ServiceRoot.v1_5_0.ServiceRoot",
		"@odata.id":      redfishRoot,
		"Id":             "RootService",
		"Name":           "Root Service",
		"RedfishVersion": "1.6.0",
		"UUID":           s.m.spec.UUID,
		"Systems":        odataID(redfishSystems),
		"Managers":       odataID(redfishManagers),
	}
}

func (s *redfishService) system() map[string]any {
	spec := s.m.spec
	target, enabled := bootValues(s.m.BootOverride())
	mode := "Legacy"
	if spec.Firmware == FirmwareUEFI {
		mode = "UEFI"
	}
	return map[string]any{
		"@odata.type":  "#ComputerSystem.v1_13_0.ComputerSystem",
		"@odata.id":    redfishSystem,
		"Id":           "1",
		"Name":         spec.Name,
		"SystemType":   "Physical",
		"Manufacturer": smbiosManufacturer,
		"Model":        smbiosProduct,
		"SerialNumber": spec.Name,
		"UUID":         spec.UUID,
		"PowerState":   string(s.m.PowerState()),
		"Status":       map[string]string{"State": "Enabled", "Health": "OK"},
		"ProcessorSummary": map[string]any{
			"Count": spec.CPUs,
		},
		"MemorySummary": map[string]any{
			"TotalSystemMemoryGiB": float64(spec.MemoryMiB) / 1024,
		},
		"Boot": map[string]any{
			bootTarget:                                       target,
			bootTarget + "@Redfish.AllowableValues":          bootTargets,
			bootEnabled:                                      enabled,
			bootEnabled + "@Redfish.AllowableValues":         bootEnabledSet,
			"BootSourceOverrideMode":                         mode,
			"BootSourceOverrideMode@Redfish.AllowableValues": []string{mode},
		},
		"Actions": map[string]any{
			resetActionKey: map[string]any{
				"target":                            redfishReset,
				"ResetType@Redfish.AllowableValues": resetTypes,
			},
		},
		"Links": map[string]any{
			"ManagedBy": []any{odataID(redfishManager)},
		},
	}
}

func (s *redfishService) manager() map[string]any {
	return map[string]any{
		"@odata.type":     "#Manager.v1_10_0.Manager",
		"@odata.id":       redfishManager,
		"Id":              "1",
		"Name":            s.m.spec.Name + " BMC",
		"ManagerType":     "BMC",
		"Model":           "Arcturus lab Redfish BMC",
		"FirmwareVersion": smbiosVersion,
		"UUID":            s.m.spec.UUID,
		"PowerState":      string(power.StateOn),
		"Status":          map[string]string{"State": "Enabled", "Health": "OK"},
		"Links": map[string]any{
			"ManagerForServers": []any{odataID(redfishSystem)},
		},
	}
}

func collection(path, typ, name string, members ...string) map[string]any {
	refs := make([]any, len(members))
	for i, m := range members {
		refs[i] = odataID(m)
	}
	return map[string]any{
		"@odata.type":         "#" + typ + "." + typ,
		"@odata.id":           path,
		"Name":                name,
		"Members@odata.count": len(refs),
		"Members":             refs,
	}
}

func odataID(path string) map[string]string { return map[string]string{"@odata.id": path} }

// decodeBody decodes a JSON object, answering 400 if the body is not one.
func decodeBody(w http.ResponseWriter, r *http.Request, v *map[string]json.RawMessage) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil || *v == nil {
		writeError(w, http.StatusBadRequest, "MalformedJSON",
			"The request body submitted was malformed JSON and could not be parsed by the receiving service.")
		return false
	}
	return true
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// writeSystem writes a system with its ETag, which PATCH may name in
// If-Match.
func writeSystem(w http.ResponseWriter, code int, sys map[string]any) {
	w.Header().Set("ETag", etag(sys))
	writeJSON(w, code, sys)
}

func etag(v any) string {
	b, _ := json.Marshal(v)
	h := fnv.New64a()
	h.Write(b)
	return fmt.Sprintf(`W/"%x"`, h.Sum64())
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// writeError writes a Redfish error: one message of the Base registry.
func writeError(w http.ResponseWriter, code int, id, message string, args ...string) {
	info := map[string]any{
		"@odata.type":     "#Message.v1_1_1.Message",
		"MessageId":       messagePrefix + id,
		"Message":         message,
		"MessageSeverity": "Critical",
	}
	if len(args) > 0 {
		info["MessageArgs"] = args
	}
	writeJSON(w, code, map[string]any{"error": map[string]any{
		"code":                  messagePrefix + id,
		"message":               message,
		"@Message.ExtendedInfo": []any{info},
	}})
}

// statusWriter remembers the status code, for metrics.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}
