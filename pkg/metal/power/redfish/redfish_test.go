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

package redfish

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/arcturus-cloud/arcturus/pkg/metal/power"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The driver against the lab's Redfish BMC, with a QEMU machine behind
// it, is tested in pkg/metal/lab/machine. These tests use a fake BMC that
// varies what real ones differ in.

// fakeBMC serves one system at /redfish/v1/Systems/System.Embedded.1.
type fakeBMC struct {
	mu         sync.Mutex
	powerState string
	// allowed is the reset types the system lists; none when nil.
	allowed []string
	// actionInfo lists allowed in an ActionInfo resource instead.
	actionInfo bool
	// noTarget leaves the target out of the reset action.
	noTarget bool
	etag     string

	resets    []string
	patches   []string
	ifMatches []string
	listings  int
}

const systemPath = "/redfish/v1/Systems/System.Embedded.1"

func (f *fakeBMC) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, p, ok := r.BasicAuth(); !ok || u != "root" || p != "calvin" {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"code":"Base.1.8.NoValidSession","message":"There is no valid session established with the implementation."}}`))
		return
	}
	switch r.Method + " " + r.URL.Path {
	case "GET /redfish/v1/Systems":
		f.listings++
		_, _ = w.Write([]byte(`{"Members":[{"@odata.id":"` + systemPath + `"},{"@odata.id":"/redfish/v1/Systems/2"}]}`))
	case "GET " + systemPath:
		action := map[string]any{}
		if !f.noTarget {
			action["target"] = systemPath + "/Actions/ComputerSystem.Reset"
		}
		if f.actionInfo {
			action["@Redfish.ActionInfo"] = systemPath + "/ResetActionInfo"
		} else if f.allowed != nil {
			action["ResetType@Redfish.AllowableValues"] = f.allowed
		}
		if f.etag != "" {
			w.Header().Set("ETag", f.etag)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"@odata.id":  systemPath,
			"PowerState": f.powerState,
			"Actions":    map[string]any{"#ComputerSystem.Reset": action},
		})
	case "GET " + systemPath + "/ResetActionInfo":
		_ = json.NewEncoder(w).Encode(map[string]any{"Parameters": []any{
			map[string]any{"Name": "ResetType", "AllowableValues": f.allowed},
		}})
	case "POST " + systemPath + "/Actions/ComputerSystem.Reset":
		var body struct{ ResetType string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		if f.allowed != nil && !slices.Contains(f.allowed, body.ResetType) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":{"code":"Base.1.8.GeneralError","message":"A general error has occurred. See ExtendedInfo for more information.",` +
				`"@Message.ExtendedInfo":[{"MessageId":"Base.1.8.ActionParameterValueNotInList","Message":"The value ` + body.ResetType + ` is not allowed."}]}}`))
			return
		}
		f.resets = append(f.resets, body.ResetType)
		w.WriteHeader(http.StatusNoContent)
	case "PATCH " + systemPath:
		var body json.RawMessage
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.patches = append(f.patches, string(body))
		f.ifMatches = append(f.ifMatches, r.Header.Get("If-Match"))
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("<html>Not Found</html>"))
	}
}

