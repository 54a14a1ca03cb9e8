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

package apiserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authorization/union"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	"k8s.io/apiserver/pkg/features"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	genericfilters "k8s.io/apiserver/pkg/server/filters"
	"k8s.io/apiserver/pkg/server/healthz"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	storagefactory "k8s.io/apiserver/pkg/storage/storagebackend/factory"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/kubernetes"
	restclient "k8s.io/client-go/rest"
	"k8s.io/component-base/compatibility"
	"k8s.io/klog/v2"
	openapicommon "k8s.io/kube-openapi/pkg/common"

	"github.com/arcturus-cloud/arcturus/pkg/admission/lifecycle"
	"github.com/arcturus-cloud/arcturus/pkg/admission/rbacescalation"
	"github.com/arcturus-cloud/arcturus/pkg/admission/tenantquota"
	arcv1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
	"github.com/arcturus-cloud/arcturus/pkg/authentication"
	rbacauthz "github.com/arcturus-cloud/arcturus/pkg/authorization/rbac"
	"github.com/arcturus-cloud/arcturus/pkg/controllers"
	"github.com/arcturus-cloud/arcturus/pkg/etcd"
	"github.com/arcturus-cloud/arcturus/pkg/generated/openapi"
	"github.com/arcturus-cloud/arcturus/pkg/leaderelection"
	"github.com/arcturus-cloud/arcturus/pkg/pki"
	"github.com/arcturus-cloud/arcturus/pkg/serviceaccount"
	"github.com/arcturus-cloud/arcturus/pkg/tenancy"
)

// KubernetesVersion is the Kubernetes API version the server emulates.
const KubernetesVersion = "1.37.2"

// Server is a running region API server.
type Server struct {
	options *Options
	generic *genericapiserver.GenericAPIServer
	etcd    *etcd.Server
	// etcdClient serves the storage from the embedded etcd in-process.
	etcdClient *inProcessEtcd
	ca         *pki.CA
	loopback   *restclient.Config
	// storageConfig is kept for the etcd health checks.
	storageConfig storagebackend.Config
	rbacSource    *rbacauthz.CachedSource
	lifecycle     *lifecycleIndex
	// controllers runs the elected controllers until stopControllers, which
	// a pre-shutdown hook calls and waits for while the server still
	// serves, so that their Lease is handed back before it stops.
	controllers     sync.WaitGroup
	stopControllers context.CancelFunc
	// systemReady is closed once the system tenant and its namespaces
	// exist: kube-system holds the controllers' Lease.
	systemReady chan struct{}
}

// maxObjectBytes is the largest request body, as etcd's value limit.
const maxObjectBytes = 3 * 1024 * 1024 / 2

// New prepares a server: it creates the CA and certificates on first start,
// starts embedded etcd unless external servers are given, and builds the
// API. Run serves it.
func New(ctx context.Context, o *Options) (*Server, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	// A tenant must cost little memory. The watch cache's list snapshots
	// keep copies of its B-tree nodes until etcd is compacted, which doubled
	// the live heap of a region of many small tenants; without them,
	// paginated lists at an old resourceVersion are served by etcd instead.
	// The size estimator keeps every object's key and size for the list
	// cost estimates of priority and fairness, which this server does not
	// run (it limits requests in flight): about 100 bytes an object, and
	// work on every write. Concurrent watch decoding starts a goroutine
	// for every event from etcd, to keep slow conversion webhooks from
	// holding the watch cache back; this server has none, and growing
	// those goroutines' stacks doubled the CPU that decoding took.
	gates := map[string]bool{
		string(features.ListFromCacheSnapshot):       false,
		string(features.SizeBasedListCostEstimate):   false,
		string(features.ConcurrentWatchObjectDecode): false,
	}
	if err := utilfeature.DefaultMutableFeatureGate.SetFromMap(gates); err != nil {
		return nil, fmt.Errorf("setting feature gates: %w", err)
	}
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	ca, err := pki.LoadOrCreateCA(o.tlsDir(), "arcturus-ca")
	if err != nil {
		return nil, fmt.Errorf("certificate authority: %w", err)
	}
	servingCert, servingKey := filepath.Join(o.tlsDir(), "serving.crt"), filepath.Join(o.tlsDir(), "serving.key")
	hosts := append([]string{"localhost", "127.0.0.1", "::1", o.BindAddress}, o.ExtraSANs...)
	if err := ca.EnsureServing(servingCert, servingKey, "arcturus", hosts); err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}

	s := &Server{options: o, ca: ca}
	endpoints := o.EtcdServers
	if len(endpoints) == 0 {
		s.etcd, err = etcd.Start(ctx, etcd.Options{
			DataDir:   filepath.Join(o.DataDir, "etcd"),
			ClientURL: "http://127.0.0.1:" + strconv.Itoa(o.EmbeddedEtcdClientPort),
			PeerURL:   "http://127.0.0.1:" + strconv.Itoa(o.EmbeddedEtcdPeerPort),
		})
		if err != nil {
			return nil, err
		}
		endpoints = s.etcd.Endpoints()
	}
	if err := s.build(servingCert, servingKey, endpoints); err != nil {
		s.closeEtcd()
		return nil, err
	}
	return s, nil
}

