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

// Package oci writes OCI image archives (an image layout in a tar stream,
// as `docker save`/`skopeo copy oci-archive:` produce and containerd
// imports) from files held in memory or on disk. Arcturus builds its pause
// image this way, and its tests their images, with no registry at hand.
package oci

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"
	"time"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// File is one entry of a layer.
type File struct {
	// Path inside the image, relative to its root ("bin/sh").
	Path string
	// Mode holds the permission bits; directories need not be listed.
	Mode int64
	// Data is the content of a regular file; Linkname makes a symlink.
	Data     []byte
	Linkname string
}

// Image is an image to write.
type Image struct {
	// Name is the reference the image is imported under ("local/busybox:1",
	// normalized to "docker.io/local/busybox:1").
	Name string
	// Layers, bottom first.
	Layers [][]File
	// Config is the runtime configuration (entrypoint, env, ...).
	Config ocispec.ImageConfig
	// Architecture and OS of the image ("amd64", "linux").
	Architecture, OS string
}

// containerdImageName is how containerd's importer names an image.
const containerdImageName = "io.containerd.image.name"

// epoch fixes timestamps, so that the same files make the same digests.
var epoch = time.Unix(0, 0).UTC()

// Write writes img as an OCI archive to w.
func Write(w io.Writer, img Image) error {
	named, err := reference.ParseNormalizedNamed(img.Name)
	if err != nil {
		return fmt.Errorf("image name %q: %w", img.Name, err)
	}
	name := reference.TagNameOnly(named).String()
	out := tar.NewWriter(w)
	blob := func(data []byte) (ocispec.Descriptor, error) {
		sum := sha256.Sum256(data)
		d := ocispec.Descriptor{Digest: digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(sum[:])), Size: int64(len(data))}
		err := writeEntry(out, "blobs/sha256/"+d.Digest.Encoded(), 0o644, data)
		return d, err
	}

	var (
		layers  []ocispec.Descriptor
		diffIDs []digest.Digest
	)
	for i, files := range img.Layers {
		raw, err := layerTar(files)
		if err != nil {
			return fmt.Errorf("layer %d: %w", i, err)
		}
		diffIDs = append(diffIDs, digest.FromBytes(raw))
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		if _, err := zw.Write(raw); err != nil {
			return fmt.Errorf("compressing layer %d: %w", i, err)
		}
		if err := zw.Close(); err != nil {
			return fmt.Errorf("compressing layer %d: %w", i, err)
		}
		d, err := blob(gz.Bytes())
		if err != nil {
			return err
		}
		d.MediaType = ocispec.MediaTypeImageLayerGzip
		layers = append(layers, d)
	}

	config, err := json.Marshal(ocispec.Image{
		Created:  &epoch,
		Platform: ocispec.Platform{Architecture: img.Architecture, OS: img.OS},
		Config:   img.Config,
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: diffIDs},
	})
	if err != nil {
		return fmt.Errorf("encoding image config: %w", err)
	}
	configDesc, err := blob(config)
	if err != nil {
		return err
	}
	configDesc.MediaType = ocispec.MediaTypeImageConfig

	manifest, err := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    configDesc,
		Layers:    layers,
	})
	if err != nil {
		return fmt.Errorf("encoding manifest: %w", err)
	}
	manifestDesc, err := blob(manifest)
	if err != nil {
		return err
	}
	manifestDesc.MediaType = ocispec.MediaTypeImageManifest
	manifestDesc.Platform = &ocispec.Platform{Architecture: img.Architecture, OS: img.OS}
	manifestDesc.Annotations = map[string]string{containerdImageName: name, ocispec.AnnotationRefName: name}

	index, err := json.Marshal(ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{manifestDesc},
	})
	if err != nil {
		return fmt.Errorf("encoding index: %w", err)
	}
	layout, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	if err := writeEntry(out, ocispec.ImageLayoutFile, 0o644, layout); err != nil {
		return err
	}
	if err := writeEntry(out, "index.json", 0o644, index); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("finishing archive: %w", err)
	}
	return nil
}

// layerTar makes an uncompressed layer, parents before children.
func layerTar(files []File) ([]byte, error) {
	sorted := append([]File(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, f := range sorted {
		for dir := path.Dir(f.Path); dir != "." && dir != "/" && !dirs[dir]; dir = path.Dir(dir) {
			dirs[dir] = true
		}
	}
	dirList := make([]string, 0, len(dirs))
	for d := range dirs {
		dirList = append(dirList, d)
	}
	sort.Strings(dirList)
	for _, d := range dirList {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: epoch}); err != nil {
			return nil, err
		}
	}
	for _, f := range sorted {
		h := &tar.Header{Name: f.Path, Mode: f.Mode, ModTime: epoch}
		if f.Linkname != "" {
			h.Typeflag, h.Linkname = tar.TypeSymlink, f.Linkname
			if h.Mode == 0 {
				h.Mode = 0o777
			}
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.Data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if f.Linkname == "" {
			if _, err := tw.Write(f.Data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeEntry(tw *tar.Writer, name string, mode int64, data []byte) error {
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: epoch}); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if _, err := tw.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}