func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	if cfg.Username == "" {
		cfg.Username, cfg.Password = "root", "calvin"
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestState(t *testing.T) {
	f := &fakeBMC{}
	c := newClient(t, Config{Endpoint: serve(t, f).URL})
	for ps, want := range map[string]power.State{
		"On": power.StateOn, "PoweringOn": power.StateOn,
		"Off": power.StateOff, "PoweringOff": power.StateOff,
		"Paused": power.StateUnknown, "": power.StateUnknown,
	} {
		f.mu.Lock()
		f.powerState = ps
		f.mu.Unlock()
		if got, err := c.State(context.Background()); err != nil || got != want {
			t.Errorf("PowerState %q: State() = %s, %v; want %s", ps, got, err, want)
		}
	}
	if f.listings != 1 {
		t.Errorf("the systems were listed %d times, want once", f.listings)
	}
}

func TestReset(t *testing.T) {
	for _, tc := range []struct {
		name       string
		state      string
		allowed    []string
		actionInfo bool
		noTarget   bool
		op         func(*Client, context.Context) error
		want       []string
		wantErr    string
	}{
		{name: "on", state: "Off", op: (*Client).On, want: []string{"On"}},
		{name: "on when on", state: "On", op: (*Client).On},
		{name: "force on only", state: "Off", allowed: []string{"ForceOn", "ForceOff"}, op: (*Client).On, want: []string{"ForceOn"}},
		{name: "off", state: "On", op: (*Client).Off, want: []string{"ForceOff"}},
		{name: "off when off", state: "Off", op: (*Client).Off},
		{name: "off not allowed", state: "On", allowed: []string{"On", "GracefulShutdown"}, op: (*Client).Off, wantErr: "allows none of the reset types [ForceOff]"},
		{name: "cycle", state: "On", op: (*Client).Cycle, want: []string{"PowerCycle"}},
		{name: "cycle by restart", state: "On", allowed: []string{"On", "ForceOff", "ForceRestart"}, op: (*Client).Cycle, want: []string{"ForceRestart"}},
		{name: "cycle from action info", state: "On", allowed: []string{"ForceRestart"}, actionInfo: true, op: (*Client).Cycle, want: []string{"ForceRestart"}},
		{name: "cycle when off", state: "Off", op: (*Client).Cycle, want: []string{"On"}},
		{name: "no target", state: "Off", noTarget: true, op: (*Client).On, want: []string{"On"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeBMC{powerState: tc.state, allowed: tc.allowed, actionInfo: tc.actionInfo, noTarget: tc.noTarget}
			c := newClient(t, Config{Endpoint: serve(t, f).URL})
			err := tc.op(c, context.Background())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || errors.Is(err, power.ErrUnreachable) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(f.resets, tc.want) {
				t.Errorf("resets %v, want %v", f.resets, tc.want)
			}
		})
	}
}

func TestPXEOnce(t *testing.T) {
	f := &fakeBMC{powerState: "On", etag: `W/"42"`}
	c := newClient(t, Config{Endpoint: serve(t, f).URL, SystemID: "System.Embedded.1"})
	if err := c.PXEOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := `{"Boot":{"BootSourceOverrideEnabled":"Once","BootSourceOverrideTarget":"Pxe"}}`
	if len(f.patches) != 1 || f.patches[0] != want || f.ifMatches[0] != `W/"42"` {
		t.Errorf("PATCH %v with If-Match %v; want %s with the ETag", f.patches, f.ifMatches, want)
	}
	if f.listings != 0 {
		t.Error("the systems were listed although SystemID was given")
	}
}

func TestErrors(t *testing.T) {
	f := &fakeBMC{powerState: "Off"}
	srv := serve(t, f)
	ctx := context.Background()

	_, err := newClient(t, Config{Endpoint: srv.URL, Username: "root", Password: "wrong"}).State(ctx)
	var rfErr *Error
	if !errors.As(err, &rfErr) || rfErr.StatusCode != http.StatusUnauthorized || !errors.Is(err, power.ErrUnauthorized) ||
		!strings.Contains(err.Error(), "There is no valid session") {
		t.Errorf("wrong password: %v; want a 401 error with the BMC's message", err)
	}

	// A reset the BMC refuses, with the details in extended info.
	f.mu.Lock()
	f.allowed = []string{"ForceOn"}
	f.mu.Unlock()
	c := newClient(t, Config{Endpoint: srv.URL})
	_, err = c.do(ctx, http.MethodPost, systemPath+"/Actions/ComputerSystem.Reset", nil, map[string]string{"ResetType": "On"}, nil)
	if !errors.As(err, &rfErr) || rfErr.StatusCode != http.StatusBadRequest || rfErr.Code != "Base.1.8.GeneralError" ||
		!slices.Equal(rfErr.Details, []string{"The value On is not allowed."}) || errors.Is(err, power.ErrUnreachable) || errors.Is(err, power.ErrUnauthorized) {
		t.Errorf("refused reset: %#v", err)
	}

	// An HTML error page leaves the status.
	_, err = c.do(ctx, http.MethodGet, "/redfish/v1/Nothing", nil, nil, nil)
	if !errors.As(err, &rfErr) || rfErr.StatusCode != http.StatusNotFound || rfErr.Message != "" {
		t.Errorf("HTML error: %#v", err)
	}

	// Resources elsewhere are not fetched with the credentials.
	if _, err := c.do(ctx, http.MethodGet, "http://attacker.example/redfish/v1", nil, nil, nil); err == nil || !strings.Contains(err.Error(), "is not on") {
		t.Errorf("resource on another host: %v", err)
	}
}

func TestLargeResponse(t *testing.T) {
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"Members":[` + strings.Repeat(" ", maxResponseBytes) + `]}`))
	}))
	if _, err := newClient(t, Config{Endpoint: srv.URL}).State(context.Background()); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("State with a huge response: %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	ctx := context.Background()
	if _, err := newClient(t, Config{Endpoint: closed}).State(ctx); !errors.Is(err, power.ErrUnreachable) {
		t.Errorf("refused connection: %v; want ErrUnreachable", err)
	}

	// A BMC that never answers: the driver gives up at its timeout.
	release := make(chan struct{})
	hung := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer close(release)
	const timeout = 500 * time.Millisecond
	start := time.Now()
	if err := newClient(t, Config{Endpoint: hung.URL, Timeout: timeout}).Off(ctx); !errors.Is(err, power.ErrUnreachable) {
		t.Errorf("hung BMC: %v; want ErrUnreachable", err)
	}
	if took := time.Since(start); took > timeout+time.Second {
		t.Errorf("hung BMC: took %s, timeout %s", took, timeout)
	}

	// Giving up is the caller's doing, not the BMC's.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := newClient(t, Config{Endpoint: hung.URL}).On(cctx); !errors.Is(err, context.Canceled) || errors.Is(err, power.ErrUnreachable) {
		t.Errorf("canceled call: %v; want context.Canceled only", err)
	}
}

func TestTLS(t *testing.T) {
	srv := httptest.NewTLSServer(&fakeBMC{powerState: "On"})
	defer srv.Close()
	ctx := context.Background()
	_, err := newClient(t, Config{Endpoint: srv.URL}).State(ctx)
	if err == nil || errors.Is(err, power.ErrUnreachable) {
		t.Errorf("self-signed certificate: %v; want a refusal", err)
	}
	if s, err := newClient(t, Config{Endpoint: srv.URL, InsecureSkipVerify: true}).State(ctx); err != nil || s != power.StateOn {
		t.Errorf("self-signed certificate accepted: %s, %v", s, err)
	}
}

func TestNew(t *testing.T) {
	for _, endpoint := range []string{"", "10.0.0.5", "ftp://10.0.0.5", "https://", "http://[::1"} {
		if _, err := New(Config{Endpoint: endpoint}); err == nil {
			t.Errorf("New accepted endpoint %q", endpoint)
		}
	}
	c, err := New(Config{Endpoint: "https://10.0.0.5", SystemID: "a b"})
	if err != nil || c.cfg.Timeout != DefaultTimeout || c.system != "/redfish/v1/Systems/a%20b" {
		t.Errorf("New: %+v, %v", c, err)
	}
}