func (s *Server) build(servingCert, servingKey string, etcdEndpoints []string) error {
	o := s.options
	config := genericapiserver.NewConfig(Codecs)
	config.EffectiveVersion = compatibility.NewEffectiveVersionFromString(KubernetesVersion, "", "")
	// Streams to pods last as long as the user keeps them open, as in
	// kube-apiserver: no request timeout, not counted as in-flight.
	config.LongRunningFunc = genericfilters.BasicLongRunningRequestCheck(
		sets.NewString("watch", "proxy"), sets.NewString("attach", "exec", "proxy", "log", "portforward"))

	serving := genericoptions.NewSecureServingOptions()
	serving.BindAddress = net.ParseIP(o.BindAddress)
	serving.BindPort = o.SecurePort
	serving.ServerCert.CertKey = genericoptions.CertKey{CertFile: servingCert, KeyFile: servingKey}
	if err := serving.WithLoopback().ApplyTo(&config.SecureServing, &config.LoopbackClientConfig); err != nil {
		return fmt.Errorf("secure serving: %w", err)
	}
	clientCA, err := dynamiccertificates.NewStaticCAContent("arcturus-client-ca", s.ca.CertPEM)
	if err != nil {
		return fmt.Errorf("client CA: %w", err)
	}
	config.SecureServing.ClientCA = clientCA
	s.loopback = config.LoopbackClientConfig

	// Authorization: the tenant guard, then system masters, then what every
	// authenticated identity may do, then the RBAC of the identity's tenant.
	rbacClient, err := kubernetes.NewForConfig(tenancy.ConfigFor(config.LoopbackClientConfig, tenancy.Wildcard))
	if err != nil {
		return fmt.Errorf("RBAC cache client: %w", err)
	}
	s.rbacSource = rbacauthz.NewCachedSource(rbacauthz.ListerWatchersFor(rbacClient))
	rbacAuthorizer, baseline := rbacauthz.New(s.rbacSource), rbacauthz.NewBaseline()
	chain, err := union.New(
		union.NamedAuthorizer{AuthorizerName: "baseline", Authorizer: baseline},
		union.NamedAuthorizer{AuthorizerName: "rbac", Authorizer: rbacAuthorizer},
	)
	if err != nil {
		return fmt.Errorf("authorization chain: %w", err)
	}
	authz := tenancy.NewAuthorizer(chain)
	config.Authorization.Authorizer = authz

	namer := openapinamer.NewDefinitionNamer(Scheme)
	config.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(openAPIDefinitions, namer)
	config.OpenAPIConfig.Info.Title = "Arcturus"
	config.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(openAPIDefinitions, namer)
	config.OpenAPIV3Config.Info.Title = "Arcturus"
	// etcd refuses values over 1.5 MiB; refusing larger bodies up front
	// answers 413 instead of an opaque storage error.
	config.MaxRequestBodyBytes = maxObjectBytes
	config.ShutdownDelayDuration = o.ShutdownDelay

	s.storageConfig = *storagebackend.NewDefaultConfig(o.EtcdPrefix, nil)
	s.storageConfig.Transport.ServerList = etcdEndpoints
	uncached, err := uncachedResources(o.WatchCacheSizes)
	if err != nil {
		return err
	}
	optsGetter := &restOptionsGetter{config: s.storageConfig, watchCache: o.WatchCache, uncached: uncached}
	if s.etcd != nil {
		s.etcdClient = newInProcessEtcd(s.etcd.InProcessClient, s.storageConfig.CompactionInterval)
		optsGetter.raw = s.etcdClient.newRawStorage
	}
	config.RESTOptionsGetter = optsGetter
	saKeys, err := serviceaccount.LoadOrCreateKeys(filepath.Join(o.tlsDir(), "service-account.key"), o.ServiceAccountIssuer)
	if err != nil {
		return err
	}
	rules := union.NewRuleResolvers(baseline, rbacAuthorizer)
	agentClient, err := s.agentClientCertificate()
	if err != nil {
		return err
	}
	storage, err := newAPIStorage(optsGetter, saKeys, authz, rules, agentClient)
	if err != nil {
		return err
	}
	s.lifecycle = newLifecycleIndex(storage.tenants, storage.namespaces)
	roots := x509.NewCertPool()
	roots.AddCert(s.ca.Cert)
	authn, err := authentication.New(authentication.Config{
		ClientCAs:            roots,
		TokenFile:            o.TokenFile,
		LoopbackToken:        config.LoopbackClientConfig.BearerToken,
		ServiceAccountTokens: serviceaccount.NewAuthenticator(saKeys, storage.serviceAccount),
	})
	if err != nil {
		return fmt.Errorf("authentication: %w", err)
	}
	config.Authentication.Authenticator = authn
	// Quota goes last: it charges the tenant for objects the others let in.
	quota, err := tenantquota.New(storage.tenants, storage.groups[tenancyv1.GroupName]["tenants/status"], s.lifecycle.TenantQuota)
	if err != nil {
		return err
	}
	config.AdmissionControl = admission.NewChainHandler(
		lifecycle.New(s.lifecycle.Namespace, s.lifecycle.Tenant),
		rbacescalation.New(authz, rules, rbacAuthorizer),
		quota,
	)
	config.BuildHandlerChainFunc = func(apiHandler http.Handler, c *genericapiserver.Config) http.Handler {
		h := tenancy.WithTenantExistence(apiHandler, s.lifecycle.Tenant, c.Serializer)
		h = genericapiserver.DefaultBuildHandlerChain(h, c)
		return tenancy.WithTenantPath(h, c.Serializer)
	}

	s.generic, err = config.Complete(nil).New("arcturus-apiserver", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return fmt.Errorf("building API server: %w", err)
	}
	if err := storage.install(s.generic); err != nil {
		return err
	}
	if err := s.addPostStartHooks(); err != nil {
		return err
	}
	return nil
}

