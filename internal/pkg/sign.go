package pkg

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tend-sh/tend/internal/hart"
	"github.com/tend-sh/tend/internal/ident"
)

// Signed is what Sign made.
type Signed struct {
	Ident  ident.Ident
	Signer hart.KeyName
}

// Sign writes dest, a Habitat artifact of src signed with the newest secret
// key of origin in KeysDir(root). src is a package directory (packed as
// `hab pkg build` would) or a payload file (an xz tar, signed as it is,
// like `hab pkg sign`). origin may be empty: the package's own. The
// payload must be one InstallHart would unpack, and origin must be the
// package's: an artifact that cannot be installed is refused here rather
// than there. dest appears whole or not at all.
func Sign(root, src, dest, origin string) (*Signed, error) {
	fi, err := os.Stat(src)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(dest)
	var payload *os.File
	if fi.IsDir() {
		p, err := Read(src)
		if err != nil {
			return nil, err
		}
		if payload, err = os.CreateTemp(dir, "."+filepath.Base(dest)+".payload-*"); err != nil {
			return nil, err
		}
		defer os.Remove(payload.Name())
		defer payload.Close()
		if err := hart.Pack(payload, p.Path, p.Ident); err != nil {
			return nil, fmt.Errorf("pack %s: %w", src, err)
		}
	} else {
		if payload, err = os.Open(src); err != nil {
			return nil, err
		}
		defer payload.Close()
	}
	if _, err := payload.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	plan, err := hart.Scan(payload)
	if err != nil {
		return nil, fmt.Errorf("%s would not install: %w", src, err)
	}
	if origin == "" {
		origin = plan.Ident.Origin
	}
	if origin != plan.Ident.Origin {
		return nil, fmt.Errorf("package %s is not of origin %s: tend installs only artifacts signed by their own origin", plan.Ident, origin)
	}
	key, err := hart.KeyCache(KeysDir(root)).LatestSecret(origin)
	if err != nil {
		return nil, err
	}
	if _, err := payload.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if err := writeArtifact(dest, payload, key); err != nil {
		return nil, err
	}
	return &Signed{Ident: plan.Ident, Signer: key.Name}, nil
}

// writeArtifact writes the artifact to a temporary file beside dest and
// renames it into place.
func writeArtifact(dest string, payload io.ReadSeeker, key hart.SecretKey) (err error) {
	f, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := hart.Sign(f, payload, key); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), dest)
}
