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
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/containerd/archive/compression"
	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/content/local"
	"github.com/containerd/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"go.uber.org/goleak"
	corev1 "k8s.io/api/core/v1"

	"github.com/arcturus-cloud/arcturus/pkg/agent/cni"
	"github.com/arcturus-cloud/arcturus/pkg/oci"
)

// randomDisk returns data like a disk image: random blocks around runs of
// zeros, ending in zeros (which extraction leaves as holes).
func randomDisk(t *testing.T, size int) []byte {
	t.Helper()
	b := make([]byte, size)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	clear(b[size/4 : size/2])
	clear(b[size-size/8:])
	return b
}

func requireContainerd(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts containerd")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to run containerd")
	}
	for _, bin := range []string{"containerd", "runc"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed", bin)
		}
	}
	for _, d := range cni.DefaultBinDirs {
		if _, err := os.Stat(filepath.Join(d, "bridge")); err == nil {
			return
		}
	}
	t.Skipf("no CNI plugins in %v", cni.DefaultBinDirs)
}

func inode(t *testing.T, p string) (uint64, time.Time) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino, fi.ModTime()
}

func checkFile(t *testing.T, cacheDir, p, base string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes differ from the %d bytes of the image", p, len(got), len(want))
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != 0o444 {
		t.Errorf("%s has mode %v, want -r--r--r--", p, fi.Mode())
	}
	if filepath.Base(p) != base {
		t.Errorf("file %s, want base name %s", p, base)
	}
	dir := filepath.Dir(p)
	if filepath.Dir(dir) != cacheDir || cacheDigest(filepath.Base(dir)) == "" {
		t.Errorf("file %s is not in <cache>/<manifest digest hex>/ of %s", p, cacheDir)
	}
}

