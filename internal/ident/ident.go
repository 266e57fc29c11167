// Package ident parses, prints and orders package identifiers:
// origin/name/version/release, where a fuzzy ident leaves off the tail
// (origin/name or origin/name/version), as in Habitat.
package ident

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalid is wrapped by every error Parse and Validate return, so callers
// can tell a malformed ident (the user's mistake) from other failures.
var ErrInvalid = errors.New("invalid ident")

// Ident names a package. Version and Release are empty in a fuzzy ident;
// Release is never set without Version.
type Ident struct {
	Origin, Name, Version, Release string
}

// Parse reads "origin/name", "origin/name/version" or
// "origin/name/version/release". Every part must be non-empty. Origin and
// name hold only A-Z, a-z, 0-9, '_' and '-' (Habitat's rule for names).
// Version and release may hold anything but '/', whitespace and control
// characters, and may not be "." or "..", because they become directory
// names under ROOT/pkgs.
func Parse(s string) (Ident, error) {
	parts := strings.Split(s, "/")
	var id Ident
	switch len(parts) {
	case 2:
		id = Ident{Origin: parts[0], Name: parts[1]}
	case 3:
		id = Ident{Origin: parts[0], Name: parts[1], Version: parts[2]}
	case 4:
		id = Ident{Origin: parts[0], Name: parts[1], Version: parts[2], Release: parts[3]}
	default:
		return Ident{}, fmt.Errorf("%w %q: want origin/name[/version[/release]], got %d parts", ErrInvalid, s, len(parts))
	}
	// An empty version or release can only come from a trailing or doubled
	// slash here; report it as such rather than letting Validate treat the
	// ident as fuzzy.
	for i, p := range parts {
		if p == "" {
			return Ident{}, fmt.Errorf("%w %q: %s is empty", ErrInvalid, s, partNames[i])
		}
	}
	if err := id.check(); err != nil {
		return Ident{}, fmt.Errorf("%w %q: %s", ErrInvalid, s, err)
	}
	return id, nil
}

// MustParse is Parse for idents known to be valid (tests, constant tables);
// it panics on error.
func MustParse(s string) Ident {
	id, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return id
}

// partNames names the parts of an ident in order, for error messages.
var partNames = [4]string{"origin", "name", "version", "release"}

// Validate reports whether i is an ident Parse could have returned.
func (i Ident) Validate() error {
	if err := i.check(); err != nil {
		return fmt.Errorf("%w %q: %s", ErrInvalid, i.String(), err)
	}
	return nil
}

// check validates every part; the error names the offending part and is
// wrapped by the caller with the whole ident.
func (i Ident) check() error {
	if err := checkName(partNames[0], i.Origin); err != nil {
		return err
	}
	if err := checkName(partNames[1], i.Name); err != nil {
		return err
	}
	if i.Version == "" {
		if i.Release != "" {
			return errors.New("release given without a version")
		}
		return nil
	}
	if err := checkTail(partNames[2], i.Version); err != nil {
		return err
	}
	if i.Release == "" {
		return nil
	}
	return checkTail(partNames[3], i.Release)
}

func checkName(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s is empty", what)
	}
	for _, c := range []byte(s) {
		if !isNameByte(c) {
			return fmt.Errorf("%s %q may only hold A-Z, a-z, 0-9, '_' and '-'", what, s)
		}
	}
	return nil
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

func checkTail(what, s string) error {
	if s == "." || s == ".." {
		// These would escape ROOT/pkgs/ORIGIN/NAME when used as a path.
		return fmt.Errorf("%s may not be %q", what, s)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s %q is not valid UTF-8", what, s)
	}
	for _, r := range s {
		switch {
		case r == '/':
			return fmt.Errorf("%s %q contains '/'", what, s)
		case unicode.IsSpace(r):
			return fmt.Errorf("%s %q contains whitespace", what, s)
		case unicode.IsControl(r):
			return fmt.Errorf("%s %q contains a control character", what, s)
		}
	}
	return nil
}

// String prints the ident the way Parse reads it.
func (i Ident) String() string {
	switch {
	case i.Version == "":
		return i.Origin + "/" + i.Name
	case i.Release == "":
		return i.Origin + "/" + i.Name + "/" + i.Version
	default:
		return i.Origin + "/" + i.Name + "/" + i.Version + "/" + i.Release
	}
}

// FullyQualified reports whether i names exactly one build of a package.
func (i Ident) FullyQualified() bool {
	return i.Version != "" && i.Release != ""
}

// Satisfies reports whether i matches every part that fuzzy gives: the same
// origin and name, and the same version and release where fuzzy has them.
func (i Ident) Satisfies(fuzzy Ident) bool {
	if i.Origin != fuzzy.Origin || i.Name != fuzzy.Name {
		return false
	}
	if fuzzy.Version != "" && i.Version != fuzzy.Version {
		return false
	}
	return fuzzy.Release == "" || i.Release == fuzzy.Release
}
