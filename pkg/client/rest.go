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

package client

import (
	"fmt"
	"net/http"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
)

// PreferProtobuf returns a copy of config that speaks protobuf unless
// config chose a content type, as the kubelet, kube-scheduler and
// kube-controller-manager do: protobuf costs the server and the client a
// fraction of JSON. It accepts JSON too, for kinds that have no protobuf
// form. Dynamic and metadata clients choose their own content types.
func PreferProtobuf(config *rest.Config) *rest.Config {
	c := rest.CopyConfig(config)
	if c.ContentType == "" {
		c.ContentType = runtime.ContentTypeProtobuf
		c.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	}
	return c
}

// LimitMutatingInFlight returns a copy of config whose clients, all
// together, keep at most max create, update, patch and delete requests in
// flight and queue the others. The API server answers 429 past its own
// limit (200 by default) and client-go retries a second later; a process
// that writes in bursts, such as a controller deleting hundreds of pods or
// an agent of many simulated nodes, waits its turn instead. Watches,
// reads and upgraded connections are not counted.
func LimitMutatingInFlight(config *rest.Config, max int) *rest.Config {
	c := rest.CopyConfig(config)
	slots := make(chan struct{}, max)
	c.Wrap(func(next http.RoundTripper) http.RoundTripper { return &mutatingLimiter{next: next, slots: slots} })
	return c
}

type mutatingLimiter struct {
	next  http.RoundTripper
	slots chan struct{}
}

func (l *mutatingLimiter) RoundTrip(req *http.Request) (*http.Response, error) {
	switch req.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return l.next.RoundTrip(req)
	}
	if req.Header.Get("Upgrade") != "" {
		return l.next.RoundTrip(req)
	}
	select {
	case l.slots <- struct{}{}:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	defer func() { <-l.slots }()
	return l.next.RoundTrip(req)
}

// WrappedRoundTripper lets client-go reach the transport underneath.
func (l *mutatingLimiter) WrappedRoundTripper() http.RoundTripper { return l.next }

// restClient builds a client of one group version at the endpoint of
// config, encoding with scheme, in protobuf unless config chose a content
// type (the superset kinds carry their VM in an extension field, see
// pkg/apis/core/v1/protobuf.go). httpClient may be nil.
func restClient(config *rest.Config, httpClient *http.Client, apiPath string, gv schema.GroupVersion, scheme *runtime.Scheme) (*rest.RESTClient, error) {
	c := PreferProtobuf(config)
	c.APIPath = apiPath
	c.GroupVersion = &gv
	c.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	var (
		rc  *rest.RESTClient
		err error
	)
	if httpClient != nil {
		rc, err = rest.RESTClientForConfigAndClient(c, httpClient)
	} else {
		rc, err = rest.RESTClientFor(c)
	}
	if err != nil {
		return nil, fmt.Errorf("building %s client: %w", gv, err)
	}
	return rc, nil
}
