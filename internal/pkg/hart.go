package pkg

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tend-sh/tend/internal/hart"
	"github.com/tend-sh/tend/internal/safefs"
)

// ErrConflict is wrapped when an artifact's release is installed already
// with other contents.
var ErrConflict = errors.New("release already installed with other contents")

// KeysDir is where origin signing keys live under root (Habitat's key
// cache): ORIGIN-REVISION.pub and ORIGIN-REVISION.sig.key.
func KeysDir(root string) string { return filepath.Join(root, "cache", "keys") }

// HartInstall is what InstallHart did.
type HartInstall struct {
	Package *Package
	Signer  hart.KeyName
	Already bool // the same release was installed already, with the same contents
}

// InstallHart installs the Habitat artifact at path into
// ROOT/pkgs/ORIGIN/NAME/VERSION/RELEASE.
//
// Nothing is written until the artifact has been verified whole: its
// header, its signer's public key in KeysDir(root), its signature, the
// BLAKE2b digest of its payload, and every entry of the payload (inside the
// package directory, no link leading out of it, one package, signed by a
// key of the package's own origin). The package is then unpacked into a
// temporary directory beside its destination, read back as Install reads
// a package, and renamed into place.
//
// A release is never replaced: installing one that is installed already
// with the same contents does nothing (Already is set), and with other
// contents is refused (ErrConflict). Any refusal leaves ROOT/pkgs as it was.
func InstallHart(root, path string) (*HartInstall, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	a, err := hart.Open(path, hart.KeyCache(KeysDir(root)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer a.Close()
	var plan *hart.Plan
	if err := a.ReadPayload(func(r io.Reader) error {
		plan, err = hart.Scan(r)
		return err
	}); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	id, signer := plan.Ident, a.Header.Signer
	if id.Origin != signer.Origin {
		return nil, fmt.Errorf("%s: %w: package %s is signed with key %s, of another origin", path, hart.ErrInvalid, id, signer)
	}

	dest := InstallDir(root, id)
	parent := filepath.Dir(dest)
	created, err := mkdirAllNew(parent)
	installed := false
	defer func() {
		if !installed {
			// Leave no empty ORIGIN/NAME/VERSION behind a refusal.
			for i := len(created) - 1; i >= 0; i-- {
				_ = os.Remove(created[i])
			}
		}
	}()
	if err != nil {
		return nil, fmt.Errorf("install %s: %w", id, err)
	}
	tmp, err := os.MkdirTemp(parent, tempPrefix+"new-"+id.Release+"-")
	if err != nil {
		return nil, fmt.Errorf("install %s: %w", id, err)
	}
	defer removeAll(tmp) // gone once renamed into place
	// The archive may not list the package directory itself.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("install %s: %w", id, err)
	}
	if err := a.ReadPayload(func(r io.Reader) error { return hart.Extract(r, tmp, plan) }); err != nil {
		return nil, fmt.Errorf("%s: install %s: %w", path, id, err)
	}
	p, err := Read(tmp)
	if err != nil {
		// Name files by their place in the package, not the temporary
		// directory that is about to go.
		return nil, fmt.Errorf("%s: package %s is not sound: %w", path, id, relTo{err, tmp + string(filepath.Separator)})
	}

	res := &HartInstall{Package: p, Signer: signer}
	switch err := os.Rename(tmp, dest); {
	case err == nil:
		installed = true
		if err := safefs.SyncDir(parent); err != nil {
			return nil, fmt.Errorf("install %s: %w", id, err)
		}
	case isDirNotEmpty(err):
		same, err := sameTree(tmp, dest)
		if err != nil {
			return nil, fmt.Errorf("install %s: comparing with the installed copy: %w", id, err)
		}
		if !same {
			return nil, fmt.Errorf("%s: %w: %s is installed at %s with other contents; build a new release", path, ErrConflict, id, dest)
		}
		installed = true // nothing to undo: it was there before
		res.Already = true
	default:
		return nil, fmt.Errorf("install %s: %w", id, err)
	}
	p.Path = dest
	return res, nil
}

// mkdirAllNew is os.MkdirAll that returns the directories it made,
// outermost first, so that a failed install can remove them.
func mkdirAllNew(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	var created []string
	for i := len(missing) - 1; i >= 0; i-- {
		err := os.Mkdir(missing[i], 0o755)
		if errors.Is(err, fs.ErrExist) {
			continue // another installer made it
		}
		if err != nil {
			return created, err
		}
		created = append(created, missing[i])
	}
	if fi, err := os.Stat(dir); err != nil {
		return created, err
	} else if !fi.IsDir() {
		return created, fmt.Errorf("%s is not a directory", dir)
	}
	return created, nil
}

// relTo is an error whose message drops a directory prefix.
type relTo struct {
	err error
	dir string
}

func (e relTo) Error() string { return strings.ReplaceAll(e.err.Error(), e.dir, "") }
func (e relTo) Unwrap() error { return e.err }
