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

// Package redfish is a power.Driver for BMCs that speak Redfish: it reads
// and resets one ComputerSystem and sets its boot source override, over
// HTTP(S) with basic authentication.
package redfish

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/metal/power"
)

const (
	// DefaultTimeout bounds one driver call when Config.Timeout is zero.
	// BMCs are slow: some take seconds to answer a reset.
	DefaultTimeout = 30 * time.Second
	// maxResponseBytes bounds what is read of a response; Redfish
	// resources are a few kilobytes.
	maxResponseBytes = 1 << 20
	systemsPath      = "/redfish/v1/Systems"
)

// Reset types, in the order they are tried for each operation among those
// the BMC allows.
var (
	resetOn    = []string{"On", "ForceOn"}
	resetOff   = []string{"ForceOff"}
	resetCycle = []string{"PowerCycle", "ForceRestart"}
)

// Config says how to reach a Redfish service.
type Config struct {
	// Endpoint is the service's base URL, such as https://10.0.0.5.
	Endpoint string
	// SystemID is the ComputerSystem's member id; the first member of
	// /redfish/v1/Systems when empty.
	SystemID string
	Username string
	Password string
	// InsecureSkipVerify accepts any TLS certificate, as BMCs with
	// self-signed certificates need.
	InsecureSkipVerify bool
	// Timeout bounds each driver call; DefaultTimeout when zero.
	Timeout time.Duration
}

// Client is a power.Driver for one ComputerSystem. It is safe for
// concurrent use.
type Client struct {
	cfg  Config
	base *url.URL
	http *http.Client

	mu sync.Mutex
	// system is the path of the ComputerSystem once known.
	system string
}

var _ power.Driver = (*Client)(nil)

// New returns a client for cfg. It does not contact the BMC.
func New(cfg Config) (*Client, error) {
	base, err := url.Parse(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("redfish: endpoint: %w", err)
	}
	if (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("redfish: endpoint %q is not an http or https URL", cfg.Endpoint)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	c := &Client{cfg: cfg, base: base}
	if cfg.SystemID != "" {
		c.system = systemsPath + "/" + url.PathEscape(cfg.SystemID)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: cfg.InsecureSkipVerify} //nolint:gosec // BMCs often have self-signed certificates; the user opts in.
	// BMCs serve few connections, and clients may be made for every
	// reconcile: keeping connections open would pile them up.
	transport.DisableKeepAlives = true
	c.http = &http.Client{
		Transport: transport,
		// The credentials go with every request: follow redirects only
		// within the BMC.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != base.Host || len(via) >= 5 {
				return fmt.Errorf("redirect to %s refused", req.URL.Redacted())
			}
			return nil
		},
	}
	return c, nil
}

// State returns the system's PowerState: PoweringOn counts as on and
// PoweringOff as off, as that is where the system is headed.
func (c *Client) State(ctx context.Context) (power.State, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	sys, _, err := c.getSystem(ctx)
	if err != nil {
		return power.StateUnknown, err
	}
	return sys.state(), nil
}

// On powers the system on unless it is on already; many BMCs refuse to
// power on a system that is on.
func (c *Client) On(ctx context.Context) error {
	return c.reset(ctx, func(s power.State) []string {
		if s == power.StateOn {
			return nil
		}
		return resetOn
	})
}

// Off forces the power off unless it is off already.
func (c *Client) Off(ctx context.Context) error {
	return c.reset(ctx, func(s power.State) []string {
		if s == power.StateOff {
			return nil
		}
		return resetOff
	})
}

// Cycle power cycles the system, or powers it on if it is off: resets of
// a system that is off fail on many BMCs.
func (c *Client) Cycle(ctx context.Context) error {
	return c.reset(ctx, func(s power.State) []string {
		if s == power.StateOff {
			return resetOn
		}
		return resetCycle
	})
}

