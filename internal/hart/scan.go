package hart

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/tend-sh/tend/internal/ident"
	"github.com/ulikunitz/xz"
)

// ErrUnsafe is wrapped when a payload holds something that must not be
// unpacked: a path outside the package directory, a link leading out of
// it, a device, more than one package.
var ErrUnsafe = errors.New("unsafe payload")

// maxLinkHops bounds how many symlinks one path may pass through, as
// Linux's own limit does (40).
const maxLinkHops = 40

// Entry is one member of a package payload.
type Entry struct {
	Path     string      // slash-separated, relative to the package directory; "" is the directory itself
	Type     byte        // tar.TypeDir, tar.TypeReg, tar.TypeSymlink or tar.TypeLink
	Mode     fs.FileMode // permission bits only: set-id and sticky bits are dropped
	Size     int64
	Linkname string // a symlink's target as written; a hard link's target as a package path

	name string // the tar header's name, to match the second pass to the first
}

// Plan is a payload read through and found safe to unpack: one package,
// every entry inside its directory.
type Plan struct {
	Ident   ident.Ident
	Entries []Entry
}

// Scan reads a payload (an xz-compressed tar whose entries are
// hab/pkgs/ORIGIN/NAME/VERSION/RELEASE/..., an optional leading / or ./
// allowed) without writing anything, and returns what unpacking it would
// make, or why it must not be unpacked.
func Scan(r io.Reader) (*Plan, error) {
	tr, err := newTarReader(r)
	if err != nil {
		return nil, err
	}
	p := &Plan{}
	byPath := map[string]int{}   // package path -> index in p.Entries
	parents := map[string]bool{} // package paths that entries lie below
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: the payload is not a valid tar: %w", ErrInvalid, err)
		}
		e, id, keep, err := classify(hdr)
		if err != nil {
			return nil, err
		}
		if !keep {
			continue
		}
		if p.Ident == (ident.Ident{}) {
			p.Ident = id
		} else if id != p.Ident {
			return nil, fmt.Errorf("%w: the payload holds more than one package (%s and %s)", ErrUnsafe, p.Ident, id)
		}
		if err := p.checkNew(e, byPath, parents); err != nil {
			return nil, err
		}
		for dir := e.Path; dir != ""; {
			dir = parentOf(dir)
			parents[dir] = true
		}
		if e.Path == "IDENT" && e.Type == tar.TypeReg {
			if err := checkIdentFile(tr, e, id); err != nil {
				return nil, err
			}
		}
		byPath[e.Path] = len(p.Entries)
		p.Entries = append(p.Entries, e)
	}
	if len(p.Entries) == 0 {
		return nil, fmt.Errorf("%w: the payload holds no package (nothing under hab/pkgs/ORIGIN/NAME/VERSION/RELEASE/)", ErrInvalid)
	}
	if i, ok := byPath["IDENT"]; !ok || p.Entries[i].Type != tar.TypeReg {
		return nil, fmt.Errorf("%w: package %s has no IDENT file", ErrInvalid, p.Ident)
	}
	for _, e := range p.Entries {
		if e.Type != tar.TypeSymlink {
			continue
		}
		if err := p.checkSymlink(e, byPath); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func newTarReader(r io.Reader) (*tar.Reader, error) {
	xr, err := xz.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: the payload is not xz-compressed: %w", ErrInvalid, err)
	}
	return tar.NewReader(xr), nil
}

// classify maps a tar header to an entry of the package it belongs to.
// keep is false for entries to pass over: the directories above the
// package's (hab/, hab/pkgs/, ...) and pax global headers.
func classify(hdr *tar.Header) (e Entry, id ident.Ident, keep bool, err error) {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return Entry{}, ident.Ident{}, false, nil
	}
	parts, err := splitName(hdr.Name)
	if err != nil {
		return Entry{}, ident.Ident{}, false, err
	}
	if len(parts) < 6 {
		if hdr.Typeflag == tar.TypeDir && parts[0] == "hab" && (len(parts) == 1 || parts[1] == "pkgs") {
			return Entry{}, ident.Ident{}, false, nil
		}
		return Entry{}, ident.Ident{}, false, fmt.Errorf("%w: entry %q is not under hab/pkgs/ORIGIN/NAME/VERSION/RELEASE/", ErrUnsafe, clip(hdr.Name))
	}
	if parts[0] != "hab" || parts[1] != "pkgs" {
		return Entry{}, ident.Ident{}, false, fmt.Errorf("%w: entry %q is not under hab/pkgs/ORIGIN/NAME/VERSION/RELEASE/", ErrUnsafe, clip(hdr.Name))
	}
	id = ident.Ident{Origin: parts[2], Name: parts[3], Version: parts[4], Release: parts[5]}
	if err := id.Validate(); err != nil {
		return Entry{}, ident.Ident{}, false, fmt.Errorf("%w: entry %q: %w", ErrUnsafe, clip(hdr.Name), err)
	}
	e = Entry{
		Path: strings.Join(parts[6:], "/"),
		Type: hdr.Typeflag,
		Mode: fs.FileMode(hdr.Mode) & fs.ModePerm,
		name: hdr.Name,
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
	case tar.TypeReg:
		e.Size = hdr.Size
	case tar.TypeSymlink:
		e.Linkname = hdr.Linkname
	case tar.TypeLink:
		lp, err := splitName(hdr.Linkname)
		if err != nil || len(lp) < 7 || !hasPrefix(lp, parts[:6]) {
			return Entry{}, ident.Ident{}, false, fmt.Errorf("%w: entry %q is a hard link to %q, outside the package", ErrUnsafe, clip(hdr.Name), clip(hdr.Linkname))
		}
		e.Linkname = strings.Join(lp[6:], "/")
	default:
		return Entry{}, ident.Ident{}, false, fmt.Errorf("%w: entry %q is a %s; a package holds only files, directories and links", ErrUnsafe, clip(hdr.Name), typeName(hdr.Typeflag))
	}
	if e.Path == "" && e.Type != tar.TypeDir {
		return Entry{}, ident.Ident{}, false, fmt.Errorf("%w: entry %q: the package directory itself must be a directory", ErrUnsafe, clip(hdr.Name))
	}
	return e, id, true, nil
}

