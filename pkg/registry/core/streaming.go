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

package core

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/httpstream/wsstream"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/proxy"
	genericrest "k8s.io/apiserver/pkg/registry/generic/rest"
	"k8s.io/apiserver/pkg/registry/rest"
	streamproxy "k8s.io/apiserver/pkg/util/proxy"

	arcv1 "github.com/arcturus-cloud/arcturus/pkg/apis/core/v1"
	"github.com/arcturus-cloud/arcturus/pkg/pki"
	"github.com/arcturus-cloud/arcturus/pkg/registry/tenantstore"
)

// podLocator finds a pod (in the request's tenant) and the agent of its
// node, and connects to it as the API server.
type podLocator struct {
	pods  *tenantstore.REST
	nodes *tenantstore.REST
	// clientCert is the API server's certificate for agents.
	clientCert tls.Certificate
}

// locate returns the pod, the base URL of its node's agent API for it
// (https://<node>:<port>/pods/<uid>), and a transport that trusts only the
// certificate the node published.
func (l podLocator) locate(ctx context.Context, name string) (*arcv1.Pod, *url.URL, http.RoundTripper, error) {
	obj, err := l.pods.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, nil, nil, err
	}
	pod := obj.(*arcv1.Pod)
	if pod.Spec.NodeName == "" {
		return nil, nil, nil, apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", name))
	}
	obj, err = l.nodes.Get(ctx, pod.Spec.NodeName, &metav1.GetOptions{})
	if err != nil {
		return nil, nil, nil, apierrors.NewServiceUnavailable(fmt.Sprintf("node %s of pod %s: %v", pod.Spec.NodeName, name, err))
	}
	node := obj.(*corev1.Node)
	port := node.Status.DaemonEndpoints.KubeletEndpoint.Port
	host := nodeHost(node)
	pin := node.Annotations[pki.AgentCertificateAnnotation]
	if port == 0 || host == "" || pin == "" {
		return nil, nil, nil, apierrors.NewServiceUnavailable(fmt.Sprintf("node %s has no agent endpoint", node.Name))
	}
	loc := &url.URL{
		Scheme: "https",
		Host:   net.JoinHostPort(host, strconv.Itoa(int(port))),
		Path:   "/pods/" + string(pod.UID),
	}
	return pod, loc, l.transport(pin), nil
}

// transport trusts exactly the agent certificate whose fingerprint is pin.
func (l podLocator) transport(pin string) http.RoundTripper {
	return utilnet.SetTransportDefaults(&http.Transport{TLSClientConfig: &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{l.clientCert},
		// The chain is checked below against the pin instead of a CA.
		InsecureSkipVerify: true, //nolint:gosec
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || pki.Fingerprint(raw[0]) != pin {
				return errors.New("the node agent's certificate is not the one its Node publishes")
			}
			return nil
		},
	}})
}

func nodeHost(node *corev1.Node) string {
	for _, t := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeExternalIP, corev1.NodeHostName} {
		for _, a := range node.Status.Addresses {
			if a.Type == t && a.Address != "" {
				return a.Address
			}
		}
	}
	return ""
}

// containerOf picks the container a request means: the one named, the only
// one, or the VM of a VM pod.
func containerOf(pod *arcv1.Pod, name string) (string, error) {
	var names []string
	if vm := pod.Spec.VirtualMachine; vm != nil {
		name := vm.Name
		if name == "" {
			name = arcv1.DefaultVirtualMachineName
		}
		names = []string{name}
	}
	for _, c := range pod.Spec.InitContainers {
		names = append(names, c.Name)
	}
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	if name == "" {
		regular := len(pod.Spec.Containers)
		switch {
		case pod.Spec.VirtualMachine != nil:
			return names[0], nil
		case regular == 1:
			return pod.Spec.Containers[0].Name, nil
		default:
			return "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: %v", pod.Name, names))
		}
	}
	for _, n := range names {
		if n == name {
			return name, nil
		}
	}
	return "", apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", name, pod.Name))
}

// LogREST serves pods/log from the node agent.
type LogREST struct{ podLocator }

var (
	_ rest.GetterWithOptions = &LogREST{}
	_ rest.StorageMetadata   = &LogREST{}
)

