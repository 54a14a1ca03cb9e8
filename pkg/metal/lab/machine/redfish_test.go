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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime/vm/vmtest"
	"github.com/arcturus-cloud/arcturus/pkg/metal/power"
	"github.com/arcturus-cloud/arcturus/pkg/metal/power/redfish"
)

// TestRedfishPower drives a machine that boots the test kernel with the
// Redfish power driver, through the emulated BMC.
func TestRedfishPower(t *testing.T) {
	t.Parallel()
	m := startMachine(t, Spec{
		Name:      "redfish-1",
		UUID:      "4c4c4544-0042-3510-8052-b4c04f4d3232",
		BMC:       BMCSpec{Type: BMCRedfish, Password: "rf-secret"},
		ExtraArgs: kernelArgs(t),
	})
	ctx := context.Background()
	user, pass := m.BMCCredentials()
	c, err := redfish.New(redfish.Config{Endpoint: m.BMCEndpoint(), Username: user, Password: pass, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	wantState := func(want power.State) {
		t.Helper()
		if got, err := c.State(ctx); err != nil || got != want {
			t.Fatalf("State() = %s, %v; want %s", got, err, want)
		}
	}

	wantState(power.StateOff)
	if m.running() != nil {
		t.Fatal("QEMU runs before the machine was powered on")
	}

	if err := c.PXEOnce(ctx); err != nil {
		t.Fatalf("PXEOnce: %v", err)
	}
	if boot := systemBoot(t, m); boot[bootTarget] != targetPxe || boot[bootEnabled] != enabledOnce {
		t.Fatalf("Boot after PXEOnce = %v, want a one-time PXE override", boot)
	}

	if err := c.On(ctx); err != nil {
		t.Fatalf("On: %v", err)
	}
	if st := vmStatus(t, m); st != "running" {
		t.Fatalf("QEMU status %q after On, want running", st)
	}
	if boot := systemBoot(t, m); boot[bootTarget] != targetNone || boot[bootEnabled] != enabledOff {
		t.Errorf("Boot after power on = %v, want the override consumed", boot)
	}
	waitConsole(t, m, vmtest.BootedMarker, 1)
	wantState(power.StateOn)
	pid := qemuPID(m)
	if err := c.On(ctx); err != nil || qemuPID(m) != pid {
		t.Fatalf("On when on: %v, QEMU %d -> %d; want nothing done", err, pid, qemuPID(m))
	}

	// The guest powers itself off when the power button is pressed.
	postReset(t, m, resetGracefulShutdown, http.StatusNoContent)
	waitConsole(t, m, vmtest.PowerButtonMarker, 1)
	waitPowerState(t, m, "Off", time.Minute)
	wantState(power.StateOff)

	// Cycle powers on a machine that is off, and cycles one that is on.
	if err := c.Cycle(ctx); err != nil {
		t.Fatalf("Cycle when off: %v", err)
	}
	wantState(power.StateOn)
	pid = qemuPID(m)
	if err := c.Cycle(ctx); err != nil {
		t.Fatalf("Cycle when on: %v", err)
	}
	if p := qemuPID(m); p == 0 || p == pid {
		t.Fatalf("QEMU %d after Cycle, want a new process replacing %d", p, pid)
	}

	pid = qemuPID(m)
	if err := c.Off(ctx); err != nil {
		t.Fatalf("Off: %v", err)
	}
	if !processGone(pid, m) {
		t.Fatalf("QEMU %d still runs after Off", pid)
	}
	wantState(power.StateOff)
	if err := c.Off(ctx); err != nil {
		t.Fatalf("Off when off: %v", err)
	}

	bad, err := redfish.New(redfish.Config{Endpoint: m.BMCEndpoint(), Username: user, Password: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.State(ctx)
	var rfErr *redfish.Error
	if !errors.As(err, &rfErr) || rfErr.StatusCode != http.StatusUnauthorized || !errors.Is(err, power.ErrUnauthorized) || errors.Is(err, power.ErrUnreachable) {
		t.Fatalf("State with a wrong password: %v; want a 401 error", err)
	}

	endpoint := m.BMCEndpoint()
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	gone, err := redfish.New(redfish.Config{Endpoint: endpoint, Username: user, Password: pass, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gone.State(ctx); !errors.Is(err, power.ErrUnreachable) {
		t.Fatalf("State of a stopped BMC: %v; want ErrUnreachable", err)
	}
}

// TestRedfishRequests checks the emulated BMC's answers to requests it
// must refuse, and to boot override changes.
func TestRedfishRequests(t *testing.T) {
	t.Parallel()
	vmtest.RequireQEMU(t)
	m := startMachine(t, Spec{Name: "redfish-2", BMC: BMCSpec{Type: BMCRedfish, Password: "rf-secret"}})
	etagNow := func() string {
		resp := request(t, m, http.MethodGet, redfishSystem, "", nil)
		return resp.Header.Get("ETag")
	}

	for _, tc := range []struct {
		name, method, path, body string
		header                   map[string]string
		noAuth                   bool
		code                     int
		messageID                string
	}{
		{name: "service root without credentials", method: http.MethodGet, path: redfishRoot + "/", noAuth: true, code: http.StatusOK},
		{name: "system without credentials", method: http.MethodGet, path: redfishSystem, noAuth: true, code: http.StatusUnauthorized, messageID: "NoValidSession"},
		{name: "unknown resource", method: http.MethodGet, path: redfishRoot + "/Chassis/9", code: http.StatusNotFound, messageID: "ResourceMissingAtURI"},
		{name: "method not allowed", method: http.MethodDelete, path: redfishSystem, code: http.StatusMethodNotAllowed, messageID: "OperationNotAllowed"},
		{name: "reset with bad JSON", method: http.MethodPost, path: redfishReset, body: `{"ResetType":`, code: http.StatusBadRequest, messageID: "MalformedJSON"},
		{name: "reset with an array", method: http.MethodPost, path: redfishReset, body: `["On"]`, code: http.StatusBadRequest, messageID: "MalformedJSON"},
		{name: "reset without type", method: http.MethodPost, path: redfishReset, body: `{}`, code: http.StatusBadRequest, messageID: "ActionParameterMissing"},
		{name: "unknown reset type", method: http.MethodPost, path: redfishReset, body: `{"ResetType":"Explode"}`, code: http.StatusBadRequest, messageID: "ActionParameterValueNotInList"},
		{name: "reset type not a string", method: http.MethodPost, path: redfishReset, body: `{"ResetType":1}`, code: http.StatusBadRequest, messageID: "ActionParameterValueNotInList"},
		{name: "unknown reset parameter", method: http.MethodPost, path: redfishReset, body: `{"ResetType":"On","Delay":3}`, code: http.StatusBadRequest, messageID: "ActionParameterUnknown"},
		{name: "restart when off", method: http.MethodPost, path: redfishReset, body: `{"ResetType":"ForceRestart"}`, code: http.StatusConflict, messageID: "ResourceInStandby"},
		{name: "patch bad JSON", method: http.MethodPatch, path: redfishSystem, body: `Boot`, code: http.StatusBadRequest, messageID: "MalformedJSON"},
		{name: "patch read-only property", method: http.MethodPatch, path: redfishSystem, body: `{"PowerState":"On"}`, code: http.StatusBadRequest, messageID: "PropertyUnknown"},
		{name: "patch Boot of wrong type", method: http.MethodPatch, path: redfishSystem, body: `{"Boot":"Pxe"}`, code: http.StatusBadRequest, messageID: "PropertyValueTypeError"},
		{name: "patch unknown target", method: http.MethodPatch, path: redfishSystem, body: `{"Boot":{"BootSourceOverrideTarget":"Floppy"}}`, code: http.StatusBadRequest, messageID: "PropertyValueNotInList"},
		{name: "patch unknown boot property", method: http.MethodPatch, path: redfishSystem, body: `{"Boot":{"BootNext":"Boot0001"}}`, code: http.StatusBadRequest, messageID: "PropertyUnknown"},
		{name: "patch with a stale ETag", method: http.MethodPatch, path: redfishSystem, body: `{"Boot":{"BootSourceOverrideTarget":"Pxe"}}`,
			header: map[string]string{"If-Match": `W/"stale"`}, code: http.StatusPreconditionFailed, messageID: "PreconditionFailed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var resp *http.Response
			if tc.noAuth {
				req, err := http.NewRequest(tc.method, m.BMCEndpoint()+tc.path, strings.NewReader(tc.body))
				if err != nil {
					t.Fatal(err)
				}
				resp = do(t, req)
			} else {
				resp = request(t, m, tc.method, tc.path, tc.body, tc.header)
			}
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.code)
			}
			if tc.messageID == "" {
				return
			}
			var body struct {
				Error struct {
					Code         string `json:"code"`
					Message      string `json:"message"`
					ExtendedInfo []struct {
						MessageID string `json:"MessageId"`
					} `json:"@Message.ExtendedInfo"`
				} `json:"error"`
			}
			if err := json.Unmarshal(readBody(t, resp), &body); err != nil {
				t.Fatalf("error body: %v", err)
			}
			want := messagePrefix + tc.messageID
			if body.Error.Code != want || body.Error.Message == "" || len(body.Error.ExtendedInfo) != 1 || body.Error.ExtendedInfo[0].MessageID != want {
				t.Fatalf("error %+v, want one message %s", body.Error, want)
			}
		})
	}

	if resp := request(t, m, http.MethodGet, redfishSystem, "", nil); resp.Header.Get("WWW-Authenticate") != "" {
		t.Error("WWW-Authenticate on an authenticated request")
	}
	// A target alone sets a one-time override; Continuous keeps it;
	// Disabled clears it.
	for _, step := range []struct {
		body          string
		want          BootOverride
		target, state string
	}{
		{`{"Boot":{"BootSourceOverrideTarget":"Pxe"}}`, BootOverride{PXE: true}, targetPxe, enabledOnce},
		{`{"Boot":{"BootSourceOverrideEnabled":"Continuous"}}`, BootOverride{PXE: true, Persistent: true}, targetPxe, enabledAlways},
		{`{"Boot":{"BootSourceOverrideEnabled":"Disabled"}}`, BootOverride{}, targetNone, enabledOff},
	} {
		resp := request(t, m, http.MethodPatch, redfishSystem, step.body, map[string]string{"If-Match": etagNow()})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PATCH %s: status %d: %s", step.body, resp.StatusCode, readBody(t, resp))
		}
		var sys struct{ Boot map[string]any }
		if err := json.Unmarshal(readBody(t, resp), &sys); err != nil {
			t.Fatal(err)
		}
		if got := m.BootOverride(); got != step.want || sys.Boot[bootTarget] != step.target || sys.Boot[bootEnabled] != step.state {
			t.Fatalf("after PATCH %s: override %+v, Boot %v; want %+v", step.body, got, sys.Boot, step.want)
		}
	}
}

// systemBoot returns the Boot object of the machine's Redfish system.
func systemBoot(t *testing.T, m *Machine) map[string]any {
	t.Helper()
	resp := request(t, m, http.MethodGet, redfishSystem, "", nil)
	var sys struct{ Boot map[string]any }
	if err := json.Unmarshal(readBody(t, resp), &sys); err != nil {
		t.Fatal(err)
	}
	return sys.Boot
}

func postReset(t *testing.T, m *Machine, resetType string, want int) {
	t.Helper()
	resp := request(t, m, http.MethodPost, redfishReset, `{"ResetType":"`+resetType+`"}`, nil)
	if resp.StatusCode != want {
		t.Fatalf("reset %s: status %d, want %d: %s", resetType, resp.StatusCode, want, readBody(t, resp))
	}
}

// request sends an authenticated request to the machine's BMC.
func request(t *testing.T, m *Machine, method, path, body string, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, m.BMCEndpoint()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(m.BMCCredentials())
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

// testClient keeps no connections, which would outlive the test.
var testClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// do sends req; the body is read into memory so that it need not be
// closed.
func do(t *testing.T, req *http.Request) *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := testClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp
}

func readBody(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
