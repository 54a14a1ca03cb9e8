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

package containerd

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/archive/compression"
	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/images"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	"github.com/arcturus-cloud/arcturus/pkg/agent/runtime"
)

const (
	// MaxImageFileSize bounds the file an image may hold.
	MaxImageFileSize int64 = 64 << 30
	// maxLayerEntries bounds the tar entries of all layers of one image.
	maxLayerEntries = 1 << 20
	// maxIndexSize bounds manifests and indexes read into memory.
	maxIndexSize = 4 << 20
	// maxIndexDepth bounds indexes nested in indexes.
	maxIndexDepth = 4
	// stagingDir, under the cache directory, holds files being written.
	stagingDir = ".staging"
	// staleAfter is when Prune removes a staging file left by a crash.
	staleAfter = 24 * time.Hour
)

// PullError is returned when an image could not be pulled from its
// registry.
type PullError struct {
	// Image is the normalized reference.
	Image string
	Err   error
}

func (e *PullError) Error() string {
	return fmt.Sprintf("could not pull image %s: %v", e.Image, e.Err)
}

func (e *PullError) Unwrap() error { return e.Err }

// ImageFiles turns OCI images in the containerd namespace of the CRI
// plugin into files on the node (runtime.ImageFiles): the single regular
// file an image's layers hold, extracted once per image manifest into a
// cache directory as <cache>/<manifest digest hex>/<file name>, read-only.
type ImageFiles struct {
	socket   string
	cacheDir string
	platform platforms.MatchComparer
	// maxFileSize is MaxImageFileSize but for tests.
	maxFileSize int64

	mu     sync.Mutex
	client *containerd.Client
	closed bool
	locks  map[string]*keyLock
}

var _ runtime.ImageFiles = (*ImageFiles)(nil)

// NewImageFiles returns ImageFiles for the containerd at socket, caching
// files in cacheDir. It connects on first use.
func NewImageFiles(socket, cacheDir string) *ImageFiles {
	if abs, err := filepath.Abs(cacheDir); err == nil {
		cacheDir = abs
	}
	return &ImageFiles{
		socket:      socket,
		cacheDir:    cacheDir,
		platform:    platformMatcher(),
		maxFileSize: MaxImageFileSize,
		locks:       map[string]*keyLock{},
	}
}

// Close closes the connection to containerd; ImageFile fails afterwards.
func (f *ImageFiles) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	if f.client == nil {
		return nil
	}
	err := f.client.Close()
	f.client = nil
	return err
}

// ImageFile returns the file image ref holds, pulling the image as policy
// says. An empty policy defaults as in Kubernetes: Always for an image
// without tag or tagged latest, IfNotPresent otherwise. Errors of pulls
// are *PullError; a missing image with policy Never is errdefs.ErrNotFound.
func (f *ImageFiles) ImageFile(ctx context.Context, ref string, policy corev1.PullPolicy) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("invalid image reference %q: %w", ref, err)
	}
	name := reference.TagNameOnly(named).String()
	if policy == "" {
		policy = defaultPullPolicy(named)
	}
	c, err := f.connect(ctx)
	if err != nil {
		return "", err
	}
	ctx = namespaces.WithNamespace(ctx, Namespace)
	cs := c.ContentStore()

	var manifestDesc ocispec.Descriptor
	var manifest ocispec.Manifest
	switch policy {
	case corev1.PullNever:
		manifestDesc, manifest, err = f.local(ctx, c, name)
		if errdefs.IsNotFound(err) {
			return "", fmt.Errorf("image %s is not present on the node and its pull policy is Never: %w", name, err)
		}
	case corev1.PullIfNotPresent:
		manifestDesc, manifest, err = f.local(ctx, c, name)
		if errdefs.IsNotFound(err) {
			manifestDesc, manifest, err = f.pull(ctx, c, name, true)
		}
	case corev1.PullAlways:
		manifestDesc, manifest, err = f.pull(ctx, c, name, false)
	default:
		return "", fmt.Errorf("image %s: unknown pull policy %q", name, policy)
	}
	if err != nil {
		return "", err
	}

	if err := manifestDesc.Digest.Validate(); err != nil {
		return "", fmt.Errorf("image %s: manifest digest %q: %w", name, manifestDesc.Digest, err)
	}
	dir := filepath.Join(f.cacheDir, manifestDesc.Digest.Encoded())
	unlock, err := f.lock(ctx, "extraction", manifestDesc.Digest.String())
	if err != nil {
		return "", err
	}
	defer unlock()
	if p, ok := cached(dir); ok {
		return p, nil
	}
	klog.FromContext(ctx).V(2).Info("Extracting image file", "image", name, "manifest", manifestDesc.Digest)
	return f.extract(ctx, cs, name, manifestDesc.Digest, manifest, dir)
}