// TestImageFiles runs ImageFiles against a containerd of its own.
func TestImageFiles(t *testing.T) {
	requireContainerd(t)
	// Runs last: after containerd has stopped and the client is closed.
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, before) })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()

	dir := t.TempDir()
	d, err := Start(ctx, Config{Dir: dir, CNIBinDirs: cni.DefaultBinDirs, CNIConfDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Stop(); err != nil {
			t.Error(err)
		}
		_ = os.RemoveAll(RunDir(dir))
	})

	imp := func(name string, layers ...[]oci.File) {
		t.Helper()
		var buf bytes.Buffer
		if err := oci.Write(&buf, oci.Image{Name: name, Layers: layers, Architecture: goruntime.GOARCH, OS: "linux"}); err != nil {
			t.Fatal(err)
		}
		if _, err := Import(ctx, d.Socket, &buf, ""); err != nil {
			t.Fatalf("importing %s: %v", name, err)
		}
	}
	one := randomDisk(t, 3<<20+12345)
	other := randomDisk(t, 1<<20)
	imp("local/disk:1", []oci.File{{Path: "disk/disk.img", Mode: 0o644, Data: one}})
	imp("local/disk:replaced", []oci.File{{Path: "disk/disk.img", Mode: 0o644, Data: other}},
		[]oci.File{{Path: "disk/disk.img", Mode: 0o600, Data: one}})
	imp("local/disk:two", []oci.File{{Path: "disk/disk.img", Mode: 0o644, Data: one}, {Path: "disk/other.img", Data: other}})
	// The first file is spooled while reading; here it is the one removed,
	// so the one left is read again.
	imp("local/disk:whiteout-first", []oci.File{{Path: "disk/a.img", Mode: 0o644, Data: other}, {Path: "disk/b.img", Mode: 0o644, Data: one}},
		[]oci.File{{Path: "disk/.wh.a.img"}})
	imp("local/disk:whiteout-second", []oci.File{{Path: "disk/a.img", Mode: 0o644, Data: one}, {Path: "disk/b.img", Mode: 0o644, Data: other}},
		[]oci.File{{Path: "disk/.wh.b.img"}})
	imp("local/disk:opaque", []oci.File{{Path: "d/a.img", Data: other}, {Path: "d/sub/b.img", Data: other}, {Path: "e/kernel", Data: one}},
		[]oci.File{{Path: "d/.wh..wh..opq"}, {Path: "d/keep", Linkname: "../e/kernel"}, {Path: "e/.wh.kernel"}, {Path: "e/vmlinuz", Data: one}})
	imp("local/disk:links", []oci.File{{Path: "boot/vmlinuz-6.1", Mode: 0o644, Data: one}, {Path: "boot/vmlinuz", Linkname: "vmlinuz-6.1"}})
	imp("local/disk:escape", []oci.File{{Path: "../evil.img", Data: one}})
	imp("local/disk:absolute", []oci.File{{Path: "/abs/evil.img", Data: one}})
	imp("local/disk:empty", []oci.File{{Path: "dir/link", Linkname: "nowhere"}})
	imp("registry.invalid/disk:1", []oci.File{{Path: "disk.img", Data: other}})

	cacheDir := filepath.Join(t.TempDir(), "cache")
	files := NewImageFiles(d.Socket, cacheDir)
	t.Cleanup(func() { _ = files.Close() })

	t.Run("single", func(t *testing.T) {
		p, err := files.ImageFile(ctx, "local/disk:1", corev1.PullIfNotPresent)
		if err != nil {
			t.Fatal(err)
		}
		checkFile(t, cacheDir, p, "disk.img", one)
		ino, mtime := inode(t, p)
		time.Sleep(20 * time.Millisecond)
		for _, c := range []struct {
			ref    string
			policy corev1.PullPolicy
		}{
			{"local/disk:1", corev1.PullIfNotPresent},
			{"docker.io/local/disk:1", corev1.PullNever},
			{"local/disk:1", ""}, // defaults to IfNotPresent: tagged, not latest
		} {
			again, err := files.ImageFile(ctx, c.ref, c.policy)
			if err != nil {
				t.Fatalf("%s, %q: %v", c.ref, c.policy, err)
			}
			if again != p {
				t.Fatalf("%s, %q: %s, first %s", c.ref, c.policy, again, p)
			}
			if i, m := inode(t, again); i != ino || !m.Equal(mtime) {
				t.Fatalf("%s, %q: not served from the cache: inode %d mtime %v, first %d %v", c.ref, c.policy, i, m, ino, mtime)
			}
		}
	})

	for _, c := range []struct {
		image, base string
		want        []byte
	}{
		{"local/disk:replaced", "disk.img", one},
		{"local/disk:whiteout-first", "b.img", one},
		{"local/disk:whiteout-second", "a.img", one},
		{"local/disk:opaque", "vmlinuz", one},
		{"local/disk:links", "vmlinuz-6.1", one},
	} {
		t.Run(c.image, func(t *testing.T) {
			p, err := files.ImageFile(ctx, c.image, corev1.PullNever)
			if err != nil {
				t.Fatal(err)
			}
			checkFile(t, cacheDir, p, c.base, c.want)
		})
	}

	for _, c := range []struct{ image, msg string }{
		{"local/disk:two", "holds 2 regular files [disk/disk.img disk/other.img]; a disk/kernel image must hold exactly one"},
		{"local/disk:empty", "holds 0 regular files"},
		{"local/disk:escape", "leaves the image root"},
		{"local/disk:absolute", "absolute path"},
	} {
		t.Run(c.image, func(t *testing.T) {
			p, err := files.ImageFile(ctx, c.image, corev1.PullIfNotPresent)
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %q, %v; want an error saying %q", p, err, c.msg)
			}
			var pe *PullError
			if errors.As(err, &pe) {
				t.Errorf("a bad image is not a pull failure: %v", err)
			}
		})
	}

	t.Run("too large", func(t *testing.T) {
		small := NewImageFiles(d.Socket, t.TempDir())
		defer small.Close()
		small.maxFileSize = 1 << 20
		_, err := small.ImageFile(ctx, "local/disk:1", corev1.PullNever)
		if err == nil || !strings.Contains(err.Error(), "more than the limit") {
			t.Fatalf("got %v, want an error about the size limit", err)
		}
	})

	t.Run("never", func(t *testing.T) {
		_, err := files.ImageFile(ctx, "local/missing:1", corev1.PullNever)
		if err == nil || !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "docker.io/local/missing:1 is not present") {
			t.Fatalf("got %v, want not found naming the image", err)
		}
	})

	t.Run("pull failure", func(t *testing.T) {
		for _, c := range []struct {
			ref    string
			policy corev1.PullPolicy
		}{
			{"registry.invalid/x:1", corev1.PullIfNotPresent},
			{"registry.invalid/x", ""},                     // defaults to Always
			{"registry.invalid/disk:1", corev1.PullAlways}, // present, but pulled again
		} {
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			_, err := files.ImageFile(pctx, c.ref, c.policy)
			cancel()
			var pe *PullError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), "could not pull image") {
				t.Errorf("%s, %q: got %v, want a pull error", c.ref, c.policy, err)
			}
		}
		p, err := files.ImageFile(ctx, "registry.invalid/disk:1", corev1.PullIfNotPresent)
		if err != nil {
			t.Fatalf("present image, IfNotPresent: %v", err)
		}
		checkFile(t, cacheDir, p, "disk.img", other)
	})

	t.Run("concurrent", func(t *testing.T) {
		cache := t.TempDir()
		fresh := NewImageFiles(d.Socket, cache)
		defer fresh.Close()
		var wg sync.WaitGroup
		paths := make([]string, 6)
		errs := make([]error, len(paths))
		for i := range paths {
			wg.Add(1)
			go func() {
				defer wg.Done()
				image := "local/disk:1"
				if i%2 == 1 {
					image = "local/disk:replaced"
				}
				paths[i], errs[i] = fresh.ImageFile(ctx, image, corev1.PullIfNotPresent)
			}()
		}
		wg.Wait()
		for i, p := range paths {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			checkFile(t, cache, p, "disk.img", one)
			if p != paths[i%2] {
				t.Errorf("same image, different files: %s, %s", p, paths[i%2])
			}
		}
		if paths[0] == paths[1] {
			t.Errorf("different images, same file %s", paths[0])
		}
		if left, _ := os.ReadDir(filepath.Join(cache, stagingDir)); len(left) != 0 {
			t.Errorf("staging files left: %v", left)
		}
		if len(fresh.locks) != 0 {
			t.Errorf("locks left: %v", fresh.locks)
		}
	})

	t.Run("prune", func(t *testing.T) {
		p, err := files.ImageFile(ctx, "local/disk:1", corev1.PullNever)
		if err != nil {
			t.Fatal(err)
		}
		ino, _ := inode(t, p)
		want := cacheDigest(filepath.Base(filepath.Dir(p)))
		if err := files.Prune(ctx, func(d digest.Digest) bool { return d == want }); err != nil {
			t.Fatal(err)
		}
		entries, _ := os.ReadDir(cacheDir)
		if len(entries) != 2 { // the kept digest and the staging directory
			t.Errorf("after pruning all but %s: %v", want, entries)
		}
		if i, _ := inode(t, p); i != ino {
			t.Errorf("kept file changed")
		}
		if err := files.Prune(ctx, func(digest.Digest) bool { return false }); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s survived pruning: %v", p, err)
		}
		again, err := files.ImageFile(ctx, "local/disk:1", corev1.PullNever)
		if err != nil {
			t.Fatal(err)
		}
		if again != p {
			t.Errorf("after pruning: %s, before %s", again, p)
		}
		checkFile(t, cacheDir, again, "disk.img", one)
	})
}