// addPostStartHooks starts what needs the server serving: the RBAC cache
// (read through the server itself), the lifecycle index, the system tenant,
// and the etcd checks.
func (s *Server) addPostStartHooks() error {
	if err := s.generic.AddPostStartHook("rbac-cache", func(ctx genericapiserver.PostStartHookContext) error {
		go s.rbacSource.Run(ctx)
		return nil
	}); err != nil {
		return err
	}
	if err := s.generic.AddPostStartHook("lifecycle-index", func(ctx genericapiserver.PostStartHookContext) error {
		go s.lifecycle.Run(ctx)
		return nil
	}); err != nil {
		return err
	}
	if err := s.generic.AddReadyzChecks(healthz.NamedCheck("rbac-cache", func(*http.Request) error {
		if !s.rbacSource.HasSynced() {
			return fmt.Errorf("RBAC cache not synced")
		}
		return nil
	})); err != nil {
		return err
	}
	s.systemReady = make(chan struct{})
	if err := s.generic.AddPostStartHook("system-tenant", func(ctx genericapiserver.PostStartHookContext) error {
		if err := ensureSystemTenant(ctx, ctx.LoopbackClientConfig); err != nil {
			return err
		}
		close(s.systemReady)
		return nil
	}); err != nil {
		return err
	}
	// The controllers belong to the partition that stores the tenants and
	// stop with the server. The servers of a partition, and any
	// `arcturus controller-manager`, elect one to run them.
	controllersCtx, stopControllers := context.WithCancel(context.Background())
	s.stopControllers = stopControllers
	if s.options.RunControllers {
		if err := s.generic.AddPostStartHook("arcturus-controllers", func(ctx genericapiserver.PostStartHookContext) error {
			s.controllers.Go(func() {
				select {
				case <-s.systemReady:
				case <-controllersCtx.Done():
					return
				}
				election := leaderelection.NewOptions(controllers.LeaseName)
				if err := controllers.RunElected(controllersCtx, ctx.LoopbackClientConfig, s.options.Controllers, election); err != nil {
					klog.ErrorS(err, "Controllers failed to start")
				}
			})
			return nil
		}); err != nil {
			return err
		}
		s.generic.AddPreShutdownHookOrDie("arcturus-controllers", func() error {
			stopControllers()
			s.controllers.Wait()
			return nil
		})
	}
	stop := make(chan struct{})
	s.generic.AddPreShutdownHookOrDie("stop-etcd-checks", func() error { close(stop); return nil })
	health, err := storagefactory.CreateHealthCheck(s.storageConfig, stop)
	if err != nil {
		return fmt.Errorf("etcd health check: %w", err)
	}
	ready, err := storagefactory.CreateReadyCheck(s.storageConfig, stop)
	if err != nil {
		return fmt.Errorf("etcd readiness check: %w", err)
	}
	if err := s.generic.AddLivezChecks(0, healthz.NamedCheck("etcd", func(*http.Request) error { return health() })); err != nil {
		return err
	}
	return s.generic.AddReadyzChecks(healthz.NamedCheck("etcd-readiness", func(*http.Request) error { return ready() }))
}

