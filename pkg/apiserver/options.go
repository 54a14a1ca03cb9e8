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

// Package apiserver assembles the region's API server: k8s.io/apiserver's
// generic server with Arcturus's resources, tenancy, authentication and
// authorization, over embedded or external etcd.
package apiserver

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/arcturus-cloud/arcturus/pkg/controllers"
)

// Options are the API server's flags.
type Options struct {
	// DataDir holds the embedded etcd data, the CA and the generated
	// kubeconfigs.
	DataDir string
	// BindAddress and SecurePort are where HTTPS is served.
	BindAddress string
	SecurePort  int
	// ExtraSANs are further host names or IPs for the serving certificate.
	ExtraSANs []string
	// EtcdServers selects an external etcd cluster; empty runs etcd embedded.
	EtcdServers []string
	// EtcdPrefix is the key prefix of every stored object.
	EtcdPrefix string
	// EmbeddedEtcdClientPort and EmbeddedEtcdPeerPort are the embedded
	// member's loopback ports.
	EmbeddedEtcdClientPort int
	EmbeddedEtcdPeerPort   int
	// TokenFile holds static bearer tokens.
	TokenFile string
	// ServiceAccountIssuer is the iss claim of service account tokens.
	ServiceAccountIssuer string
	// WatchCache serves lists and watches from memory.
	WatchCache bool
	// WatchCacheSizes turns the watch cache on or off for single
	// resources, over the defaults of uncachedByDefault, in
	// kube-apiserver's resource[.group]#size form: size 0 is off, any
	// other size on.
	WatchCacheSizes []string
	// ShutdownDelay keeps serving after SIGTERM so load balancers notice.
	ShutdownDelay time.Duration
	// RunControllers runs the region's controllers in the server, elected
	// among the partition's servers and controller managers.
	RunControllers bool
	// Controllers are the settings of the controllers the server runs.
	Controllers controllers.Options
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		DataDir:                DefaultDataDir(),
		BindAddress:            "127.0.0.1",
		SecurePort:             6443,
		EtcdPrefix:             "/registry",
		EmbeddedEtcdClientPort: 2379,
		EmbeddedEtcdPeerPort:   2380,
		ServiceAccountIssuer:   "https://arcturus.local",
		WatchCache:             true,
		RunControllers:         true,
		Controllers:            controllers.NewOptions(),
	}
}

// DefaultDataDir is /var/lib/arcturus for root and ~/.arcturus otherwise.
func DefaultDataDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/arcturus"
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".arcturus")
	}
	return ".arcturus"
}

// AddFlags binds the options to fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.DataDir, "data-dir", o.DataDir, "Directory for embedded etcd data, certificates and kubeconfigs.")
	fs.StringVar(&o.BindAddress, "bind-address", o.BindAddress, "Address to serve HTTPS on.")
	fs.IntVar(&o.SecurePort, "secure-port", o.SecurePort, "Port to serve HTTPS on.")
	fs.StringSliceVar(&o.ExtraSANs, "tls-san", o.ExtraSANs, "Additional host names or IPs for the serving certificate.")
	fs.StringSliceVar(&o.EtcdServers, "etcd-servers", o.EtcdServers, "External etcd client URLs; when empty, etcd runs embedded.")
	fs.StringVar(&o.EtcdPrefix, "etcd-prefix", o.EtcdPrefix, "Key prefix of every object in etcd.")
	fs.IntVar(&o.EmbeddedEtcdClientPort, "embedded-etcd-client-port", o.EmbeddedEtcdClientPort, "Loopback client port of the embedded etcd.")
	fs.IntVar(&o.EmbeddedEtcdPeerPort, "embedded-etcd-peer-port", o.EmbeddedEtcdPeerPort, "Loopback peer port of the embedded etcd.")
	fs.StringVar(&o.TokenFile, "token-auth-file", o.TokenFile, "CSV file of bearer tokens: token,user,uid,\"group1,group2\",tenant.")
	fs.StringVar(&o.ServiceAccountIssuer, "service-account-issuer", o.ServiceAccountIssuer, "Issuer (iss claim) of service account tokens.")
	fs.BoolVar(&o.WatchCache, "watch-cache", o.WatchCache, "Serve lists and watches from an in-memory cache.")
	fs.StringSliceVar(&o.WatchCacheSizes, "watch-cache-sizes", o.WatchCacheSizes, "Watch cache settings per resource, "+
		"comma separated, each resource[.group]#size with the resource in lowercase plural and the group omitted for the core group. "+
		"As in kube-apiserver, size 0 turns the cache off for that resource and any other size turns it on. "+
		"Without a cache, a resource's lists and watches are served by etcd. "+
		"The cache is off by default for "+strings.Join(uncachedByDefault, ", ")+".")
	fs.DurationVar(&o.ShutdownDelay, "shutdown-delay-duration", o.ShutdownDelay, "Time to keep serving after SIGTERM before shutting down.")
	fs.BoolVar(&o.RunControllers, "run-controllers", o.RunControllers, "Run the region's controllers in this server (leader-elected); turn off to run them in arcturus controller-manager instead.")
	o.Controllers.AddFlags(fs)
}

// Validate reports impossible combinations.
func (o *Options) Validate() error {
	if o.DataDir == "" {
		return fmt.Errorf("--data-dir is required")
	}
	if net.ParseIP(o.BindAddress) == nil {
		return fmt.Errorf("--bind-address %q is not an IP address", o.BindAddress)
	}
	if o.SecurePort <= 0 || o.SecurePort > 65535 {
		return fmt.Errorf("--secure-port %d is out of range", o.SecurePort)
	}
	if len(o.EtcdServers) == 0 && o.EmbeddedEtcdClientPort == o.EmbeddedEtcdPeerPort {
		return fmt.Errorf("embedded etcd client and peer ports must differ")
	}
	if _, err := uncachedResources(o.WatchCacheSizes); err != nil {
		return err
	}
	if o.EtcdPrefix == "" || o.EtcdPrefix[0] != '/' {
		return fmt.Errorf("--etcd-prefix %q must start with /", o.EtcdPrefix)
	}
	return o.Controllers.Validate()
}

// TLSDir is where a region keeps its CA and serving certificate.
func TLSDir(dataDir string) string { return filepath.Join(dataDir, "tls") }

func (o *Options) tlsDir() string { return TLSDir(o.DataDir) }

// AdminKubeconfigPath is where the server writes the system admin's kubeconfig.
func (o *Options) AdminKubeconfigPath() string { return filepath.Join(o.DataDir, "admin.kubeconfig") }