// The tests below run extraction on containerd's content store library,
// without a daemon, for what pkg/oci cannot write.

type tarEntry struct {
	hdr  tar.Header
	data []byte
}

func layerBlob(t *testing.T, c compression.Compression, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := compression.CompressStream(&buf, c)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(w)
	for _, e := range entries {
		h := e.hdr
		if h.Typeflag == tar.TypeReg && h.Size == 0 {
			h.Size = int64(len(e.data))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func reg(name string, data []byte) tarEntry {
	return tarEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name}, data: data}
}

func extractLayers(t *testing.T, f *ImageFiles, layers ...[]byte) (string, error) {
	t.Helper()
	ctx := context.Background()
	cs, err := local.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	for _, l := range layers {
		desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromBytes(l), Size: int64(len(l))}
		if err := content.WriteBlob(ctx, cs, desc.Digest.String(), bytes.NewReader(l), desc); err != nil {
			t.Fatal(err)
		}
		m.Layers = append(m.Layers, desc)
	}
	md := digest.FromString(t.Name())
	return f.extract(ctx, cs, "test", md, m, filepath.Join(f.cacheDir, md.Encoded()))
}

func TestExtract(t *testing.T) {
	data := randomDisk(t, 300<<10)
	big := tar.Header{Typeflag: tar.TypeReg, Name: "huge.img", Size: MaxImageFileSize + 1}
	var hugeLayer bytes.Buffer
	tw := tar.NewWriter(&hugeLayer)
	if err := tw.WriteHeader(&big); err != nil { // the data never follows
		t.Fatal(err)
	}

	for _, c := range []struct {
		name   string
		layers [][]byte
		base   string
		err    string
	}{
		{name: "zstd", layers: [][]byte{layerBlob(t, compression.Zstd, reg("./disk.raw", data))}, base: "disk.raw"},
		{name: "uncompressed", layers: [][]byte{layerBlob(t, compression.Uncompressed, reg("disk.raw", data))}, base: "disk.raw"},
		{name: "mixed", layers: [][]byte{
			layerBlob(t, compression.Gzip, reg("a/disk.raw", []byte("old"))),
			layerBlob(t, compression.Zstd, reg(".wh.a", nil), tarEntry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "b/"}}),
			layerBlob(t, compression.Uncompressed, reg("b/c/x.qcow2", data)),
		}, base: "x.qcow2"},
		{name: "file over directory", layers: [][]byte{
			layerBlob(t, compression.Gzip, reg("a/disk.raw", []byte("old")), reg("b/other", []byte("old"))),
			layerBlob(t, compression.Gzip, tarEntry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: "a", Linkname: "b"}}, reg("b", data)),
		}, base: "b"},
		{name: "hard link survives its source", layers: [][]byte{
			layerBlob(t, compression.Gzip, reg("a.img", data), tarEntry{hdr: tar.Header{Typeflag: tar.TypeLink, Name: "b.img", Linkname: "a.img"}}),
			layerBlob(t, compression.Gzip, reg(".wh.a.img", nil)),
		}, base: "b.img"},
		{name: "hard link counts", layers: [][]byte{
			layerBlob(t, compression.Gzip, reg("a.img", data), tarEntry{hdr: tar.Header{Typeflag: tar.TypeLink, Name: "b.img", Linkname: "a.img"}}),
		}, err: "holds 2 regular files"},
		{name: "hard link outside", layers: [][]byte{
			layerBlob(t, compression.Gzip, tarEntry{hdr: tar.Header{Typeflag: tar.TypeLink, Name: "b.img", Linkname: "../etc/passwd"}}),
		}, err: "leaves the image root"},
		{name: "hard link to nothing", layers: [][]byte{
			layerBlob(t, compression.Gzip, tarEntry{hdr: tar.Header{Typeflag: tar.TypeLink, Name: "b.img", Linkname: "a.img"}}),
		}, err: "not a regular file of the image"},
		{name: "dot dot inside", layers: [][]byte{layerBlob(t, compression.Gzip, reg("a/../../b", data))}, err: "leaves the image root"},
		{name: "whiteout of the root", layers: [][]byte{layerBlob(t, compression.Gzip, reg("x", data), reg("a/.wh..", nil))}, err: "invalid whiteout"},
		{name: "huge", layers: [][]byte{hugeLayer.Bytes()}, err: "more than the limit"},
		{name: "truncated", layers: [][]byte{layerBlob(t, compression.Gzip, reg("disk.raw", data))[:1000]}, err: "unexpected EOF"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cache := t.TempDir()
			f := NewImageFiles("", cache)
			p, err := extractLayers(t, f, c.layers...)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got %q, %v; want an error saying %q", p, err, c.err)
				}
				if entries, _ := os.ReadDir(cache); len(entries) > 1 {
					t.Errorf("cache holds %v after an error", entries)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				checkFile(t, cache, p, c.base, data)
			}
			if left, _ := os.ReadDir(filepath.Join(cache, stagingDir)); len(left) != 0 {
				t.Errorf("staging files left: %v", left)
			}
		})
	}
}

func TestDefaultPullPolicy(t *testing.T) {
	for ref, want := range map[string]corev1.PullPolicy{
		"busybox":              corev1.PullAlways,
		"busybox:latest":       corev1.PullAlways,
		"example.com/disk:1.2": corev1.PullIfNotPresent,
		"example.com/disk@sha256:0123456789012345678901234567890123456789012345678901234567890123":        corev1.PullIfNotPresent,
		"example.com/disk:latest@sha256:0123456789012345678901234567890123456789012345678901234567890123": corev1.PullAlways,
	} {
		named, err := reference.ParseNormalizedNamed(ref)
		if err != nil {
			t.Fatal(err)
		}
		if got := defaultPullPolicy(named); got != want {
			t.Errorf("%s: %s, want %s", ref, got, want)
		}
	}
}
