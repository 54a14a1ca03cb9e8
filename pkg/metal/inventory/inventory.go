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

// Package inventory is the metal service's side of the agent protocol: it
// turns registrations into Servers and heartbeats into their status, and
// answers each with the agent's next instruction. It also finds servers by
// UUID or MAC for the boot services.
package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
	"github.com/arcturus-cloud/arcturus/pkg/apis/metal/validation"
	"github.com/arcturus-cloud/arcturus/pkg/metal/agentapi"
	"github.com/arcturus-cloud/arcturus/pkg/metal/lifecycle"
)

// MACIndex indexes servers by the MAC addresses of their interfaces.
const MACIndex = "metal.arcturus.io/mac"

// IndexServers registers the indexes FindServer uses.
func IndexServers(ctx context.Context, indexer client.FieldIndexer) error {
	err := indexer.IndexField(ctx, &metalv1alpha1.Server{}, MACIndex, func(obj client.Object) []string {
		return MACs(obj.(*metalv1alpha1.Server).Spec.Hardware)
	})
	if err != nil {
		return fmt.Errorf("indexing servers by MAC: %w", err)
	}
	return nil
}

// NormalizeMAC writes a MAC address lowercase with colons, as the agent
// reports it, whatever separators the firmware used.
func NormalizeMAC(mac string) string {
	if hw, err := net.ParseMAC(strings.ReplaceAll(mac, "-", ":")); err == nil {
		return hw.String()
	}
	return strings.ToLower(mac)
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// NormalizeUUID lowercases a system UUID and checks its form.
func NormalizeUUID(uuid string) (string, bool) {
	uuid = strings.ToLower(strings.TrimSpace(uuid))
	return uuid, uuidPattern.MatchString(uuid)
}

// FindServer returns the server named uuid, or else the one with an
// interface of MAC address mac (firmware with a broken UUID still boots);
// nil when neither exists.
func FindServer(ctx context.Context, c client.Reader, uuid, mac string) (*metalv1alpha1.Server, error) {
	if uuid, ok := NormalizeUUID(uuid); ok {
		var s metalv1alpha1.Server
		err := c.Get(ctx, client.ObjectKey{Name: uuid}, &s)
		if err == nil {
			return &s, nil
		}
		if !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("reading server %s: %w", uuid, err)
		}
	}
	if mac == "" {
		return nil, nil
	}
	var list metalv1alpha1.ServerList
	if err := c.List(ctx, &list, client.MatchingFields{MACIndex: NormalizeMAC(mac)}); err != nil {
		return nil, fmt.Errorf("finding the server of MAC %s: %w", mac, err)
	}
	if len(list.Items) != 1 {
		return nil, nil
	}
	return &list.Items[0], nil
}

// Binding returns the binding of server name, nil when it is unbound.
func Binding(ctx context.Context, c client.Reader, name string) (*metalv1alpha1.ServerBinding, error) {
	var b metalv1alpha1.ServerBinding
	if err := c.Get(ctx, client.ObjectKey{Name: name}, &b); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading the binding of server %s: %w", name, err)
	}
	return &b, nil
}

// Class returns the class a binding took its server from, nil when it
// names none or the class is gone.
func Class(ctx context.Context, c client.Reader, b *metalv1alpha1.ServerBinding) (*metalv1alpha1.ServerClass, error) {
	if b == nil || b.Spec.ServerClassName == "" {
		return nil, nil
	}
	var class metalv1alpha1.ServerClass
	if err := c.Get(ctx, client.ObjectKey{Name: b.Spec.ServerClassName}, &class); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading server class %s: %w", b.Spec.ServerClassName, err)
	}
	return &class, nil
}

// UpdateStatus applies mutate to server name as live reads it, and writes
// its status with c when mutate reports a change, retrying on conflicts. It
// returns the server as stored afterwards. live must not be a cache: a
// server created a moment ago may not be in one yet.
func UpdateStatus(ctx context.Context, live client.Reader, c client.Client, name string, mutate func(*metalv1alpha1.Server) bool) (*metalv1alpha1.Server, error) {
	return UpdateStatusFrom(ctx, live, c, &metalv1alpha1.Server{ObjectMeta: metav1.ObjectMeta{Name: name}}, false, mutate)
}