func (*LogREST) New() runtime.Object { return &arcv1.Pod{} }
func (*LogREST) Destroy()            {}

// ProducesMIMETypes implements rest.StorageMetadata: logs are plain text.
func (*LogREST) ProducesMIMETypes(string) []string { return []string{"text/plain"} }

// ProducesObject implements rest.StorageMetadata.
func (*LogREST) ProducesObject(string) any { return "" }

// NewGetOptions implements rest.GetterWithOptions.
func (*LogREST) NewGetOptions() (runtime.Object, bool, string) {
	return &corev1.PodLogOptions{}, false, ""
}

// Get implements rest.GetterWithOptions: it returns a stream of the log
// that the API handler copies to the client.
func (r *LogREST) Get(ctx context.Context, name string, options runtime.Object) (runtime.Object, error) {
	opts, ok := options.(*corev1.PodLogOptions)
	if !ok {
		return nil, fmt.Errorf("invalid options object: %#v", options)
	}
	if err := validateLogOptions(opts); err != nil {
		return nil, err
	}
	pod, loc, transport, err := r.locate(ctx, name)
	if err != nil {
		return nil, err
	}
	container, err := containerOf(pod, opts.Container)
	if err != nil {
		return nil, err
	}
	q := url.Values{"container": {container}}
	setBool(q, "follow", opts.Follow)
	setBool(q, "previous", opts.Previous)
	setBool(q, "timestamps", opts.Timestamps)
	for key, v := range map[string]*int64{"tailLines": opts.TailLines, "limitBytes": opts.LimitBytes, "sinceSeconds": opts.SinceSeconds} {
		if v != nil {
			q.Set(key, strconv.FormatInt(*v, 10))
		}
	}
	if opts.SinceTime != nil {
		q.Set("sinceTime", opts.SinceTime.UTC().Format("2006-01-02T15:04:05Z"))
	}
	if opts.Stream != nil {
		q.Set("stream", *opts.Stream)
	}
	loc.Path += "/log"
	loc.RawQuery = q.Encode()
	return &genericrest.LocationStreamer{
		Location: loc, Transport: transport, ContentType: "text/plain", Flush: opts.Follow,
		ResponseChecker: genericrest.NewGenericHttpResponseChecker(arcv1.Resource("pods/log"), name),
		RedirectChecker: genericrest.PreventRedirects,
	}, nil
}

func setBool(q url.Values, key string, v bool) {
	if v {
		q.Set(key, "true")
	}
}

func validateLogOptions(o *corev1.PodLogOptions) error {
	var problems []string
	if o.TailLines != nil && *o.TailLines < 0 {
		problems = append(problems, "tailLines: must be greater than or equal to 0")
	}
	if o.LimitBytes != nil && *o.LimitBytes < 1 {
		problems = append(problems, "limitBytes: must be greater than 0")
	}
	if o.SinceSeconds != nil && *o.SinceSeconds < 1 {
		problems = append(problems, "sinceSeconds: must be greater than 0")
	}
	if o.SinceSeconds != nil && o.SinceTime != nil {
		problems = append(problems, "at most one of sinceTime or sinceSeconds may be specified")
	}
	if o.Stream != nil && *o.Stream != corev1.LogStreamStdout && *o.Stream != corev1.LogStreamStderr && *o.Stream != corev1.LogStreamAll {
		problems = append(problems, "stream: must be one of All, Stdout, Stderr")
	}
	if len(problems) > 0 {
		return apierrors.NewBadRequest("invalid log options: " + strings.Join(problems, "; "))
	}
	return nil
}

// streamREST serves a pod subresource that upgrades to a stream (exec,
// attach, port-forward) by proxying it to the node agent.
type streamREST struct {
	podLocator
	subresource string
	options     func() runtime.Object
	// query turns the options into the agent's query; stream tells the
	// options' streams, for translating WebSocket clients.
	query func(pod *arcv1.Pod, opts runtime.Object) (url.Values, streamproxy.Options, error)
}

var _ rest.Connecter = &streamREST{}

func (*streamREST) New() runtime.Object { return &arcv1.Pod{} }
func (*streamREST) Destroy()            {}