// PXEOnce sets a boot source override to PXE for the next boot.
func (c *Client) PXEOnce(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	// The GET resolves the system and gets the ETag some BMCs require
	// for PATCH.
	sys, etag, err := c.getSystem(ctx)
	if err != nil {
		return err
	}
	body := map[string]any{"Boot": map[string]string{
		"BootSourceOverrideTarget":  "Pxe",
		"BootSourceOverrideEnabled": "Once",
	}}
	header := http.Header{}
	if etag != "" {
		header.Set("If-Match", etag)
	}
	if _, err := c.do(ctx, http.MethodPatch, sys.ODataID, header, body, nil); err != nil {
		return fmt.Errorf("setting a PXE boot override: %w", err)
	}
	klog.FromContext(ctx).V(2).Info("Set a one-time PXE boot", "system", sys.ODataID)
	return nil
}

// reset reads the system and posts the first reset type of want(state)
// that the BMC allows, if any.
func (c *Client) reset(ctx context.Context, want func(power.State) []string) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	sys, _, err := c.getSystem(ctx)
	if err != nil {
		return err
	}
	prefs := want(sys.state())
	if len(prefs) == 0 {
		return nil
	}
	action := sys.Actions.Reset
	if action == nil {
		return fmt.Errorf("redfish: system %s has no #ComputerSystem.Reset action", sys.ODataID)
	}
	target := action.Target
	if target == "" {
		// Some BMCs leave out the target; this is the URI the schema
		// prescribes.
		target = strings.TrimSuffix(sys.ODataID, "/") + "/Actions/ComputerSystem.Reset"
	}
	allowed := action.AllowableValues
	if len(allowed) == 0 && action.ActionInfo != "" {
		if allowed, err = c.actionInfoValues(ctx, action.ActionInfo); err != nil {
			return err
		}
	}
	resetType := prefs[0]
	if len(allowed) > 0 {
		i := slices.IndexFunc(prefs, func(p string) bool { return slices.Contains(allowed, p) })
		if i < 0 {
			return fmt.Errorf("redfish: system %s allows none of the reset types %v (it allows %v)", sys.ODataID, prefs, allowed)
		}
		resetType = prefs[i]
	}
	if _, err := c.do(ctx, http.MethodPost, target, nil, map[string]string{"ResetType": resetType}, nil); err != nil {
		return fmt.Errorf("reset %s: %w", resetType, err)
	}
	klog.FromContext(ctx).V(2).Info("Reset the system", "system", sys.ODataID, "resetType", resetType)
	return nil
}

// actionInfoValues reads the allowed ResetType values from an ActionInfo
// resource, which some BMCs use instead of an annotation on the action.
func (c *Client) actionInfoValues(ctx context.Context, path string) ([]string, error) {
	var info struct {
		Parameters []struct {
			Name            string
			AllowableValues []string
		}
	}
	if _, err := c.do(ctx, http.MethodGet, path, nil, nil, &info); err != nil {
		return nil, fmt.Errorf("reading the reset action's parameters: %w", err)
	}
	for _, p := range info.Parameters {
		if p.Name == "ResetType" {
			return p.AllowableValues, nil
		}
	}
	return nil, nil
}

// computerSystem is what the driver reads of a ComputerSystem.
type computerSystem struct {
	ODataID    string `json:"@odata.id"`
	PowerState string
	Actions    struct {
		Reset *struct {
			Target          string   `json:"target"`
			AllowableValues []string `json:"ResetType@Redfish.AllowableValues"`
			ActionInfo      string   `json:"@Redfish.ActionInfo"`
		} `json:"#ComputerSystem.Reset"`
	}
}

func (s *computerSystem) state() power.State {
	switch s.PowerState {
	case "On", "PoweringOn":
		return power.StateOn
	case "Off", "PoweringOff":
		return power.StateOff
	}
	return power.StateUnknown
}

// getSystem reads the ComputerSystem and returns its ETag, if any.
func (c *Client) getSystem(ctx context.Context) (*computerSystem, string, error) {
	path, err := c.systemPath(ctx)
	if err != nil {
		return nil, "", err
	}
	var sys computerSystem
	header, err := c.do(ctx, http.MethodGet, path, nil, nil, &sys)
	if err != nil {
		return nil, "", fmt.Errorf("reading system: %w", err)
	}
	if sys.ODataID == "" {
		sys.ODataID = path
	}
	return &sys, header.Get("ETag"), nil
}

