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

package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/vishvananda/netns"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
	"github.com/arcturus-cloud/arcturus/pkg/metal/lab/machine"
	"github.com/arcturus-cloud/arcturus/pkg/metal/service"
)

// LabelLab marks the Servers and Secrets a lab registered, with the name
// of its network namespace.
const LabelLab = "metal.arcturus.io/lab"

// secretNamespace holds the BMC credentials the lab registers.
const secretNamespace = metav1.NamespaceDefault

// Run is the lab's supervisor, running in the lab's network namespace:
// it runs the machines and the metal service until ctx ends. hostNetNS is
// a handle of the namespace the region's API server is reachable in.
func Run(ctx context.Context, o *Options, hostNetNS netns.NsHandle) error {
	if err := o.Validate(); err != nil {
		return err
	}
	logger := klog.FromContext(ctx)
	config, err := clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
	if err != nil {
		return fmt.Errorf("loading kubeconfig %s: %w", o.Kubeconfig, err)
	}
	config.Dial = hostDialer(hostNetNS)
	c, err := client.New(config, client.Options{Scheme: service.Scheme})
	if err != nil {
		return fmt.Errorf("connecting to the region: %w", err)
	}

	specs := o.members()
	machines := make([]*machine.Machine, 0, len(specs))
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		for _, m := range machines {
			if err := m.Stop(stopCtx); err != nil {
				logger.Error(err, "Stopping a machine failed", "machine", m.Spec().Name)
			}
		}
	}()
	for _, spec := range specs {
		m, err := machine.New(spec)
		if err != nil {
			return fmt.Errorf("machine %s: %w", spec.Name, err)
		}
		if err := m.Start(ctx); err != nil {
			return fmt.Errorf("starting machine %s: %w", spec.Name, err)
		}
		machines = append(machines, m)
		if err := register(ctx, c, o, m); err != nil {
			return err
		}
		logger.Info("Lab machine ready, powered off", "machine", spec.Name, "uuid", m.Spec().UUID, "bmc", m.BMCEndpoint())
	}

	metal, err := o.metalOptions()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var metalErr error
	wg.Go(func() {
		if metalErr = metal.RunWith(ctx, config); metalErr != nil {
			cancel()
		}
	})
	defer wg.Wait()
	base := "http://" + metal.HTTPAddress
	if err := waitServing(ctx, base+"/boot.ipxe"); err != nil {
		return errors.Join(fmt.Errorf("the metal service did not start: %w", err), metalErr)
	}

	// The operator racks the machines and presses their power buttons;
	// accepted ones the metal plane powers on itself, into the agent.
	st := state{PID: os.Getpid(), Kubeconfig: o.Kubeconfig, URL: base}
	for _, m := range machines {
		if !o.AutoAccept {
			if err := m.PowerOn(ctx); err != nil {
				return fmt.Errorf("powering on %s: %w", m.Spec().Name, err)
			}
		}
		spec := m.Spec()
		st.Members = append(st.Members, Member{
			Name: spec.Name, UUID: spec.UUID, MAC: spec.NICs[0].MAC, Firmware: string(spec.Firmware),
			BMC: string(spec.BMC.Type), Endpoint: m.BMCEndpoint(), Console: m.ConsoleLog(),
		})
	}
	if err := writeJSON(filepath.Join(o.Dir, stateFile), st); err != nil {
		return err
	}
	logger.Info("Lab up", "machines", len(machines), "url", base)
	<-ctx.Done()
	logger.Info("Lab stopping")
	return nil
}

// register records machine m with the region as an operator would before
// its first boot: a Server named by its UUID with its BMC, and a Secret
// with the BMC's credentials.
func register(ctx context.Context, c client.Client, o *Options, m *machine.Machine) error {
	spec := m.Spec()
	user, password := m.BMCCredentials()
	labels := map[string]string{LabelLab: o.NetNS}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: secretNamespace, Name: "metal-lab-" + spec.Name, Labels: labels},
		Data:       map[string][]byte{"username": []byte(user), "password": []byte(password)},
	}
	if err := createOrUpdate(ctx, c, secret, func(existing client.Object) {
		existing.(*corev1.Secret).Data = secret.Data
	}); err != nil {
		return fmt.Errorf("registering the BMC credentials of %s: %w", spec.Name, err)
	}
	bmc := &metalv1alpha1.BMC{CredentialsRef: &corev1.SecretReference{Namespace: secret.Namespace, Name: secret.Name}}
	switch spec.BMC.Type {
	case machine.BMCRedfish:
		bmc.Redfish = &metalv1alpha1.RedfishBMC{Endpoint: m.BMCEndpoint()}
	case machine.BMCIPMI:
		host, port, err := net.SplitHostPort(m.BMCEndpoint())
		if err != nil {
			return fmt.Errorf("BMC of %s: %w", spec.Name, err)
		}
		p, _ := strconv.Atoi(port)
		bmc.IPMI = &metalv1alpha1.IPMIBMC{Address: host, Port: int32(p)}
	}
	server := &metalv1alpha1.Server{
		ObjectMeta: metav1.ObjectMeta{Name: spec.UUID, Labels: labels},
		Spec:       metalv1alpha1.ServerSpec{BMC: bmc, Accepted: o.AutoAccept},
	}
	if err := createOrUpdate(ctx, c, server, func(existing client.Object) {
		existing.(*metalv1alpha1.Server).Spec.BMC = bmc
	}); err != nil {
		return fmt.Errorf("registering server %s: %w", spec.Name, err)
	}
	return nil
}

// createOrUpdate creates obj, or applies change to the stored one.
func createOrUpdate(ctx context.Context, c client.Client, obj client.Object, change func(client.Object)) error {
	err := c.Create(ctx, obj)
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	existing := obj.DeepCopyObject().(client.Object)
	if err := c.Get(ctx, client.ObjectKeyFromObject(obj), existing); err != nil {
		return err
	}
	change(existing)
	return c.Update(ctx, existing)
}

// metalOptions runs the metal service on the lab network: full DHCP (the
// lab has no other), TFTP and HTTP on the bridge's address.
func (o *Options) metalOptions() (*service.Options, error) {
	m := service.NewOptions()
	m.DataDir = filepath.Join(o.Dir, "metal")
	gateway := o.host(1).String()
	m.HTTPAddress = net.JoinHostPort(gateway, "8081")
	m.TFTPAddress = net.JoinHostPort(gateway, "69")
	m.AdvertiseAddress, m.Interface = gateway, o.Bridge
	m.DHCPMode = "full"
	m.DHCPRange = o.host(100).String() + "-" + o.host(199).String()
	m.AutoAccept = o.AutoAccept
	// One lab, one metal service: no election, whose Lease a metal
	// service of the host might hold.
	m.LeaderElect = false
	m.HealthAddress = "127.0.0.1:10256"
	d, err := time.ParseDuration(o.BootTimeout)
	if err != nil {
		return nil, fmt.Errorf("--boot-timeout: %w", err)
	}
	m.Timing.BootTimeout = d
	return m, nil
}

func waitServing(ctx context.Context, rawURL string) error {
	if _, err := url.Parse(rawURL); err != nil {
		return err
	}
	for {
		resp, err := http.Get(rawURL)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}
