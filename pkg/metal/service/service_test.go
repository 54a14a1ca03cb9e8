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

package service_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
	"github.com/arcturus-cloud/arcturus/pkg/initramfs"
	"github.com/arcturus-cloud/arcturus/pkg/internal/testserver"
	"github.com/arcturus-cloud/arcturus/pkg/metal/agentapi"
	"github.com/arcturus-cloud/arcturus/pkg/metal/lifecycle"
	"github.com/arcturus-cloud/arcturus/pkg/metal/service"
)

const (
	uuid = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
	mac  = "52:54:00:12:34:56"
)

// plane is a metal service with the real API server, boot services on
// loopback and no DHCP, TFTP or leader election.
type plane struct {
	base   string
	client client.Client
}

func startPlane(t *testing.T) *plane {
	t.Helper()
	config := testserver.Start(t, nil)
	c, err := client.New(config, client.Options{Scheme: service.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	o := service.NewOptions()
	o.DataDir = t.TempDir()
	o.HTTPAddress, o.AdvertiseAddress = addr, "127.0.0.1"
	o.DHCPMode, o.TFTPAddress, o.HealthAddress, o.LeaderElect = "off", "", "", false
	o.Timing = lifecycle.Timing{Heartbeat: time.Second, AgentTimeout: 5 * time.Second, BootTimeout: time.Minute, HeartbeatRecord: 2 * time.Second}
	// The test binary may not be static; static busybox stands in as the
	// agent's init.
	o.AgentInit = "/bin/busybox"
	kernel, err := initramfs.FindKernel()
	if err != nil {
		t.Skipf("no kernel to boot the agent with: %v", err)
	}
	o.AgentKernel = kernel.Path
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.RunWith(ctx, config) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("metal service: %v", err)
		}
	})
	p := &plane{base: "http://" + addr, client: c}
	p.eventually(t, "the boot service answers", func() (bool, error) {
		resp, err := http.Get(p.base + "/boot.ipxe")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	return p
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *plane) eventually(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		return cond()
	})
	if err != nil {
		t.Fatalf("waiting until %s: %v", what, err)
	}
}

// post sends v as JSON to path and decodes an instruction from a 200.
func (p *plane) post(t *testing.T, path string, v any) (int, agentapi.Instruction) {
	t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return p.postRaw(t, path, body)
}

func (p *plane) postRaw(t *testing.T, path string, body []byte) (int, agentapi.Instruction) {
	t.Helper()
	resp, err := http.Post(p.base+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var in agentapi.Instruction
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&in); err != nil {
			t.Fatalf("decoding an instruction: %v", err)
		}
	}
	return resp.StatusCode, in
}

func (p *plane) heartbeat(t *testing.T, hb agentapi.Heartbeat) agentapi.Instruction {
	t.Helper()
	hb.UUID = uuid
	code, in := p.post(t, agentapi.HeartbeatPath, hb)
	if code != http.StatusOK {
		t.Fatalf("heartbeat %+v: HTTP %d", hb, code)
	}
	return in
}

