package pkg

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tend-sh/tend/internal/ident"
)

// Name tells which package arg (a directory or a fuzzy ident, as Resolve
// takes) names, reading no more than its IDENT file or, for an ident, the
// names of the installed directories. It is the cheap check of a long
// list before anything is loaded: whether each package is there at all,
// and under which service name it will run. The error wraps ErrNotFound
// when nothing is there.
func Name(root, arg string) (ident.Ident, error) {
	if filepath.IsAbs(arg) {
		file := filepath.Join(arg, "IDENT")
		data, err := os.ReadFile(file)
		if errors.Is(err, fs.ErrNotExist) {
			if _, serr := os.Stat(arg); serr != nil {
				return ident.Ident{}, fmt.Errorf("package directory %s: %w", arg, ErrNotFound)
			}
			return ident.Ident{}, malformed(file, 0, "missing: a package needs an IDENT file holding origin/name/version/release")
		}
		if err != nil {
			return ident.Ident{}, ioError(file, err)
		}
		return parseIdentFile(file, data)
	}
	fuzzy, err := ident.Parse(arg)
	if err != nil {
		return ident.Ident{}, err
	}
	if err := fuzzy.Validate(); err != nil {
		return ident.Ident{}, err
	}
	root, err = filepath.Abs(root)
	if err != nil {
		return ident.Ident{}, fmt.Errorf("find %s: %w", fuzzy, err)
	}
	best, found, err := newestInstalled(root, fuzzy)
	if err != nil {
		return ident.Ident{}, fmt.Errorf("find %s: %w", fuzzy, err)
	}
	if !found {
		return ident.Ident{}, fmt.Errorf("%s: %w in %s", fuzzy, ErrNotFound, filepath.Join(root, "pkgs"))
	}
	return best, nil
}