// UpdateStatusFrom is UpdateStatus starting from a copy of s, when fresh
// says it is recent enough to try: as a cache or a create returned it. A
// stale copy costs a conflict and a live read; a fresh one saves the read.
func UpdateStatusFrom(ctx context.Context, live client.Reader, c client.Client, from *metalv1alpha1.Server, fresh bool, mutate func(*metalv1alpha1.Server) bool) (*metalv1alpha1.Server, error) {
	s := from.DeepCopy()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if !fresh {
			if err := live.Get(ctx, client.ObjectKey{Name: from.Name}, s); err != nil {
				return err
			}
		}
		fresh = false
		if !mutate(s) {
			return nil
		}
		return c.Status().Update(ctx, s)
	})
	if err != nil {
		return nil, fmt.Errorf("updating the status of server %s: %w", from.Name, err)
	}
	return s, nil
}

// HasAddress is whether server s was seen at ip.
func HasAddress(s *metalv1alpha1.Server, ip string) bool {
	return slices.ContainsFunc(s.Status.Addresses, func(a corev1.NodeAddress) bool { return a.Address == ip })
}

// AddAddress records ip as an address of s; it reports whether it was new.
func AddAddress(s *metalv1alpha1.Server, ip string) bool {
	if ip == "" || HasAddress(s, ip) {
		return false
	}
	if len(s.Status.Addresses) >= validation.MaxAddresses {
		s.Status.Addresses = s.Status.Addresses[1:]
	}
	s.Status.Addresses = append(s.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip})
	return true
}

// RemoteIP is the address a request came from.
func RemoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Handler serves the agent protocol.
type Handler struct {
	Client client.Client
	// Reader reads servers from a cache, to start from; Live reads
	// bindings and servers whose write conflicted, not from a cache:
	// whether a wipe counts depends on a binding made a moment ago.
	Reader     client.Reader
	Live       client.Reader
	AutoAccept bool
	Timing     lifecycle.Timing
	Now        func() time.Time
}

// Register installs the protocol's routes on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST "+agentapi.RegisterPath, h.register)
	mux.HandleFunc("POST "+agentapi.HeartbeatPath, h.heartbeat)
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// readBody reads a request body of at most agentapi.MaxRequestBytes,
// answering 413 itself when it is larger.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, agentapi.MaxRequestBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, fmt.Sprintf("report larger than %d bytes", agentapi.MaxRequestBytes), http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "reading the report: "+err.Error(), http.StatusBadRequest)
		}
		return nil, false
	}
	return body, true
}

// ParseRegistration decodes and checks a registration: a UUID in
// canonical form, hardware within validation's bounds. It returns the UUID
// lowercase and MAC addresses as NormalizeMAC writes them.
func ParseRegistration(data []byte) (agentapi.Registration, error) {
	var reg agentapi.Registration
	if err := json.Unmarshal(data, &reg); err != nil {
		return reg, fmt.Errorf("malformed registration: %w", err)
	}
	uuid, ok := NormalizeUUID(reg.UUID)
	if !ok {
		return reg, fmt.Errorf("uuid %q is not a UUID", reg.UUID)
	}
	reg.UUID = uuid
	if errs := validation.ValidateHardware(&reg.Hardware, field.NewPath("hardware")); len(errs) > 0 {
		return reg, errs.ToAggregate()
	}
	for i := range reg.Hardware.Network.Interfaces {
		nic := &reg.Hardware.Network.Interfaces[i]
		nic.MAC = NormalizeMAC(nic.MAC)
	}
	return reg, nil
}

