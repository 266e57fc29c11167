// Package update is what tend's update strategies decide, apart from the
// supervisor: which packages a package source (sup run --update-source)
// offers, which one a service should move to, and when a member of a
// rolling update may take its turn. The manager runs it.
package update

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/tend-sh/tend/internal/ident"
	"github.com/tend-sh/tend/internal/pkg"
)

// Candidate is one package a source offers.
type Candidate struct {
	Ident ident.Ident
	Path  string // the package directory, or the .tar.gz holding it
}

// Archive reports whether the candidate is a .tar.gz to unpack.
func (c Candidate) Archive() bool { return strings.HasSuffix(c.Path, ".tar.gz") }

// maxIdent bounds the IDENT file read from a source entry.
const maxIdent = 4 << 10

// Scan lists the packages in dir: each directory holding an IDENT file,
// and each NAME.tar.gz whose IDENT is at its top or in its one top
// directory. Entries that are neither, or whose IDENT is not a fully
// qualified ident, are returned in skipped with the reason (a source is
// written by other tools, and one bad entry must not hide the others).
func Scan(dir string) (found []Candidate, skipped []error, err error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("update source: %w", err)
	}
	for _, de := range ents {
		name := de.Name()
		if strings.HasPrefix(name, ".") {
			continue // a copy in progress, by convention
		}
		p := filepath.Join(dir, name)
		var id ident.Ident
		var err error
		switch {
		case strings.HasSuffix(name, ".tar.gz") && de.Type().IsRegular():
			id, err = archiveIdent(p)
		case de.IsDir():
			var b []byte
			if b, err = readCapped(filepath.Join(p, "IDENT")); err == nil {
				id, err = parseIdent(b)
			}
		default:
			continue
		}
		if err != nil {
			skipped = append(skipped, fmt.Errorf("%s: %w", p, err))
			continue
		}
		found = append(found, Candidate{Ident: id, Path: p})
	}
	return found, skipped, nil
}

func readCapped(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxIdent))
}

// parseIdent reads IDENT's one line: a fully qualified ident.
func parseIdent(b []byte) (ident.Ident, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, err := ident.Parse(line)
		if err != nil {
			return ident.Ident{}, fmt.Errorf("IDENT: %w", err)
		}
		if !id.FullyQualified() {
			return ident.Ident{}, fmt.Errorf("IDENT: %s is not fully qualified (origin/name/version/release)", id)
		}
		return id, nil
	}
	return ident.Ident{}, errors.New("IDENT: empty")
}

// archiveIdent finds the package's IDENT in a .tar.gz without unpacking it.
func archiveIdent(p string) (ident.Ident, error) {
	var id ident.Ident
	found := false
	err := walkArchive(p, func(h *tar.Header, rel string, r io.Reader) error {
		if found || rel != "IDENT" || h.Typeflag != tar.TypeReg {
			return nil
		}
		b, err := io.ReadAll(io.LimitReader(r, maxIdent))
		if err != nil {
			return err
		}
		id, err = parseIdent(b)
		found = err == nil
		return err
	})
	if err == nil && !found {
		err = errors.New("no IDENT at the top of the archive or of its one top directory")
	}
	return id, err
}

// walkArchive calls fn for each entry of the .tar.gz at p with its path
// relative to the package: the archive's top, or its one top directory
// when every entry is under one ("app-2/IDENT"). Paths that are absolute
// or climb out ("..") are refused.
func walkArchive(p string, fn func(h *tar.Header, rel string, r io.Reader) error) error {
	top, err := archiveTop(p)
	if err != nil {
		return err
	}
	return eachEntry(p, func(h *tar.Header, name string, r io.Reader) error {
		rel := name
		if top != "" {
			rel = strings.TrimPrefix(strings.TrimPrefix(name, top), "/")
		}
		if rel == "" {
			return nil
		}
		return fn(h, rel, r)
	})
}

// archiveTop is the one directory every entry is under, "" when the
// package is at the archive's top (it has an IDENT there, or several top
// names).
func archiveTop(p string) (string, error) {
	tops := map[string]bool{}
	err := eachEntry(p, func(_ *tar.Header, name string, _ io.Reader) error {
		first, _, _ := strings.Cut(name, "/")
		tops[first] = true
		return nil
	})
	if err != nil || len(tops) != 1 || tops["IDENT"] {
		return "", err
	}
	for t := range tops {
		return t, nil
	}
	return "", nil
}

// eachEntry walks the archive with cleaned entry names.
func eachEntry(p string, fn func(h *tar.Header, name string, r io.Reader) error) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if name == "." {
			continue
		}
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("entry %q leads out of the archive", h.Name)
		}
		if err := fn(h, name, tr); err != nil {
			return err
		}
	}
}

// Newest is the newest candidate satisfying fuzzy, by Habitat's version
// order (ident.Compare).
func Newest(cands []Candidate, fuzzy ident.Ident) (Candidate, bool) {
	var best Candidate
	ok := false
	for _, c := range cands {
		if c.Ident.Satisfies(fuzzy) && (!ok || ident.Compare(c.Ident, best.Ident) > 0) {
			best, ok = c, true
		}
	}
	return best, ok
}

// Install installs the candidate under root: a directory as `tend pkg
// install` does, an archive unpacked first into a temporary directory
// under root. The installed package is checked against the ident the
// source announced.
func Install(root string, c Candidate) (*pkg.Package, error) {
	src := c.Path
	if c.Archive() {
		tmpParent := filepath.Join(root, "cache", "update")
		if err := os.MkdirAll(tmpParent, 0o755); err != nil {
			return nil, err
		}
		tmp, err := os.MkdirTemp(tmpParent, "unpack-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		if err := unpack(c.Path, tmp); err != nil {
			return nil, fmt.Errorf("%s: %w", c.Path, err)
		}
		src = tmp
	}
	p, err := pkg.Install(root, src)
	if err != nil {
		return nil, err
	}
	if p.Ident != c.Ident {
		return nil, fmt.Errorf("%s: installed %s, the source said %s", c.Path, p.Ident, c.Ident)
	}
	return p, nil
}

// maxUnpack bounds what one archive may unpack to.
const maxUnpack = 1 << 30

// unpack writes the package in the archive at p into dir: directories,
// regular files (their mode's permission bits) and symlinks; anything else
// is refused, as is a symlink leading out of the package.
func unpack(p, dir string) error {
	var total int64
	return walkArchive(p, func(h *tar.Header, rel string, r io.Reader) error {
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		switch h.Typeflag {
		case tar.TypeDir:
			return os.MkdirAll(dst, 0o755)
		case tar.TypeReg:
			total += h.Size
			if total > maxUnpack {
				return fmt.Errorf("unpacks to more than %d bytes", maxUnpack)
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, os.FileMode(h.Mode)&0o777)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, io.LimitReader(r, h.Size))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			return err
		case tar.TypeSymlink:
			target := path.Clean(path.Join(path.Dir(rel), h.Linkname))
			if path.IsAbs(h.Linkname) || target == ".." || strings.HasPrefix(target, "../") {
				return fmt.Errorf("symlink %s leads out of the package", rel)
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			return os.Symlink(h.Linkname, dst)
		}
		return fmt.Errorf("entry %s: unsupported type %q", rel, h.Typeflag)
	})
}
