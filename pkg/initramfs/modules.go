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

package initramfs

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// ModulesDir is where the initramfs carries kernel modules, and LoadOrder
// the file that lists them, one path relative to ModulesDir per line, each
// after the modules it depends on. Modules are stored uncompressed (.ko):
// finit_module only decompresses when the kernel was built to.
const (
	ModulesDir = "lib/modules"
	LoadOrder  = ModulesDir + "/load.order"
)

// ResolveModules resolves module names (as modprobe takes them: dashes and
// underscores alike, or aliases) through the files depmod writes in dir,
// the modules directory of one kernel. It returns the modules to load, each
// after its dependencies and the soft dependencies it asks to follow, as
// paths relative to dir; modules built into the kernel are left out, and
// names the kernel knows neither way are returned in missing.
func ResolveModules(dir string, names []string) (order, missing []string, err error) {
	deps, err := readModulesDep(filepath.Join(dir, "modules.dep"))
	if err != nil {
		return nil, nil, err
	}
	byName := make(map[string]string, len(deps))
	for p := range deps {
		byName[ModuleName(p)] = p
	}
	builtin, err := readModulesBuiltin(filepath.Join(dir, "modules.builtin"))
	if err != nil {
		return nil, nil, err
	}
	aliases, err := readModulesAlias(filepath.Join(dir, "modules.alias"))
	if err != nil {
		return nil, nil, err
	}
	softdeps, err := readModulesSoftdep(filepath.Join(dir, "modules.softdep"))
	if err != nil {
		return nil, nil, err
	}

	// resolve returns the paths of a module name or alias, and whether
	// the kernel knows it.
	resolve := func(n string) ([]string, bool) {
		n = strings.ReplaceAll(n, "-", "_")
		if p, ok := byName[n]; ok {
			return []string{p}, true
		}
		var paths []string
		for _, m := range aliases[n] {
			if p, ok := byName[m]; ok {
				paths = append(paths, p)
			}
		}
		return paths, len(paths) > 0 || builtin[n]
	}
	seen := map[string]bool{}
	var visit func(p string)
	visitAll := func(names []string) {
		for _, n := range names {
			paths, _ := resolve(n)
			for _, p := range paths {
				visit(p)
			}
		}
	}
	visit = func(p string) {
		if seen[p] {
			return
		}
		seen[p] = true
		sd := softdeps[ModuleName(p)]
		visitAll(sd.pre)
		for _, d := range deps[p] {
			visit(d)
		}
		order = append(order, p)
		visitAll(sd.post)
	}
	for _, n := range names {
		paths, ok := resolve(n)
		if !ok {
			missing = append(missing, n)
		}
		for _, p := range paths {
			visit(p)
		}
	}
	return order, missing, nil
}

// readModulesDep returns, for each module path, the paths of the modules it
// needs (all of them, not only the direct ones: depmod lists the closure).
func readModulesDep(file string) (map[string][]string, error) {
	deps := map[string][]string{}
	err := readLines(file, func(l string) {
		if mod, rest, ok := strings.Cut(l, ":"); ok {
			deps[mod] = strings.Fields(rest)
		}
	})
	return deps, err
}

// readModulesAlias returns the modules of each plain alias, such as crc32c
// for crc32c_generic and crc32c_intel; the wildcard aliases that match
// devices are not needed to resolve names. A missing file means none.
func readModulesAlias(file string) (map[string][]string, error) {
	aliases := map[string][]string{}
	err := readLines(file, func(l string) {
		f := strings.Fields(l)
		if len(f) == 3 && f[0] == "alias" && !strings.ContainsAny(f[1], "*?[") {
			a := strings.ReplaceAll(f[1], "-", "_")
			aliases[a] = append(aliases[a], strings.ReplaceAll(f[2], "-", "_"))
		}
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return aliases, err
}

// softdep is what a module loads before (pre) and after (post) itself
// besides its dependencies, such as the crc32c implementation libcrc32c
// asks the crypto API for.
type softdep struct{ pre, post []string }

// readModulesSoftdep reads lines "softdep <module> pre: <names> post:
// <names>". A missing file means none.
func readModulesSoftdep(file string) (map[string]softdep, error) {
	softdeps := map[string]softdep{}
	err := readLines(file, func(l string) {
		f := strings.Fields(l)
		if len(f) < 3 || f[0] != "softdep" {
			return
		}
		name := strings.ReplaceAll(f[1], "-", "_")
		sd := softdeps[name]
		list := &sd.pre
		for _, w := range f[2:] {
			switch w {
			case "pre:":
				list = &sd.pre
			case "post:":
				list = &sd.post
			default:
				*list = append(*list, w)
			}
		}
		softdeps[name] = sd
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return softdeps, err
}

func readLines(file string, fn func(string)) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("kernel modules: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		fn(sc.Text())
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("kernel modules: reading %s: %w", file, err)
	}
	return nil
}

// readModulesBuiltin returns the names of the modules built into the
// kernel. A missing file means none.
func readModulesBuiltin(file string) (map[string]bool, error) {
	builtin := map[string]bool{}
	err := readLines(file, func(l string) {
		if l = strings.TrimSpace(l); l != "" {
			builtin[ModuleName(l)] = true
		}
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return builtin, err
}

// ModuleName is the name of the module at path p, such as virtio_net for
// kernel/drivers/net/virtio_net.ko.xz.
func ModuleName(p string) string {
	base := path.Base(p)
	if i := strings.Index(base, ".ko"); i >= 0 {
		base = base[:i]
	}
	return strings.ReplaceAll(base, "-", "_")
}

// AddModules adds the modules at paths relative to dir, in the order given
// (that of ResolveModules), decompressed, under ModulesDir, and lists them
// in LoadOrder.
func (a *Archive) AddModules(dir string, order []string) error {
	var list bytes.Buffer
	for _, p := range order {
		data, err := readModule(filepath.Join(dir, p))
		if err != nil {
			return err
		}
		ko := p
		if ext := path.Ext(p); ext != ".ko" {
			ko = strings.TrimSuffix(p, ext)
		}
		a.File(path.Join(ModulesDir, ko), 0o644, data)
		list.WriteString(ko + "\n")
	}
	a.File(LoadOrder, 0o644, list.Bytes())
	return nil
}

// readModule returns a module file's contents, decompressed according to
// its name: .ko, .ko.xz, .ko.zst or .ko.gz.
func readModule(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("kernel module: %w", err)
	}
	defer f.Close()
	var r io.Reader
	switch ext := filepath.Ext(file); ext {
	case ".ko":
		r = f
	case ".xz":
		if r, err = xz.NewReader(f); err != nil {
			return nil, fmt.Errorf("kernel module %s: %w", file, err)
		}
	case ".zst":
		d, err := zstd.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("kernel module %s: %w", file, err)
		}
		defer d.Close()
		r = d
	case ".gz":
		if r, err = gzip.NewReader(f); err != nil {
			return nil, fmt.Errorf("kernel module %s: %w", file, err)
		}
	default:
		return nil, fmt.Errorf("kernel module %s: unknown compression %q", file, ext)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("kernel module %s: %w", file, err)
	}
	return data, nil
}