// defaultPullPolicy defaults a pull policy as the Kubernetes API does.
func defaultPullPolicy(named reference.Named) corev1.PullPolicy {
	if tagged, ok := named.(reference.Tagged); ok {
		if tagged.Tag() == "latest" {
			return corev1.PullAlways
		}
		return corev1.PullIfNotPresent
	}
	if _, ok := named.(reference.Digested); ok {
		return corev1.PullIfNotPresent
	}
	return corev1.PullAlways
}

func (f *ImageFiles) connect(ctx context.Context) (*containerd.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, errors.New("image files: closed")
	}
	if f.client != nil {
		return f.client, nil
	}
	timeout := 10 * time.Second
	if deadline, ok := ctx.Deadline(); ok {
		if d := time.Until(deadline); d < timeout {
			timeout = d
		}
	}
	if timeout <= 0 {
		return nil, fmt.Errorf("connecting to containerd at %s: %w", f.socket, ctx.Err())
	}
	c, err := containerd.New(f.socket, containerd.WithDefaultNamespace(Namespace), containerd.WithTimeout(timeout))
	if err != nil {
		return nil, fmt.Errorf("connecting to containerd at %s: %w", f.socket, err)
	}
	f.client = c
	return c, nil
}

// local resolves an image in the content store, with every layer present.
// A missing image or blob is errdefs.ErrNotFound.
func (f *ImageFiles) local(ctx context.Context, c *containerd.Client, name string) (ocispec.Descriptor, ocispec.Manifest, error) {
	img, err := c.ImageService().Get(ctx, name)
	if err != nil {
		return ocispec.Descriptor{}, ocispec.Manifest{}, fmt.Errorf("looking up image %s: %w", name, err)
	}
	cs := c.ContentStore()
	desc, manifest, err := resolveManifest(ctx, cs, img.Target, f.platform, 0)
	if err != nil {
		return desc, manifest, fmt.Errorf("image %s: %w", name, err)
	}
	for _, l := range manifest.Layers {
		if _, err := cs.Info(ctx, l.Digest); err != nil {
			return desc, manifest, fmt.Errorf("image %s: layer %s: %w", name, l.Digest, err)
		}
	}
	return desc, manifest, nil
}

// pull pulls name for the host platform (content only, no unpacking).
// With ifMissing, it first looks again whether a concurrent call has
// pulled it.
func (f *ImageFiles) pull(ctx context.Context, c *containerd.Client, name string, ifMissing bool) (ocispec.Descriptor, ocispec.Manifest, error) {
	unlock, err := f.lock(ctx, "pull", name)
	if err != nil {
		return ocispec.Descriptor{}, ocispec.Manifest{}, err
	}
	defer unlock()
	if ifMissing {
		desc, manifest, err := f.local(ctx, c, name)
		if !errdefs.IsNotFound(err) {
			return desc, manifest, err
		}
	}
	klog.FromContext(ctx).V(2).Info("Pulling image", "image", name)
	img, err := c.Pull(ctx, name, containerd.WithPlatformMatcher(f.platform))
	if err != nil {
		return ocispec.Descriptor{}, ocispec.Manifest{}, &PullError{Image: name, Err: err}
	}
	desc, manifest, err := resolveManifest(ctx, c.ContentStore(), img.Target(), f.platform, 0)
	if err != nil {
		return desc, manifest, &PullError{Image: name, Err: err}
	}
	return desc, manifest, nil
}