// ParseHeartbeat decodes and checks a heartbeat.
func ParseHeartbeat(data []byte) (agentapi.Heartbeat, error) {
	var hb agentapi.Heartbeat
	if err := json.Unmarshal(data, &hb); err != nil {
		return hb, fmt.Errorf("malformed heartbeat: %w", err)
	}
	uuid, ok := NormalizeUUID(hb.UUID)
	if !ok {
		return hb, fmt.Errorf("uuid %q is not a UUID", hb.UUID)
	}
	hb.UUID = uuid
	if hb.WipeProgress < 0 || hb.WipeProgress > 100 || len(hb.Message) > 4*validation.MaxStringBytes {
		return hb, errors.New("wipeProgress must be 0 to 100 and message at most 1024 bytes")
	}
	return hb, nil
}

func (h *Handler) register(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	logger := klog.FromContext(ctx).WithValues("remote", RemoteIP(r))
	body, ok := readBody(w, r)
	if !ok {
		registrations.WithLabelValues("malformed").Inc()
		return
	}
	reg, err := ParseRegistration(body)
	if err != nil {
		registrations.WithLabelValues("invalid").Inc()
		logger.Info("Refused a registration", "err", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	uuid := reg.UUID
	// From the cache: interfaces hardly change, and a registration is the
	// busiest request of a fleet's power-on.
	existing, err := FindServer(ctx, h.Reader, uuid, "")
	if err != nil {
		registrations.WithLabelValues("error").Inc()
		http.Error(w, "registration failed: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	macs := MACs(&reg.Hardware)
	if existing != nil && existing.Spec.Hardware != nil {
		macs = MACs(existing.Spec.Hardware)
	}
	if Impostor(RemoteIP(r), macs) {
		registrations.WithLabelValues("impostor").Inc()
		logger.Info("Refused a registration from another machine's address", "server", uuid)
		http.Error(w, "the request does not come from an interface of this server", http.StatusForbidden)
		return
	}
	stored, created, err := h.saveHardware(ctx, uuid, &reg.Hardware)
	if err != nil {
		registrations.WithLabelValues("error").Inc()
		logger.Error(err, "Registering a server failed", "uuid", uuid)
		http.Error(w, "registration failed: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	now := metav1.NewTime(h.now())
	remote := RemoteIP(r)
	s, err := UpdateStatusFrom(ctx, h.Live, h.Client, stored, true, func(s *metalv1alpha1.Server) bool {
		s.Status.Agent = &metalv1alpha1.AgentStatus{
			Phase: metalv1alpha1.AgentRegistered, LastRegistrationTime: &now, LastHeartbeatTime: &now,
		}
		lifecycle.MarkBooted(s, now.Time)
		AddAddress(s, remote)
		for _, nic := range reg.Hardware.Network.Interfaces {
			for _, cidr := range nic.Addresses {
				if ip, _, err := net.ParseCIDR(cidr); err == nil && ip.IsGlobalUnicast() {
					AddAddress(s, ip.String())
				}
			}
		}
		return true
	})
	if err != nil {
		registrations.WithLabelValues("error").Inc()
		http.Error(w, "registration failed: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	outcome := "updated"
	if created {
		outcome = "created"
	}
	registrations.WithLabelValues(outcome).Inc()
	logger.Info("Server registered", "server", uuid, "new", created, "accepted", s.Spec.Accepted,
		"threads", reg.Hardware.Compute.TotalThreadCount, "memory", reg.Hardware.Memory.Total.String(), "disks", len(reg.Hardware.Storage.Disks))
	binding, err := Binding(ctx, h.Live, uuid)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	instruct(w, lifecycle.Instruct(s, binding, h.Timing))
}

// saveHardware creates server uuid with hw, or rewrites the hardware of the
// server that exists: an operator may have created it ahead, with its BMC.
// It returns the server as stored.
func (h *Handler) saveHardware(ctx context.Context, uuid string, hw *metalv1alpha1.Hardware) (*metalv1alpha1.Server, bool, error) {
	s := &metalv1alpha1.Server{
		ObjectMeta: metav1.ObjectMeta{Name: uuid},
		Spec:       metalv1alpha1.ServerSpec{Hardware: hw, Accepted: h.AutoAccept},
	}
	err := h.Client.Create(ctx, s)
	if err == nil {
		return s, true, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return nil, false, fmt.Errorf("creating server %s: %w", uuid, err)
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := h.Live.Get(ctx, client.ObjectKey{Name: uuid}, s); err != nil {
			return err
		}
		if s.Spec.Hardware != nil && equalHardware(s.Spec.Hardware, hw) {
			return nil
		}
		s.Spec.Hardware = hw
		return h.Client.Update(ctx, s)
	})
	return s, false, err
}

func equalHardware(a, b *metalv1alpha1.Hardware) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

func (h *Handler) heartbeat(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	body, ok := readBody(w, r)
	if !ok {
		heartbeats.WithLabelValues("malformed").Inc()
		return
	}
	hb, err := ParseHeartbeat(body)
	if err != nil {
		heartbeats.WithLabelValues("invalid").Inc()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	uuid := hb.UUID
	binding, err := Binding(ctx, h.Live, uuid)
	if err != nil {
		heartbeats.WithLabelValues("error").Inc()
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	now := h.now()
	impostor := false
	from, fresh := &metalv1alpha1.Server{ObjectMeta: metav1.ObjectMeta{Name: uuid}}, false
	if cached, err := FindServer(ctx, h.Reader, uuid, ""); err == nil && cached != nil {
		from, fresh = cached, true
	}
	s, err := UpdateStatusFrom(ctx, h.Live, h.Client, from, fresh, func(s *metalv1alpha1.Server) bool {
		if impostor = Impostor(RemoteIP(r), MACs(s.Spec.Hardware)); impostor {
			return false
		}
		return h.recordHeartbeat(s, &hb, binding != nil, now)
	})
	if impostor {
		heartbeats.WithLabelValues("impostor").Inc()
		http.Error(w, "the request does not come from an interface of this server", http.StatusForbidden)
		return
	}
	if apierrors.IsNotFound(err) {
		// Deleted, or never registered: the agent registers again.
		heartbeats.WithLabelValues("unknown").Inc()
		http.Error(w, fmt.Sprintf("server %s is not registered", uuid), http.StatusNotFound)
		return
	}
	if err != nil {
		heartbeats.WithLabelValues("error").Inc()
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	heartbeats.WithLabelValues("ok").Inc()
	instruct(w, lifecycle.Instruct(s, binding, h.Timing))
}

// recordHeartbeat writes hb into s's status, reporting whether anything
// worth a write changed: a new phase, wipe progress, a message, a finished
// wipe, or a heartbeat older than HeartbeatRecord.
func (h *Handler) recordHeartbeat(s *metalv1alpha1.Server, hb *agentapi.Heartbeat, bound bool, now time.Time) bool {
	a := s.Status.Agent
	if a == nil {
		a = &metalv1alpha1.AgentStatus{}
		s.Status.Agent = a
	}
	changed := a.Phase != hb.Phase || a.WipeProgress != hb.WipeProgress || a.Message != hb.Message ||
		a.LastHeartbeatTime == nil || now.Sub(a.LastHeartbeatTime.Time) >= h.Timing.HeartbeatRecord
	a.Phase, a.WipeProgress, a.Message = hb.Phase, hb.WipeProgress, hb.Message
	if changed {
		t := metav1.NewTime(now)
		a.LastHeartbeatTime = &t
	}
	// A wipe counts only for an accepted server nobody holds: one bound in
	// the meantime is dirty again by definition.
	if hb.Phase == metalv1alpha1.AgentWiped && hb.Wiped != "" && s.Spec.Accepted && !bound && !s.Status.IsClean {
		s.Status.IsClean = true
		changed = true
	}
	return lifecycle.Derive(s, bound) || changed
}

func instruct(w http.ResponseWriter, in agentapi.Instruction) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(in)
}