// ConnectMethods implements rest.Connecter; GET is for WebSocket clients.
func (*streamREST) ConnectMethods() []string { return []string{http.MethodGet, http.MethodPost} }

// NewConnectOptions implements rest.Connecter.
func (r *streamREST) NewConnectOptions() (runtime.Object, bool, string) {
	return r.options(), false, ""
}

// Connect implements rest.Connecter. Like kube-apiserver, it speaks SPDY to
// the node and translates clients that use WebSockets (kubectl 1.30 on).
func (r *streamREST) Connect(ctx context.Context, name string, opts runtime.Object, responder rest.Responder) (http.Handler, error) {
	pod, loc, transport, err := r.locate(ctx, name)
	if err != nil {
		return nil, err
	}
	q, streams, err := r.query(pod, opts)
	if err != nil {
		return nil, err
	}
	loc.Path += "/" + r.subresource
	loc.RawQuery = q.Encode()
	upgrade := proxy.NewUpgradeAwareHandler(loc, transport, false, true, proxy.NewErrorResponder(responder))
	if r.subresource == "portforward" {
		return streamproxy.NewTranslatingHandler(upgrade, streamproxy.NewTunnelingHandler(upgrade), wsstream.IsWebSocketRequestWithTunnelingProtocol), nil
	}
	translator := streamproxy.NewStreamTranslatorHandler(loc, transport, 0, streams)
	return streamproxy.NewTranslatingHandler(upgrade, translator, wsstream.IsWebSocketRequestWithStreamCloseProtocol), nil
}

func newExecREST(l podLocator) *streamREST {
	return &streamREST{
		podLocator: l, subresource: "exec",
		options: func() runtime.Object { return &corev1.PodExecOptions{} },
		query: func(pod *arcv1.Pod, opts runtime.Object) (url.Values, streamproxy.Options, error) {
			o := opts.(*corev1.PodExecOptions)
			if len(o.Command) == 0 {
				return nil, streamproxy.Options{}, apierrors.NewBadRequest("you must specify at least one command for the container")
			}
			container, err := containerOf(pod, o.Container)
			if err != nil {
				return nil, streamproxy.Options{}, err
			}
			q := streamQuery(container, o.Stdin, o.Stdout, o.Stderr, o.TTY)
			q["command"] = o.Command
			return q, streamproxy.Options{Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr, Tty: o.TTY}, nil
		},
	}
}

func newAttachREST(l podLocator) *streamREST {
	return &streamREST{
		podLocator: l, subresource: "attach",
		options: func() runtime.Object { return &corev1.PodAttachOptions{} },
		query: func(pod *arcv1.Pod, opts runtime.Object) (url.Values, streamproxy.Options, error) {
			o := opts.(*corev1.PodAttachOptions)
			container, err := containerOf(pod, o.Container)
			if err != nil {
				return nil, streamproxy.Options{}, err
			}
			return streamQuery(container, o.Stdin, o.Stdout, o.Stderr, o.TTY),
				streamproxy.Options{Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr, Tty: o.TTY}, nil
		},
	}
}

func newPortForwardREST(l podLocator) *streamREST {
	return &streamREST{
		podLocator: l, subresource: "portforward",
		options: func() runtime.Object { return &corev1.PodPortForwardOptions{} },
		query: func(_ *arcv1.Pod, opts runtime.Object) (url.Values, streamproxy.Options, error) {
			o := opts.(*corev1.PodPortForwardOptions)
			q := url.Values{}
			for _, p := range o.Ports {
				if p < 1 || p > 65535 {
					return nil, streamproxy.Options{}, apierrors.NewBadRequest(fmt.Sprintf("port %d is not valid", p))
				}
				q.Add("port", strconv.Itoa(int(p)))
			}
			return q, streamproxy.Options{}, nil
		},
	}
}

func streamQuery(container string, stdin, stdout, stderr, tty bool) url.Values {
	q := url.Values{"container": {container}}
	setBool(q, "stdin", stdin)
	setBool(q, "stdout", stdout)
	setBool(q, "stderr", stderr)
	setBool(q, "tty", tty)
	return q
}