// resolveManifest finds the manifest for platform that desc, a manifest or
// an index, stands for. A manifest that desc names directly is taken
// whatever its platform, as containerd does.
func resolveManifest(ctx context.Context, provider content.Provider, desc ocispec.Descriptor, platform platforms.MatchComparer, depth int) (ocispec.Descriptor, ocispec.Manifest, error) {
	if desc.Size > maxIndexSize {
		return desc, ocispec.Manifest{}, fmt.Errorf("%s %s is %d bytes, more than %d", desc.MediaType, desc.Digest, desc.Size, maxIndexSize)
	}
	switch desc.MediaType {
	case images.MediaTypeDockerSchema2Manifest, ocispec.MediaTypeImageManifest:
		p, err := content.ReadBlob(ctx, provider, desc)
		if err != nil {
			return desc, ocispec.Manifest{}, fmt.Errorf("reading manifest %s: %w", desc.Digest, err)
		}
		var m ocispec.Manifest
		if err := json.Unmarshal(p, &m); err != nil {
			return desc, m, fmt.Errorf("decoding manifest %s: %w", desc.Digest, err)
		}
		if m.MediaType != "" && m.MediaType != desc.MediaType {
			return desc, m, fmt.Errorf("manifest %s has media type %s, its descriptor %s", desc.Digest, m.MediaType, desc.MediaType)
		}
		return desc, m, nil

	case images.MediaTypeDockerSchema2ManifestList, ocispec.MediaTypeImageIndex:
		if depth >= maxIndexDepth {
			return desc, ocispec.Manifest{}, fmt.Errorf("index %s: indexes nested more than %d deep", desc.Digest, maxIndexDepth)
		}
		p, err := content.ReadBlob(ctx, provider, desc)
		if err != nil {
			return desc, ocispec.Manifest{}, fmt.Errorf("reading index %s: %w", desc.Digest, err)
		}
		var idx ocispec.Index
		if err := json.Unmarshal(p, &idx); err != nil {
			return desc, ocispec.Manifest{}, fmt.Errorf("decoding index %s: %w", desc.Digest, err)
		}
		var candidates []ocispec.Descriptor
		for _, d := range idx.Manifests {
			if d.Platform == nil || platform.Match(*d.Platform) {
				candidates = append(candidates, d)
			}
		}
		sort.SliceStable(candidates, func(i, j int) bool {
			if candidates[i].Platform == nil {
				return false
			}
			if candidates[j].Platform == nil {
				return true
			}
			return platform.Less(*candidates[i].Platform, *candidates[j].Platform)
		})
		for _, d := range candidates {
			if d.Platform == nil && !images.IsIndexType(d.MediaType) {
				ok, err := configMatches(ctx, provider, d, platform)
				if errdefs.IsNotFound(err) || (err == nil && !ok) {
					continue
				}
				if err != nil {
					return d, ocispec.Manifest{}, err
				}
			}
			md, m, err := resolveManifest(ctx, provider, d, platform, depth+1)
			if errdefs.IsNotFound(err) && d.Platform == nil {
				continue
			}
			return md, m, err
		}
		return desc, ocispec.Manifest{}, fmt.Errorf("index %s has no manifest for platform %s: %w", desc.Digest, platforms.DefaultString(), errdefs.ErrNotFound)
	}
	return desc, ocispec.Manifest{}, fmt.Errorf("%s has media type %q, not an image manifest or index", desc.Digest, desc.MediaType)
}

