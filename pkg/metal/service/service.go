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

// Package service runs the bare-metal plane's services, `arcturus metal`:
// proxy or full DHCP and TFTP for network boot; HTTP for boot scripts,
// Environment files, machine configs and the inventory agent's API; and,
// on the elected replica, the controllers of Servers, ServerClasses and
// Environments.
package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/metal/environment"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/metal/server"
	"github.com/arcturus-cloud/arcturus/pkg/controllers/metal/serverclass"
	"github.com/arcturus-cloud/arcturus/pkg/health"
	"github.com/arcturus-cloud/arcturus/pkg/initramfs"
	"github.com/arcturus-cloud/arcturus/pkg/metal/assets"
	"github.com/arcturus-cloud/arcturus/pkg/metal/dhcp"
	"github.com/arcturus-cloud/arcturus/pkg/metal/inventory"
	"github.com/arcturus-cloud/arcturus/pkg/metal/ipxe"
	"github.com/arcturus-cloud/arcturus/pkg/metal/metadata"
	"github.com/arcturus-cloud/arcturus/pkg/metal/tftp"
)

// Scheme knows the kinds the metal plane reads and writes.
var Scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := metalv1alpha1.AddToClientScheme(s); err != nil {
		panic(err)
	}
	return s
}()

// AgentInitrdName is the agent's initramfs in the data directory.
const AgentInitrdName = "agent-initramfs.img"

// Run loads the kubeconfig and serves until ctx ends.
func (o *Options) Run(ctx context.Context) error {
	if o.Kubeconfig == "" {
		return errors.New("--kubeconfig is required")
	}
	config, err := clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
	if err != nil {
		return fmt.Errorf("loading kubeconfig %s: %w", o.Kubeconfig, err)
	}
	return o.RunWith(ctx, config)
}

// RunWith serves with the region at config until ctx ends.
func (o *Options) RunWith(ctx context.Context, config *rest.Config) error {
	if err := o.Validate(); err != nil {
		return err
	}
	config = rest.CopyConfig(config)
	config.QPS, config.Burst = o.QPS, o.Burst
	logger := klog.FromContext(ctx)
	if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", o.DataDir, err)
	}
	agentEnv, err := o.buildAgent(ctx)
	if err != nil {
		// The boot services still serve known servers; the agent
		// Environment says why it is not ready.
		logger.Error(err, "Building the inventory agent's initramfs failed")
	}

	mgr, err := ctrl.NewManager(config, ctrl.Options{
		Scheme:                        Scheme,
		Metrics:                       metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:        "0",
		LeaderElection:                o.LeaderElect,
		LeaderElectionID:              "arcturus-metal",
		LeaderElectionNamespace:       metav1.NamespaceSystem,
		LeaderElectionReleaseOnCancel: true,
		GracefulShutdownTimeout:       ptr.To(20 * time.Second),
		// A process may run the plane more than once, one after the other
		// or side by side in tests; the names only label metrics.
		Controller: ctrlconfig.Controller{SkipNameValidation: ptr.To(true)},
		Logger:     logger,
	})
	if err != nil {
		return fmt.Errorf("creating the controller manager: %w", err)
	}
	if err := inventory.IndexServers(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}
	store := assets.NewStore(filepath.Join(o.DataDir, "assets"))
	recorder := mgr.GetEventRecorderFor("arcturus-metal")
	drivers := &powerDrivers{reader: mgr.GetAPIReader()}
	for _, c := range []interface{ SetupWithManager(ctrl.Manager) error }{
		&server.Reconciler{Client: mgr.GetClient(), Recorder: recorder, Drivers: drivers.forServer, Timing: o.Timing},
		&serverclass.Reconciler{Client: mgr.GetClient()},
		&environment.Reconciler{Client: mgr.GetClient(), Assets: store},
	} {
		if err := c.SetupWithManager(mgr); err != nil {
			return fmt.Errorf("setting up the metal controllers: %w", err)
		}
	}

	baseURL, err := o.baseURL()
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	(&ipxe.Handler{Client: mgr.GetClient(), Reader: mgr.GetClient(), Live: mgr.GetAPIReader(), Assets: store, BaseURL: baseURL}).Register(mux)
	(&metadata.Handler{Reader: mgr.GetAPIReader()}).Register(mux)
	(&inventory.Handler{Client: mgr.GetClient(), Reader: mgr.GetClient(), Live: mgr.GetAPIReader(), AutoAccept: o.AutoAccept, Timing: o.Timing}).Register(mux)

	everyReplica := func(f func(context.Context) error) error {
		return mgr.Add(manager.RunnableFunc(f))
	}
	var runnables []error
	runnables = append(runnables,
		everyReplica(func(ctx context.Context) error { return serveHTTP(ctx, o.HTTPAddress, mux) }),
		everyReplica(func(ctx context.Context) error { return ensureDefaults(ctx, mgr.GetClient(), agentEnv) }),
	)
	if dhcp.Mode(o.DHCPMode) != dhcp.ModeOff {
		d, err := o.dhcpServer(baseURL)
		if err != nil {
			return err
		}
		runnables = append(runnables, everyReplica(d.Serve))
	}
	if o.TFTPAddress != "" {
		t, err := tftp.New(tftp.Config{Addr: o.TFTPAddress, Root: o.IPXEDir})
		if err != nil {
			return fmt.Errorf("TFTP: %w", err)
		}
		runnables = append(runnables, everyReplica(t.ListenAndServe))
	}
	if err := errors.Join(runnables...); err != nil {
		return fmt.Errorf("adding the boot services: %w", err)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var healthErr error
	wg.Go(func() {
		ready := func() error {
			if !mgr.GetCache().WaitForCacheSync(ctx) {
				return errors.New("inventory not listed yet")
			}
			return nil
		}
		if healthErr = health.Serve(ctx, o.HealthAddress, ready); healthErr != nil {
			cancel()
		}
	})
	logger.Info("Serving the metal plane", "url", baseURL, "dhcp", o.DHCPMode, "interface", o.Interface, "tftp", o.TFTPAddress)
	err = mgr.Start(ctx)
	cancel()
	wg.Wait()
	return errors.Join(err, healthErr)
}