// openAPIDefinitions are the generated definitions, with the one change the
// superset Pod needs: a pod may have a VM instead of containers, so
// containers is not required.
func openAPIDefinitions(ref openapicommon.ReferenceCallback) map[string]openapicommon.OpenAPIDefinition {
	defs := openapi.GetOpenAPIDefinitions(ref)
	name := arcv1.PodSpec{}.OpenAPIModelName()
	if def, ok := defs[name]; ok {
		def.Schema.Required = nil
		defs[name] = def
	}
	return defs
}

// Loopback is a client configuration for the server's own system master.
func (s *Server) Loopback() *restclient.Config { return restclient.CopyConfig(s.loopback) }

// WaitReady waits until the server, once Run serves, answers /readyz: its
// post-start hooks (the system tenant and its namespaces, RBAC's roles) are
// done and its caches synced. Components started beside it in one process
// wait for it rather than fail their first requests.
func (s *Server) WaitReady(ctx context.Context) error {
	client, err := kubernetes.NewForConfig(s.Loopback())
	if err != nil {
		return fmt.Errorf("loopback client: %w", err)
	}
	return wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		return client.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).Error() == nil, nil
	})
}

// CA is the region's certificate authority.
func (s *Server) CA() *pki.CA { return s.ca }

// Run serves until ctx ends, then shuts down cleanly and stops etcd.
func (s *Server) Run(ctx context.Context) error {
	defer s.closeEtcd()
	if err := s.writeAdminKubeconfig(); err != nil {
		return err
	}
	prepared := s.generic.PrepareRun()
	errc := make(chan error, 1)
	go func() { errc <- prepared.RunWithContext(ctx) }()
	var etcdErr <-chan error
	if s.etcd != nil {
		etcdErr = s.etcd.Err()
	}
	select {
	case err := <-errc:
		s.stopControllers()
		s.controllers.Wait()
		return err
	case err := <-etcdErr:
		s.stopControllers()
		return fmt.Errorf("embedded etcd stopped: %w", err)
	}
}

func (s *Server) closeEtcd() {
	if s.etcdClient != nil {
		if err := s.etcdClient.Close(); err != nil {
			klog.ErrorS(err, "Closing the in-process etcd client")
		}
	}
	if s.etcd != nil {
		s.etcd.Close()
	}
}

// ServerURL is the HTTPS address clients use.
func (o *Options) ServerURL() string {
	host := o.BindAddress
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "https://" + net.JoinHostPort(host, strconv.Itoa(o.SecurePort))
}

func (s *Server) writeAdminKubeconfig() error {
	data, err := s.ca.Kubeconfig(s.options.ServerURL(), "arcturus", pki.ClientIdentity{
		User: "system:admin", Groups: []string{"system:masters"}, Tenant: string(tenancy.System),
	})
	if err != nil {
		return err
	}
	path := s.options.AdminKubeconfigPath()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("writing admin kubeconfig: %w", err)
	}
	klog.InfoS("Wrote admin kubeconfig", "path", path)
	return nil
}

// agentClientCertificate issues the certificate the server presents to
// node agents. It is made afresh at every start and never written down.
func (s *Server) agentClientCertificate() (tls.Certificate, error) {
	certPEM, keyPEM, err := s.ca.IssueClient(pki.ClientIdentity{User: pki.APIServerAgentClient})
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("issuing the agent client certificate: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("loading the agent client certificate: %w", err)
	}
	return cert, nil
}