// configMatches tells whether the config of the manifest d names a
// platform that matches.
func configMatches(ctx context.Context, provider content.Provider, d ocispec.Descriptor, platform platforms.MatchComparer) (bool, error) {
	if d.Size > maxIndexSize {
		return false, nil
	}
	p, err := content.ReadBlob(ctx, provider, d)
	if err != nil {
		return false, fmt.Errorf("reading manifest %s: %w", d.Digest, err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(p, &m); err != nil || m.Config.Size > maxIndexSize {
		return false, nil
	}
	p, err = content.ReadBlob(ctx, provider, m.Config)
	if err != nil {
		return false, fmt.Errorf("reading config %s: %w", m.Config.Digest, err)
	}
	var cfg ocispec.Image
	if err := json.Unmarshal(p, &cfg); err != nil {
		return false, nil
	}
	return platform.Match(platforms.Normalize(ocispec.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant})), nil
}

// cached returns the file extracted into dir earlier: the only entry of
// dir, put there by rename once complete.
func cached(dir string) (string, bool) {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 || !entries[0].Type().IsRegular() {
		return "", false
	}
	return filepath.Join(dir, entries[0].Name()), true
}

// entryID names a tar entry: the layer and its position in it.
type entryID struct{ layer, index int }

type nodeKind uint8

const (
	kindDir nodeKind = iota
	kindReg
	kindOther // symlinks, devices, fifos: they do not count
)

// node is a path of the union of the layers read so far.
type node struct {
	kind     nodeKind
	layer    int     // the last layer that wrote it or a path below it
	src      entryID // for kindReg: the entry holding the data
	size     int64   // for kindReg
	children map[string]*node
}

// union is a tiny overlay filesystem of tar layers, holding metadata only.
type union struct {
	root    *node
	entries int
}

// lookup returns the node at p, or nil.
func (u *union) lookup(p string) *node {
	n := u.root
	for _, el := range strings.Split(p, "/") {
		if n.kind != kindDir {
			return nil
		}
		if n = n.children[el]; n == nil {
			return nil
		}
	}
	return n
}

// parent returns the directory holding p and p's base name, creating
// directories on the way; a non-directory in the way is replaced, as
// extracting the layer would.
func (u *union) parent(p string, layer int) (*node, string) {
	n := u.root
	els := strings.Split(p, "/")
	for _, el := range els[:len(els)-1] {
		c := n.children[el]
		if c == nil || c.kind != kindDir {
			c = &node{kind: kindDir, children: map[string]*node{}}
			n.children[el] = c
		}
		c.layer = layer
		n = c
	}
	return n, els[len(els)-1]
}

// put sets the node at p. A directory over a directory keeps its
// contents; anything else replaces what was there.
func (u *union) put(p string, n *node) {
	dir, base := u.parent(p, n.layer)
	if old := dir.children[base]; old != nil && old.kind == kindDir && n.kind == kindDir {
		old.layer = n.layer
		return
	}
	if n.kind == kindDir && n.children == nil {
		n.children = map[string]*node{}
	}
	dir.children[base] = n
}

// remove removes p and all below it.
func (u *union) remove(p string) {
	dir := u.root
	els := strings.Split(p, "/")
	for _, el := range els[:len(els)-1] {
		if dir = dir.children[el]; dir == nil || dir.kind != kindDir {
			return
		}
	}
	delete(dir.children, els[len(els)-1])
}

// opaque removes what lower layers put below dir p, keeping what layer
// itself wrote.
func (u *union) opaque(p string, layer int) {
	var n *node
	if p == "." {
		n = u.root
	} else if n = u.lookup(p); n == nil || n.kind != kindDir {
		return
	}
	var prune func(*node)
	prune = func(d *node) {
		for name, c := range d.children {
			if c.layer < layer {
				delete(d.children, name)
			} else if c.kind == kindDir {
				prune(c)
			}
		}
	}
	prune(n)
}

// regular lists the regular files of the union.
func (u *union) regular() map[string]*node {
	files := map[string]*node{}
	var walk func(string, *node)
	walk = func(prefix string, d *node) {
		for name, c := range d.children {
			p := path.Join(prefix, name)
			switch c.kind {
			case kindDir:
				walk(p, c)
			case kindReg:
				files[p] = c
			}
		}
	}
	walk("", u.root)
	return files
}

// cleanPath checks a tar entry name and makes it relative to the root;
// "." is the root itself.
func cleanPath(name string) (string, error) {
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("absolute path %q", name)
	}
	for _, el := range strings.Split(name, "/") {
		if el == ".." {
			return "", fmt.Errorf("path %q leaves the image root", name)
		}
	}
	if strings.ContainsRune(name, 0) {
		return "", fmt.Errorf("path %q holds a NUL byte", name)
	}
	return path.Clean(name), nil
}

