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

// Package assets keeps the kernels and initrds of Environments ready to
// serve: files named by a file URL are served in place, others are fetched
// once into a cache directory; either is checked against its checksum
// before the first byte goes out.
package assets

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"k8s.io/klog/v2"

	metalv1alpha1 "github.com/arcturus-cloud/arcturus/pkg/apis/metal/v1alpha1"
	"github.com/arcturus-cloud/arcturus/pkg/apis/metal/validation"
)

// Store resolves assets to local files.
type Store struct {
	// Dir holds fetched assets.
	Dir    string
	Client *http.Client

	mu sync.Mutex
	// verified remembers files whose checksum matched, by path, size and
	// modification time, so a large initrd is hashed once, not per boot.
	verified map[verifiedKey]bool
	// fetching serialises fetches of one URL.
	fetching map[string]*sync.Mutex
}

type verifiedKey struct {
	path, checksum string
	size           int64
	modTime        time.Time
}

// NewStore returns a store that fetches into dir.
func NewStore(dir string) *Store {
	return &Store{Dir: dir, Client: &http.Client{Timeout: 30 * time.Minute}, verified: map[verifiedKey]bool{}, fetching: map[string]*sync.Mutex{}}
}

// Path returns the local file of asset a, fetching and verifying it first
// when needed.
func (s *Store) Path(ctx context.Context, a metalv1alpha1.Asset) (string, error) {
	u, err := url.Parse(a.URL)
	if err != nil {
		return "", fmt.Errorf("asset URL %q: %w", a.URL, err)
	}
	var path string
	switch u.Scheme {
	case "file":
		path = u.Path
	case "http", "https":
		path, err = s.fetch(ctx, a.URL)
		if err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("asset URL %q: unsupported scheme", a.URL)
	}
	if err := s.verify(path, a.Checksum); err != nil {
		return "", err
	}
	return path, nil
}

func (s *Store) fetch(ctx context.Context, rawURL string) (string, error) {
	sum := sha256.Sum256([]byte(rawURL))
	path := filepath.Join(s.Dir, hex.EncodeToString(sum[:]))
	s.mu.Lock()
	lock, ok := s.fetching[rawURL]
	if !ok {
		lock = &sync.Mutex{}
		s.fetching[rawURL] = lock
	}
	s.mu.Unlock()
	lock.Lock()
	defer lock.Unlock()
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return "", fmt.Errorf("creating asset cache: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return "", fmt.Errorf("fetching %s: %w", rawURL, err)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		return "", fmt.Errorf("fetching %s: %w", rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("fetching %s: %s", rawURL, resp.Status)
	}
	tmp, err := os.CreateTemp(s.Dir, ".fetch-*")
	if err != nil {
		return "", fmt.Errorf("fetching %s: %w", rawURL, err)
	}
	defer os.Remove(tmp.Name())
	start := time.Now()
	n, err := io.Copy(tmp, resp.Body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("fetching %s: %w", rawURL, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("fetching %s: %w", rawURL, err)
	}
	klog.FromContext(ctx).Info("Fetched an Environment asset", "url", rawURL, "bytes", n, "duration", time.Since(start))
	return path, nil
}

func (s *Store) verify(path, checksum string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("asset: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("asset %s is not a regular file", path)
	}
	if checksum == "" {
		return nil
	}
	key := verifiedKey{path: path, checksum: checksum, size: fi.Size(), modTime: fi.ModTime()}
	s.mu.Lock()
	ok := s.verified[key]
	s.mu.Unlock()
	if ok {
		return nil
	}
	algorithm, want, err := validation.ParseChecksum(checksum)
	if err != nil {
		return fmt.Errorf("asset %s: checksum: %w", path, err)
	}
	var h hash.Hash = sha256.New()
	if algorithm == "sha512" {
		h = sha512.New()
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("asset: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("asset %s: %w", path, err)
	}
	if got := h.Sum(nil); hex.EncodeToString(got) != hex.EncodeToString(want) {
		return fmt.Errorf("asset %s: %s checksum is %x, want %x", path, algorithm, got, want)
	}
	s.mu.Lock()
	s.verified[key] = true
	s.mu.Unlock()
	return nil
}