// systemPath returns the path of the ComputerSystem, looking up the first
// member of the systems collection once when no SystemID was configured.
func (c *Client) systemPath(ctx context.Context) (string, error) {
	c.mu.Lock()
	path := c.system
	c.mu.Unlock()
	if path != "" {
		return path, nil
	}
	var coll struct {
		Members []struct {
			ODataID string `json:"@odata.id"`
		}
	}
	if _, err := c.do(ctx, http.MethodGet, systemsPath, nil, nil, &coll); err != nil {
		return "", fmt.Errorf("listing systems: %w", err)
	}
	if len(coll.Members) == 0 || coll.Members[0].ODataID == "" {
		return "", fmt.Errorf("redfish: %s has no members", systemsPath)
	}
	path = coll.Members[0].ODataID
	c.mu.Lock()
	c.system = path
	c.mu.Unlock()
	return path, nil
}

// do sends one request to path (a path, or a URL on the BMC) with body
// encoded as JSON (none if nil), and decodes the response into out (if not
// nil). It returns the response's header.
func (c *Client) do(ctx context.Context, method, path string, header http.Header, body, out any) (http.Header, error) {
	u, err := c.resolve(path)
	if err != nil {
		return nil, err
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("redfish: encoding request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("redfish: %w", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.SetBasicAuth(c.cfg.Username, c.cfg.Password)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("OData-Version", "4.0")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return nil, transportError(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: redfish: %s %s: reading the response: %w", power.ErrUnreachable, method, u.Path, err)
	}
	if len(data) > maxResponseBytes {
		return nil, fmt.Errorf("redfish: %s %s: response larger than %d bytes", method, u.Path, maxResponseBytes)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, newError(method, u.Path, resp.StatusCode, data)
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("redfish: %s %s: decoding the response: %w", method, u.Path, err)
		}
	}
	return resp.Header, nil
}

// resolve turns a path (or URL) the BMC gave into a URL on the endpoint.
// URLs on other hosts are refused: the credentials go with every request.
func (c *Client) resolve(path string) (*url.URL, error) {
	ref, err := url.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("redfish: bad resource path %q: %w", path, err)
	}
	u := c.base.ResolveReference(ref)
	if u.Host != c.base.Host || u.Scheme != c.base.Scheme {
		return nil, fmt.Errorf("redfish: resource %q is not on %s", path, c.base.Host)
	}
	return u, nil
}

// transportError classifies a failed exchange: the BMC did not answer
// unless the caller gave up or its certificate was refused.
func transportError(err error) error {
	var certInvalid x509.CertificateInvalidError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.Is(err, context.Canceled),
		errors.As(err, &verify), errors.As(err, &certInvalid),
		errors.As(err, &unknownAuthority), errors.As(err, &hostname):
		return fmt.Errorf("redfish: %w", err)
	}
	return fmt.Errorf("%w: redfish: %w", power.ErrUnreachable, err)
}

// Error is an error response of a Redfish service.
type Error struct {
	Method     string
	Path       string
	StatusCode int
	// Code is the MessageId of the error, such as Base.1.8.GeneralError.
	Code    string
	Message string
	// Details are the messages of @Message.ExtendedInfo.
	Details []string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "redfish: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	for _, d := range e.Details {
		if d != e.Message {
			fmt.Fprintf(&b, "; %s", d)
		}
	}
	return b.String()
}

// Unwrap makes authentication failures match power.ErrUnauthorized.
func (e *Error) Unwrap() error {
	if e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden {
		return power.ErrUnauthorized
	}
	return nil
}

// newError decodes a Redfish error body; bodies that are not one (BMCs
// answer some errors with HTML) leave only the status.
func newError(method, path string, status int, body []byte) *Error {
	e := &Error{Method: method, Path: path, StatusCode: status}
	var doc struct {
		Error struct {
			Code         string `json:"code"`
			Message      string `json:"message"`
			ExtendedInfo []struct {
				MessageID string `json:"MessageId"`
				Message   string
			} `json:"@Message.ExtendedInfo"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return e
	}
	e.Code, e.Message = doc.Error.Code, doc.Error.Message
	for _, info := range doc.Error.ExtendedInfo {
		if info.Message != "" {
			e.Details = append(e.Details, info.Message)
		} else if info.MessageID != "" {
			e.Details = append(e.Details, info.MessageID)
		}
	}
	return e
}