// spool is a regular file's data written to the staging directory while
// reading the layers, which is then mostly the file sought.
type spool struct {
	src  entryID
	path string
	file *os.File
}

// extraction is the state of one extract.
type extraction struct {
	f       *ImageFiles
	staging string
	prefix  string
	u       union
	spool   *spool
	temps   []*os.File
}

func (x *extraction) newTemp() (*os.File, error) {
	t, err := os.CreateTemp(x.staging, x.prefix+"-*")
	if err != nil {
		return nil, fmt.Errorf("creating staging file: %w", err)
	}
	x.temps = append(x.temps, t)
	return t, nil
}

// cleanup removes the staging files not renamed into the cache.
func (x *extraction) cleanup() {
	for _, t := range x.temps {
		_ = t.Close()
		_ = os.Remove(t.Name())
	}
}

// add applies entry index of layer to the union, spooling the data of a
// regular file unless the one spooled before is still there: mostly the
// image holds one file, read once.
func (x *extraction) add(ctx context.Context, layer, index int, hdr *tar.Header, r io.Reader) error {
	u := &x.u
	u.entries++
	if u.entries > maxLayerEntries {
		return fmt.Errorf("more than %d entries", maxLayerEntries)
	}
	p, err := cleanPath(hdr.Name)
	if err != nil {
		return err
	}
	if p == "." {
		return nil
	}
	dirName, base := path.Split(p)
	dirName = path.Clean(dirName)
	if strings.HasPrefix(base, ".wh.") {
		switch {
		case base == ".wh..wh..opq":
			u.opaque(dirName, layer)
		case strings.HasPrefix(base, ".wh..wh."):
			// Other AUFS metadata: not a path of the image.
		default:
			hidden := strings.TrimPrefix(base, ".wh.")
			if hidden == "" || hidden == "." || hidden == ".." {
				return fmt.Errorf("invalid whiteout %q", hdr.Name)
			}
			u.remove(path.Join(dirName, hidden))
		}
		return nil
	}
	id := entryID{layer, index}
	switch hdr.Typeflag {
	case tar.TypeDir:
		u.put(p, &node{kind: kindDir, layer: layer})
	case tar.TypeReg, tar.TypeGNUSparse:
		if hdr.Size < 0 || hdr.Size > x.f.maxFileSize {
			return fmt.Errorf("file %s is %d bytes, more than the limit of %d", p, hdr.Size, x.f.maxFileSize)
		}
		u.put(p, &node{kind: kindReg, layer: layer, src: id, size: hdr.Size})
		sp := x.spool
		if sp == nil {
			t, err := x.newTemp()
			if err != nil {
				return err
			}
			sp = &spool{file: t}
			x.spool = sp
		} else if n := u.lookup(sp.path); n != nil && n.kind == kindReg && n.src == sp.src {
			return nil
		} else if err := sp.file.Truncate(0); err != nil {
			return fmt.Errorf("reusing staging file: %w", err)
		}
		sp.src, sp.path = id, p
		if err := writeFile(ctx, sp.file, r, hdr.Size); err != nil {
			return fmt.Errorf("file %s: %w", p, err)
		}
	case tar.TypeLink:
		target, err := cleanPath(hdr.Linkname)
		if err != nil {
			return fmt.Errorf("hard link %s: %w", p, err)
		}
		t := u.lookup(target)
		if t == nil || t.kind != kindReg {
			return fmt.Errorf("hard link %s to %s, which is not a regular file of the image", p, target)
		}
		u.put(p, &node{kind: kindReg, layer: layer, src: t.src, size: t.size})
	default:
		u.put(p, &node{kind: kindOther, layer: layer})
	}
	return nil
}