// splitName splits a tar name into its components, refusing any that is
// empty, "." or "..": such a name could reach outside where it is put.
func splitName(name string) ([]string, error) {
	s := strings.TrimPrefix(name, "./")
	s = strings.TrimPrefix(s, "/")
	s = strings.TrimSuffix(s, "/")
	parts := strings.Split(s, "/")
	for _, c := range parts {
		switch c {
		case "..":
			return nil, fmt.Errorf("%w: entry %q escapes the package directory (it holds \"..\")", ErrUnsafe, clip(name))
		case "", ".":
			return nil, fmt.Errorf("%w: entry %q is not a plain path", ErrUnsafe, clip(name))
		}
		if strings.ContainsRune(c, 0) {
			return nil, fmt.Errorf("%w: entry %q holds a NUL byte", ErrUnsafe, clip(name))
		}
	}
	return parts, nil
}

func hasPrefix(parts, prefix []string) bool {
	if len(parts) < len(prefix) {
		return false
	}
	for i := range prefix {
		if parts[i] != prefix[i] {
			return false
		}
	}
	return true
}

// checkNew refuses an entry that repeats a path (unpacking would have to
// replace one with the other) or that lies below something that is not a
// directory (unpacking would write through a link).
func (p *Plan) checkNew(e Entry, byPath map[string]int, parents map[string]bool) error {
	if _, ok := byPath[e.Path]; ok {
		return fmt.Errorf("%w: %q appears twice", ErrUnsafe, clip(e.name))
	}
	if e.Type != tar.TypeDir && parents[e.Path] {
		return fmt.Errorf("%w: entry %q is not a directory, but earlier entries lie below it", ErrUnsafe, clip(e.name))
	}
	for dir := e.Path; dir != ""; {
		dir = parentOf(dir)
		if i, ok := byPath[dir]; ok && p.Entries[i].Type != tar.TypeDir {
			return fmt.Errorf("%w: entry %q lies below %q, which is not a directory", ErrUnsafe, clip(e.name), clip(p.Entries[i].name))
		}
	}
	if e.Type == tar.TypeLink {
		i, ok := byPath[e.Linkname]
		if !ok || p.Entries[i].Type != tar.TypeReg {
			return fmt.Errorf("%w: entry %q is a hard link to %q, which is not a file earlier in the package", ErrUnsafe, clip(e.name), clip(e.Linkname))
		}
	}
	return nil
}

func parentOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

// checkSymlink refuses a symlink that, followed from inside the package
// directory, leads out of it at any step: an absolute target, too many
// "..", or a chain of links that does. Followed as the kernel would,
// through the other links of the package, since a link to a link that
// points to "." would otherwise let "../" climb out unnoticed.
func (p *Plan) checkSymlink(e Entry, byPath map[string]int) error {
	hops := 0
	if _, err := p.resolve(splitPath(parentOf(e.Path)), e.Linkname, byPath, &hops); err != nil {
		return fmt.Errorf("%w: symlink %q -> %q %s", ErrUnsafe, clip(e.name), clip(e.Linkname), err)
	}
	return nil
}

var (
	errEscapes = errors.New("leads outside the package directory")
	errLoop    = errors.New("is part of a loop of links")
)

// resolve follows target from the directory dir (package path components)
// and returns where it ends.
func (p *Plan) resolve(dir []string, target string, byPath map[string]int, hops *int) ([]string, error) {
	if target == "" || path.IsAbs(target) {
		return nil, errEscapes
	}
	cur := append([]string(nil), dir...)
	for _, c := range strings.Split(target, "/") {
		switch c {
		case "", ".":
			continue
		case "..":
			if len(cur) == 0 {
				return nil, errEscapes
			}
			cur = cur[:len(cur)-1]
			continue
		}
		cur = append(cur, c)
		i, ok := byPath[strings.Join(cur, "/")]
		if !ok || p.Entries[i].Type != tar.TypeSymlink {
			continue
		}
		if *hops++; *hops > maxLinkHops {
			return nil, errLoop
		}
		next, err := p.resolve(cur[:len(cur)-1], p.Entries[i].Linkname, byPath, hops)
		if err != nil {
			return nil, err
		}
		cur = next
	}
	return cur, nil
}

func splitPath(p string) []string {
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// checkIdentFile reads the IDENT entry and refuses a package whose IDENT
// names another package than its path does.
func checkIdentFile(tr *tar.Reader, e Entry, id ident.Ident) error {
	const max = 1024
	if e.Size > max {
		return fmt.Errorf("%w: %s/IDENT is %d bytes; an ident is short", ErrInvalid, id, e.Size)
	}
	b, err := io.ReadAll(tr)
	if err != nil {
		return fmt.Errorf("%w: the payload is not a valid tar: %w", ErrInvalid, err)
	}
	got, err := ident.Parse(strings.TrimSpace(string(b)))
	if err != nil || got != id {
		return fmt.Errorf("%w: IDENT says %q but the package is at hab/pkgs/%s", ErrInvalid, clip(strings.TrimSpace(string(b))), id)
	}
	return nil
}

func typeName(t byte) string {
	switch t {
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	case tar.TypeFifo:
		return "named pipe"
	}
	return fmt.Sprintf("tar entry of type %q", t)
}
