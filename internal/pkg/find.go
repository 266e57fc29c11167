package pkg

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/tend-sh/tend/internal/ident"
)

// Find returns the newest package installed under root that satisfies
// fuzzy, newest by ident.Compare. The error wraps ErrNotFound when nothing
// matches.
func Find(root string, fuzzy ident.Ident) (*Package, error) {
	if err := fuzzy.Validate(); err != nil {
		return nil, err
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("find %s: %w", fuzzy, err)
	}
	whole := fuzzy.Release != ""
	best := fuzzy
	if !whole {
		var found bool
		if best, found, err = newestInstalled(root, fuzzy); err != nil {
			return nil, fmt.Errorf("find %s: %w", fuzzy, err)
		}
		if !found {
			return nil, fmt.Errorf("%s: %w in %s", fuzzy, ErrNotFound, filepath.Join(root, "pkgs"))
		}
	}
	dir := InstallDir(root, best)
	p, err := Read(dir)
	if err != nil {
		// A whole ident is read without first looking for its directory
		// (one stat a package fewer: a restart finds each start-up
		// package this way). Only a failed read asks whether it was there.
		if whole {
			if _, found, ferr := newestInstalled(root, fuzzy); ferr == nil && !found {
				return nil, fmt.Errorf("%s: %w in %s", fuzzy, ErrNotFound, filepath.Join(root, "pkgs"))
			}
		}
		return nil, err
	}
	if p.Ident != best {
		return nil, malformed(filepath.Join(dir, "IDENT"), 0, "ident %s does not match the directory it is installed in", p.Ident)
	}
	return p, nil
}

// newestInstalled looks only at directory names (no package is read) to
// find the newest ident under root satisfying fuzzy.
func newestInstalled(root string, fuzzy ident.Ident) (best ident.Ident, found bool, err error) {
	nameDir := filepath.Join(root, "pkgs", fuzzy.Origin, fuzzy.Name)
	versions := []string{fuzzy.Version}
	if fuzzy.Version == "" {
		if versions, err = subdirs(nameDir); err != nil {
			return ident.Ident{}, false, err
		}
	}
	for _, v := range versions {
		releases := []string{fuzzy.Release}
		if fuzzy.Release == "" {
			if releases, err = subdirs(filepath.Join(nameDir, v)); err != nil {
				return ident.Ident{}, false, err
			}
		} else if fi, err := os.Stat(filepath.Join(nameDir, v, fuzzy.Release)); err != nil || !fi.IsDir() {
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return ident.Ident{}, false, err
			}
			continue
		}
		for _, r := range releases {
			id := ident.Ident{Origin: fuzzy.Origin, Name: fuzzy.Name, Version: v, Release: r}
			// Skip what Install is working on and names no ident can have.
			if strings.HasPrefix(r, tempPrefix) || id.Validate() != nil {
				continue
			}
			if !found || ident.Compare(id, best) > 0 {
				best, found = id, true
			}
		}
	}
	return best, found, nil
}

// subdirs lists the names of the directories in dir, sorted; none if dir
// does not exist or is no directory. sup run looks up every start-up
// package this way, so it lists through a bare descriptor, as Read does
// (fastdir.go), where the listing tells the entries' types.
func subdirs(dir string) ([]string, error) {
	if names, err := fastSubdirs(dir); err == nil {
		return names, nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// Resolve turns the PKG argument of `svc load` into a package. An argument
// with a '/' that names an existing directory holding an IDENT file is a
// package to install first; anything else is a (fuzzy) ident to find
// among the installed packages.
func Resolve(root, arg string) (*Package, error) {
	if strings.ContainsRune(arg, '/') || strings.ContainsRune(arg, filepath.Separator) {
		if fi, err := os.Stat(arg); err == nil && fi.IsDir() {
			if _, err := os.Stat(filepath.Join(arg, "IDENT")); err == nil {
				return Install(root, arg)
			}
			// A directory that is no ident either ("./mypkg"): the user
			// meant the directory, so report what is wrong with it.
			if _, perr := ident.Parse(arg); perr != nil {
				return Install(root, arg)
			}
		}
	}
	id, err := ident.Parse(arg)
	if err != nil {
		return nil, err
	}
	return Find(root, id)
}

// Qualify turns a bare package name ("redis"), as `svc stop` and `svc
// start` take, into the fuzzy ident origin/name of the one origin that has
// it installed under root. Several origins with that name are refused,
// naming them: picking one would be a guess. The error wraps ErrNotFound
// when none has it.
func Qualify(root, name string) (ident.Ident, error) {
	id := ident.Ident{Origin: "core", Name: name}
	if err := id.Validate(); err != nil {
		return ident.Ident{}, fmt.Errorf("package name %q: %w", name, err)
	}
	pkgs := filepath.Join(root, "pkgs")
	origins, err := subdirs(pkgs)
	if err != nil {
		return ident.Ident{}, fmt.Errorf("find %s: %w", name, err)
	}
	var found []ident.Ident
	for _, o := range origins {
		fuzzy := ident.Ident{Origin: o, Name: name}
		if fuzzy.Validate() != nil {
			continue
		}
		if _, ok, err := newestInstalled(root, fuzzy); err != nil {
			return ident.Ident{}, fmt.Errorf("find %s: %w", name, err)
		} else if ok {
			found = append(found, fuzzy)
		}
	}
	switch len(found) {
	case 0:
		return ident.Ident{}, fmt.Errorf("%s: %w in %s (under any origin)", name, ErrNotFound, pkgs)
	case 1:
		return found[0], nil
	}
	names := make([]string, len(found))
	for i, f := range found {
		names[i] = f.String()
	}
	return ident.Ident{}, fmt.Errorf("%s is installed from several origins (%s): name one", name, strings.Join(names, ", "))
}