// extract reads the layers of manifest, requires exactly one regular file
// in their union and puts it into dir.
func (f *ImageFiles) extract(ctx context.Context, cs content.Store, name string, manifestDigest digest.Digest, manifest ocispec.Manifest, dir string) (string, error) {
	x := &extraction{
		f:       f,
		staging: filepath.Join(f.cacheDir, stagingDir),
		prefix:  manifestDigest.Encoded(),
		u:       union{root: &node{kind: kindDir, children: map[string]*node{}}},
	}
	if err := os.MkdirAll(x.staging, 0o700); err != nil {
		return "", fmt.Errorf("creating image file cache: %w", err)
	}
	defer x.cleanup()
	for li, layer := range manifest.Layers {
		err := f.readLayer(ctx, cs, layer, func(index int, hdr *tar.Header, r io.Reader) (bool, error) {
			return true, x.add(ctx, li, index, hdr, r)
		})
		if err != nil {
			return "", fmt.Errorf("image %s: layer %d (%s): %w", name, li, layer.Digest, err)
		}
	}

	files := x.u.regular()
	if len(files) != 1 {
		names := make([]string, 0, len(files))
		for p := range files {
			names = append(names, p)
		}
		sort.Strings(names)
		if len(names) > 5 {
			names = append(names[:5], "...")
		}
		return "", fmt.Errorf("image %s holds %d regular files %v; a disk/kernel image must hold exactly one", name, len(files), names)
	}
	var filePath string
	var file *node
	for p, n := range files {
		filePath, file = p, n
	}

	var out *os.File
	if x.spool != nil && x.spool.src == file.src {
		out = x.spool.file
	} else {
		// The file spooled was removed later: read the one left again.
		t, err := x.newTemp()
		if err != nil {
			return "", err
		}
		layer := manifest.Layers[file.src.layer]
		found := false
		err = f.readLayer(ctx, cs, layer, func(index int, hdr *tar.Header, r io.Reader) (bool, error) {
			if index < file.src.index {
				return true, nil
			}
			found = true
			return false, writeFile(ctx, t, r, file.size)
		})
		if err == nil && !found {
			err = errors.New("entry not found on second reading")
		}
		if err != nil {
			return "", fmt.Errorf("image %s: layer %d (%s): file %s: %w", name, file.src.layer, layer.Digest, filePath, err)
		}
		out = t
	}

	if err := out.Chmod(0o444); err != nil {
		return "", fmt.Errorf("image %s: %w", name, err)
	}
	if err := out.Sync(); err != nil {
		return "", fmt.Errorf("image %s: syncing %s: %w", name, out.Name(), err)
	}
	// A directory left incomplete or damaged goes; a concurrent process
	// extracting the same image writes the same file.
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("image %s: clearing %s: %w", name, dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("image %s: %w", name, err)
	}
	final := filepath.Join(dir, path.Base(filePath))
	if err := os.Rename(out.Name(), final); err != nil {
		return "", fmt.Errorf("image %s: %w", name, err)
	}
	for _, d := range []string{dir, f.cacheDir} {
		if err := syncDir(d); err != nil {
			return "", fmt.Errorf("image %s: %w", name, err)
		}
	}
	return final, nil
}

// readLayer calls fn for the entries of a layer in order until fn returns
// false or an error; r reads the entry's data.
func (f *ImageFiles) readLayer(ctx context.Context, cs content.Store, desc ocispec.Descriptor, fn func(index int, hdr *tar.Header, r io.Reader) (bool, error)) error {
	if !images.IsLayerType(desc.MediaType) {
		return fmt.Errorf("media type %q is not a filesystem layer", desc.MediaType)
	}
	if strings.Contains(desc.MediaType, "+encrypted") {
		return fmt.Errorf("encrypted layers (%s) are not supported", desc.MediaType)
	}
	ra, err := cs.ReaderAt(ctx, desc)
	if err != nil {
		return fmt.Errorf("opening: %w", err)
	}
	defer ra.Close()
	// Large reads: each is a call to containerd.
	blob := bufio.NewReaderSize(&ctxReader{ctx: ctx, r: io.NewSectionReader(ra, 0, ra.Size())}, 1<<20)
	dr, err := compression.DecompressStream(blob)
	if err != nil {
		return fmt.Errorf("decompressing: %w", err)
	}
	defer dr.Close()
	tr := tar.NewReader(&ctxReader{ctx: ctx, r: dr})
	for index := 0; ; index++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading: %w", err)
		}
		more, err := fn(index, hdr, tr)
		if err != nil || !more {
			return err
		}
	}
}