// get fetches path from a local address, so that tests can play a second
// machine on 127.0.0.2.
func (p *plane) get(t *testing.T, path, from string) (int, string) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}).DialContext}}
	resp, err := c.Get(p.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (p *plane) server(t *testing.T) *metalv1alpha1.Server {
	t.Helper()
	var s metalv1alpha1.Server
	if err := p.client.Get(context.Background(), client.ObjectKey{Name: uuid}, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

func hardware() metalv1alpha1.Hardware {
	return metalv1alpha1.Hardware{
		System:  metalv1alpha1.SystemInformation{Manufacturer: "QEMU", ProductName: "Standard PC"},
		Compute: metalv1alpha1.ComputeInformation{ProcessorCount: 1, TotalCoreCount: 2, TotalThreadCount: 2},
		Memory:  metalv1alpha1.MemoryInformation{Total: resource.MustParse("1Gi")},
		Storage: metalv1alpha1.StorageInformation{Total: resource.MustParse("8Gi"), Disks: []metalv1alpha1.Disk{{Name: "vda", Size: resource.MustParse("8Gi"), Type: "Virtual"}}},
		Network: metalv1alpha1.NetworkInformation{Interfaces: []metalv1alpha1.NetworkInterface{{Name: "eth0", MAC: strings.ToUpper(mac), Addresses: []string{"10.0.0.5/24"}}}},
	}
}

// TestServerLifecycle plays an agent through registration, acceptance, a
// wipe, a binding with its Environment boot and config, and a release,
// checking the boot scripts and the objects at each step.
func TestServerLifecycle(t *testing.T) {
	p := startPlane(t)
	ctx := context.Background()

	if code, body := p.get(t, "/boot.ipxe", "127.0.0.1"); code != 200 || !strings.Contains(body, "/ipxe?uuid=${uuid}&mac=${mac:hexhyp}") {
		t.Fatalf("boot.ipxe: %d %q", code, body)
	}
	p.eventually(t, "the agent Environment is ready", func() (bool, error) {
		_, body := p.get(t, "/ipxe?uuid="+uuid+"&mac="+mac, "127.0.0.1")
		return strings.Contains(body, "kernel "+p.base+"/env/agent/kernel"), nil
	})
	_, script := p.get(t, "/ipxe?uuid="+uuid, "127.0.0.1")
	for _, want := range []string{"initrd --name initrd " + p.base + "/env/agent/initrd", "arcturus.metal.url=" + p.base, "console=ttyS0", "initrd=initrd"} {
		if !strings.Contains(script, want) {
			t.Errorf("agent script lacks %q:\n%s", want, script)
		}
	}
	kernel, _ := initramfs.FindKernel()
	want, _ := os.ReadFile(kernel.Path)
	if code, body := p.get(t, "/env/agent/kernel", "127.0.0.1"); code != 200 || body != string(want) {
		t.Errorf("agent kernel: HTTP %d, %d bytes, want the %d of %s", code, len(body), len(want), kernel.Path)
	}

	// Registration: not accepted, so the agent waits.
	code, in := p.post(t, agentapi.RegisterPath, agentapi.Registration{UUID: strings.ToUpper(uuid), Hardware: hardware()})
	if code != 200 || in.Action != agentapi.ActionWait || in.HeartbeatSeconds != 1 {
		t.Fatalf("register: %d %+v", code, in)
	}
	s := p.server(t)
	if s.Spec.Accepted || s.Spec.Hardware.Compute.TotalThreadCount != 2 || s.Spec.Hardware.Network.Interfaces[0].MAC != mac {
		t.Errorf("registered server: %+v", s.Spec)
	}
	if s.Status.Agent == nil || s.Status.Agent.Phase != metalv1alpha1.AgentRegistered || len(s.Status.Addresses) != 2 {
		t.Errorf("registered server status: %+v", s.Status)
	}
	// The MAC finds it too, for firmware that reports no UUID.
	if _, body := p.get(t, "/ipxe?mac="+strings.ReplaceAll(mac, ":", "-"), "127.0.0.1"); !strings.Contains(body, "/env/agent/kernel") {
		t.Errorf("boot by MAC: %q", body)
	}

	// Accepted: wiped, then powered off once clean.
	patch := client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"accepted":true}}`))
	if err := p.client.Patch(ctx, s, patch); err != nil {
		t.Fatal(err)
	}
	if in := p.heartbeat(t, agentapi.Heartbeat{Phase: metalv1alpha1.AgentWaiting}); in.Action != agentapi.ActionWipe || in.WipeMode != metalv1alpha1.WipeFast {
		t.Fatalf("accepted server: %+v, want a fast wipe", in)
	}
	p.heartbeat(t, agentapi.Heartbeat{Phase: metalv1alpha1.AgentWiping, WipeProgress: 50})
	if a := p.server(t).Status.Agent; a.WipeProgress != 50 || a.Phase != metalv1alpha1.AgentWiping {
		t.Errorf("wipe progress not recorded: %+v", a)
	}
	if in := p.heartbeat(t, agentapi.Heartbeat{Phase: metalv1alpha1.AgentWiped, Wiped: metalv1alpha1.WipeFast}); in.Action != agentapi.ActionPowerOff {
		t.Fatalf("wiped server: %+v, want poweroff", in)
	}
	if st := p.server(t).Status; !st.IsClean || !st.Ready || st.InUse {
		t.Errorf("wiped server: %+v, want clean and ready", st)
	}
	p.eventually(t, "class any lists the server as available", func() (bool, error) {
		var c metalv1alpha1.ServerClass
		if err := p.client.Get(ctx, client.ObjectKey{Name: metalv1alpha1.ServerClassAny}, &c); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		return len(c.Status.Available) == 1 && c.Status.Available[0] == uuid, nil
	})

	// Bound: the Environment boots once with its config, then the disk.
	env := &metalv1alpha1.Environment{
		ObjectMeta: metav1.ObjectMeta{Name: metalv1alpha1.EnvironmentDefault},
		Spec: metalv1alpha1.EnvironmentSpec{
			Kernel: metalv1alpha1.Asset{URL: "file://" + writeFile(t, "k", "env-kernel")},
			Initrd: &metalv1alpha1.Asset{URL: "file://" + writeFile(t, "i", "env-initrd"),
				Checksum: "sha256:0000000000000000000000000000000000000000000000000000000000000000"},
			Args: []string{"quiet"},
		},
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "m1-config"},
		Data: map[string][]byte{"value": []byte("machine:\n  role: worker\n")}}
	binding := &metalv1alpha1.ServerBinding{
		ObjectMeta: metav1.ObjectMeta{Name: uuid},
		Spec: metalv1alpha1.ServerBindingSpec{
			ServerClassName: metalv1alpha1.ServerClassAny,
			ClaimantRef:     corev1.ObjectReference{Kind: "MetalMachine", Namespace: "default", Name: "m1"},
			ConfigSecretRef: &corev1.SecretReference{Namespace: "default", Name: "m1-config"},
		},
	}
	for _, obj := range []client.Object{env, secret, binding} {
		if err := p.client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	second := binding.DeepCopy()
	second.ResourceVersion, second.Spec.ClaimantRef.Name = "", "m2"
	if err := p.client.Create(ctx, second); !apierrors.IsAlreadyExists(err) {
		t.Errorf("a second claim of the server: %v, want AlreadyExists", err)
	}
	if in := p.heartbeat(t, agentapi.Heartbeat{Phase: metalv1alpha1.AgentWaiting}); in.Action != agentapi.ActionReboot {
		t.Errorf("bound server: %+v, want reboot", in)
	}
	// The wrong checksum keeps the Environment from booting.
	p.eventually(t, "the Environment with a wrong checksum is not ready", func() (bool, error) {
		_, body := p.get(t, "/ipxe?uuid="+uuid, "127.0.0.1")
		return strings.Contains(body, "Environment default is not ready"), nil
	})
	sum := "sha256:" + sha256Hex("env-initrd")
	if err := p.client.Patch(ctx, env, client.RawPatch("application/merge-patch+json",
		fmt.Appendf(nil, `{"spec":{"initrd":{"checksum":%q}}}`, sum))); err != nil {
		t.Fatal(err)
	}
	var envScript string
	p.eventually(t, "the bound server boots its Environment", func() (bool, error) {
		_, envScript = p.get(t, "/ipxe?uuid="+uuid, "127.0.0.1")
		return strings.Contains(envScript, "/env/default/kernel"), nil
	})
	for _, want := range []string{"quiet", "arcturus.config=" + p.base + "/configdata?uuid=" + uuid} {
		if !strings.Contains(envScript, want) {
			t.Errorf("environment script lacks %q:\n%s", want, envScript)
		}
	}
	// The boot service reads its cache, which has the first boot a moment
	// after it was recorded.
	p.eventually(t, "a later boot of the bound server goes to its disk", func() (bool, error) {
		_, body := p.get(t, "/ipxe?uuid="+uuid, "127.0.0.1")
		return strings.TrimSpace(body) == "#!ipxe\nexit", nil
	})
	p.eventually(t, "the binding is ready and the server in use", func() (bool, error) {
		var b metalv1alpha1.ServerBinding
		if err := p.client.Get(ctx, client.ObjectKey{Name: uuid}, &b); err != nil {
			return false, err
		}
		st := p.server(t).Status
		return len(b.Status.Conditions) == 1 && b.Status.Conditions[0].Status == metav1.ConditionTrue && st.InUse && !st.IsClean && !st.Ready, nil
	})

	// The config goes to the server's own addresses only, patched.
	s = p.server(t)
	s.Spec.ConfigPatches = []metalv1alpha1.ConfigPatch{{Op: "add", Path: "/machine/hostname", Value: &metalv1alpha1.JSON{Raw: []byte(`"node-1"`)}}}
	if err := p.client.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	if code, body := p.get(t, "/configdata?uuid="+uuid, "127.0.0.1"); code != 200 || body != "machine:\n  hostname: node-1\n  role: worker\n" {
		t.Errorf("configdata: %d %q", code, body)
	}
	if code, body := p.get(t, "/configdata?uuid="+uuid, "127.0.0.2"); code != 404 || strings.Contains(body, "worker") {
		t.Errorf("configdata for another machine: %d %q, want a bare 404", code, body)
	}
	if code, _ := p.get(t, "/configdata?uuid=00000000-0000-0000-0000-000000000000", "127.0.0.1"); code != 404 {
		t.Errorf("configdata of an unknown server: %d, want 404", code)
	}

	// Released: dirty, so the agent wipes it again.
	if err := p.client.Delete(ctx, binding); err != nil {
		t.Fatal(err)
	}
	p.eventually(t, "the released server is unused", func() (bool, error) {
		st := p.server(t).Status
		return !st.InUse && !st.IsClean && !lifecycle.EnvironmentBooted(p.server(t)), nil
	})
	if _, body := p.get(t, "/ipxe?uuid="+uuid, "127.0.0.1"); !strings.Contains(body, "/env/agent/kernel") {
		t.Errorf("a released server must boot the agent: %q", body)
	}
	if in := p.heartbeat(t, agentapi.Heartbeat{Phase: metalv1alpha1.AgentRegistered}); in.Action != agentapi.ActionWipe {
		t.Errorf("released server: %+v, want a wipe", in)
	}

	// Deleted: without a BMC, decommissioning only lets it go.
	if err := p.client.Delete(ctx, p.server(t)); err != nil {
		t.Fatal(err)
	}
	p.eventually(t, "the deleted server is gone", func() (bool, error) {
		err := p.client.Get(ctx, client.ObjectKey{Name: uuid}, &metalv1alpha1.Server{})
		return apierrors.IsNotFound(err), nil
	})
	if code, _ := p.post(t, agentapi.HeartbeatPath, agentapi.Heartbeat{UUID: uuid, Phase: metalv1alpha1.AgentWaiting}); code != http.StatusNotFound {
		t.Errorf("heartbeat of a deleted server: %d, want 404 so that it registers again", code)
	}
}

// TestBadInput sends what a broken or hostile agent or firmware might.
func TestBadInput(t *testing.T) {
	p := startPlane(t)
	huge := hardware()
	for i := range 1000 {
		huge.Storage.Disks = append(huge.Storage.Disks, metalv1alpha1.Disk{Name: fmt.Sprintf("sd%d", i)})
	}
	long := hardware()
	long.System.SerialNumber = strings.Repeat("x", 10000)
	for _, tc := range []struct {
		name string
		path string
		body []byte
		want int
	}{
		{"not JSON", agentapi.RegisterPath, []byte("{nope"), 400},
		{"no UUID", agentapi.RegisterPath, mustJSON(agentapi.Registration{Hardware: hardware()}), 400},
		{"a UUID with a path in it", agentapi.RegisterPath, mustJSON(agentapi.Registration{UUID: "../../etc/passwd"}), 400},
		{"a thousand disks", agentapi.RegisterPath, mustJSON(agentapi.Registration{UUID: uuid, Hardware: huge}), 400},
		{"a 10 KB serial number", agentapi.RegisterPath, mustJSON(agentapi.Registration{UUID: uuid, Hardware: long}), 400},
		{"over a MiB", agentapi.RegisterPath, append([]byte(`{"uuid":"`), bytes.Repeat([]byte("a"), 2<<20)...), 413},
		{"a heartbeat of nobody", agentapi.HeartbeatPath, mustJSON(agentapi.Heartbeat{UUID: uuid}), 404},
		{"progress past 100", agentapi.HeartbeatPath, mustJSON(agentapi.Heartbeat{UUID: uuid, WipeProgress: 101}), 400},
	} {
		if code, _ := p.postRaw(t, tc.path, tc.body); code != tc.want {
			t.Errorf("%s: HTTP %d, want %d", tc.name, code, tc.want)
		}
	}
	var list metalv1alpha1.ServerList
	if err := p.client.List(context.Background(), &list); err != nil || len(list.Items) != 0 {
		t.Errorf("bad reports created servers: %v %v", list.Items, err)
	}
	for path, want := range map[string]int{
		"/ipxe":                    400,
		"/ipxe?uuid=not-a-uuid":    400,
		"/env/nosuch/kernel":       404,
		"/env/agent/passwd":        404,
		"/configdata":              404,
		"/configdata?uuid=" + uuid: 404,
	} {
		if code, _ := p.get(t, path, "127.0.0.1"); code != want {
			t.Errorf("GET %s: %d, want %d", path, code, want)
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestBMCUnreachable gives a server a Redfish BMC where nothing listens:
// its power is Unknown, a condition says why, and nothing else breaks.
func TestBMCUnreachable(t *testing.T) {
	p := startPlane(t)
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "bmc"},
		Data: map[string][]byte{"username": []byte("admin"), "password": []byte("secret")}}
	server := &metalv1alpha1.Server{
		ObjectMeta: metav1.ObjectMeta{Name: uuid},
		Spec: metalv1alpha1.ServerSpec{Accepted: true, Cordoned: true, BMC: &metalv1alpha1.BMC{
			Redfish:        &metalv1alpha1.RedfishBMC{Endpoint: "http://" + closed},
			CredentialsRef: &corev1.SecretReference{Namespace: "default", Name: "bmc"},
		}},
	}
	for _, obj := range []client.Object{secret, server} {
		if err := p.client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	p.eventually(t, "the server's BMC is marked unreachable", func() (bool, error) {
		s := p.server(t)
		for _, c := range s.Status.Conditions {
			if c.Type == metalv1alpha1.ServerBMCReachable && c.Status == metav1.ConditionFalse && c.Reason == "Unreachable" {
				return s.Status.Power == metalv1alpha1.PowerUnknown, nil
			}
		}
		return false, nil
	})
	// A cordoned server cannot be bound, whatever else it is.
	binding := &metalv1alpha1.ServerBinding{
		ObjectMeta: metav1.ObjectMeta{Name: uuid},
		Spec:       metalv1alpha1.ServerBindingSpec{ClaimantRef: corev1.ObjectReference{Kind: "MetalMachine", Name: "m"}},
	}
	if err := p.client.Create(ctx, binding); !apierrors.IsConflict(err) || !strings.Contains(err.Error(), "cordoned") {
		t.Errorf("binding a cordoned server: %v, want a Conflict saying it is cordoned", err)
	}
}