// baseURL is how booting servers reach the HTTP service.
func (o *Options) baseURL() (string, error) {
	_, port, err := net.SplitHostPort(o.HTTPAddress)
	if err != nil {
		return "", fmt.Errorf("--http-address %q: %w", o.HTTPAddress, err)
	}
	if _, err := strconv.Atoi(port); err != nil {
		return "", fmt.Errorf("--http-address %q: port %q", o.HTTPAddress, port)
	}
	return "http://" + net.JoinHostPort(o.AdvertiseAddress, port), nil
}

func (o *Options) dhcpServer(baseURL string) (*dhcp.Server, error) {
	cfg := dhcp.Config{
		Mode: dhcp.Mode(o.DHCPMode), Interface: o.Interface, ServerIP: net.ParseIP(o.AdvertiseAddress),
		IPXEScriptURL: baseURL + ipxe.BootScriptPath,
	}
	if cfg.Mode == dhcp.ModeFull {
		pool, err := o.pool()
		if err != nil {
			return nil, err
		}
		cfg.Pool = pool
	}
	d, err := dhcp.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("DHCP: %w", err)
	}
	return d, nil
}

func serveHTTP(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving HTTP on %s: %w", addr, err)
	case <-ctx.Done():
	}
	shutdown, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	_ = srv.Shutdown(shutdown)
	return nil
}

// buildAgent writes the agent's initramfs, this very binary as its /init,
// and returns the agent Environment that boots it.
func (o *Options) buildAgent(ctx context.Context) (*metalv1alpha1.Environment, error) {
	kernel := initramfs.Kernel{Path: o.AgentKernel, Version: strings.TrimPrefix(filepath.Base(o.AgentKernel), "vmlinuz-")}
	if o.AgentKernel == "" {
		k, err := initramfs.FindKernel()
		if err != nil {
			return nil, fmt.Errorf("finding a kernel for the agent: %w", err)
		}
		kernel = k
	}
	self := o.AgentInit
	if self == "" {
		var err error
		if self, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("finding this binary: %w", err)
		}
	}
	path := filepath.Join(o.DataDir, AgentInitrdName)
	start := time.Now()
	if err := writeFileAtomic(path, func(f *os.File) error {
		return initramfs.Build(f, initramfs.Spec{Init: self, KernelVersion: kernel.Version})
	}); err != nil {
		return nil, err
	}
	klog.FromContext(ctx).Info("Built the inventory agent's initramfs", "path", path, "kernel", kernel.Path, "duration", time.Since(start))
	return &metalv1alpha1.Environment{
		ObjectMeta: metav1.ObjectMeta{Name: metalv1alpha1.EnvironmentAgent},
		Spec: metalv1alpha1.EnvironmentSpec{
			Kernel: metalv1alpha1.Asset{URL: "file://" + kernel.Path},
			Initrd: &metalv1alpha1.Asset{URL: "file://" + path},
			Args:   o.AgentArgs,
		},
	}, nil
}

func writeFileAtomic(path string, write func(*os.File) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	err = write(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// ManagedLabel marks the objects the metal service keeps in shape itself.
const ManagedLabel = "metal.arcturus.io/managed"

// ensureDefaults creates the class "any" and the agent Environment when
// they are missing, and keeps the agent Environment booting this replica's
// initramfs unless an operator took it over by removing ManagedLabel.
func ensureDefaults(ctx context.Context, c client.Client, agent *metalv1alpha1.Environment) error {
	anyClass := &metalv1alpha1.ServerClass{ObjectMeta: metav1.ObjectMeta{Name: metalv1alpha1.ServerClassAny}}
	if err := retryUntil(ctx, func() error { return c.Create(ctx, anyClass) }); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating server class %s: %w", anyClass.Name, err)
	}
	if agent != nil {
		agent.Labels = map[string]string{ManagedLabel: "true"}
		err := retryUntil(ctx, func() error {
			var current metalv1alpha1.Environment
			err := c.Get(ctx, client.ObjectKeyFromObject(agent), &current)
			switch {
			case apierrors.IsNotFound(err):
				return c.Create(ctx, agent.DeepCopy())
			case err != nil:
				return err
			case current.Labels[ManagedLabel] != "true" || apiequality.Semantic.DeepEqual(current.Spec, agent.Spec):
				return nil
			}
			current.Spec = agent.Spec
			return c.Update(ctx, &current)
		})
		if err != nil {
			return fmt.Errorf("writing the agent Environment: %w", err)
		}
	}
	<-ctx.Done()
	return nil
}

// retryUntil retries f until it succeeds, fails for good or ctx ends: the
// region may still be starting, and updates may conflict.
func retryUntil(ctx context.Context, f func() error) error {
	for {
		err := f()
		if err == nil || apierrors.IsAlreadyExists(err) || apierrors.IsInvalid(err) || apierrors.IsForbidden(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}