// ctxReader fails reads once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// writeFile copies size bytes of r to the start of f, leaving holes where
// the data is zeros (disk images are mostly zeros).
func writeFile(ctx context.Context, f *os.File, r io.Reader, size int64) error {
	const block = 64 << 10
	buf := make([]byte, 1<<20)
	zero := make([]byte, block)
	var off int64
	for off < size {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := int64(len(buf))
		if size-off < n {
			n = size - off
		}
		if _, err := io.ReadFull(r, buf[:n]); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("reading data: %w", err)
		}
		for i := int64(0); i < n; i += block {
			b := buf[i:min(i+block, n)]
			if bytes.Equal(b, zero[:len(b)]) {
				continue
			}
			if _, err := f.WriteAt(b, off+i); err != nil {
				return fmt.Errorf("writing %s: %w", f.Name(), err)
			}
		}
		off += n
	}
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("sizing %s: %w", f.Name(), err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// Prune removes the cached files of the manifests keep does not want, and
// staging files a crash left behind. Files in use stay open for who uses
// them, but a VM disk overlay names its backing file by path: keep must
// want the manifests of every disk in use.
func (f *ImageFiles) Prune(ctx context.Context, keep func(digest.Digest) bool) error {
	entries, err := os.ReadDir(f.cacheDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading image file cache: %w", err)
	}
	var errs []error
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if e.Name() == stagingDir {
			errs = append(errs, pruneStaging(filepath.Join(f.cacheDir, stagingDir)))
			continue
		}
		d := cacheDigest(e.Name())
		if d == "" || !e.IsDir() || keep(d) {
			continue
		}
		unlock, err := f.lock(ctx, "extraction", d.String())
		if err != nil {
			return err
		}
		if err := os.RemoveAll(filepath.Join(f.cacheDir, e.Name())); err != nil {
			errs = append(errs, fmt.Errorf("pruning image file cache: %w", err))
		}
		unlock()
	}
	return errors.Join(errs...)
}

// cacheDigest returns the manifest digest a cache directory is named by
// the encoded part of, or "".
func cacheDigest(name string) digest.Digest {
	for _, alg := range []digest.Algorithm{digest.SHA256, digest.SHA384, digest.SHA512} {
		if d := digest.NewDigestFromEncoded(alg, name); d.Validate() == nil {
			return d
		}
	}
	return ""
}

func pruneStaging(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("pruning image file cache: %w", err)
	}
	var errs []error
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < staleAfter {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("pruning image file cache: %w", err))
		}
	}
	return errors.Join(errs...)
}

// keyLock is a mutex that waiting on can be given up.
type keyLock struct {
	ch   chan struct{}
	refs int
}

// lock takes the lock for the operation op on subject, waiting until it
// is free or ctx is done.
func (f *ImageFiles) lock(ctx context.Context, op, subject string) (func(), error) {
	key := op + "\x00" + subject
	f.mu.Lock()
	l := f.locks[key]
	if l == nil {
		l = &keyLock{ch: make(chan struct{}, 1)}
		f.locks[key] = l
	}
	l.refs++
	f.mu.Unlock()
	release := func() {
		f.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(f.locks, key)
		}
		f.mu.Unlock()
	}
	select {
	case l.ch <- struct{}{}:
		return func() {
			<-l.ch
			release()
		}, nil
	case <-ctx.Done():
		release()
		return nil, fmt.Errorf("waiting for the %s of %s under way: %w", op, subject, ctx.Err())
	}
}
