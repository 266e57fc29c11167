package hart

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/tend-sh/tend/internal/safefs"
)

// Extract unpacks the payload read from r into the existing, empty
// directory dir, which becomes the package directory. It follows plan, made
// by Scan from the same payload, and stops if the payload differs from it:
// only what Scan found safe is written. Files are created fresh, never
// through a link, and synced, so that once dir is renamed into place a
// crash cannot leave it with empty files.
func Extract(r io.Reader, dir string, plan *Plan) error {
	tr, err := newTarReader(r)
	if err != nil {
		return err
	}
	var dirs []Entry // to get their modes once full
	i := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: the payload is not a valid tar: %w", ErrInvalid, err)
		}
		e, _, keep, err := classify(hdr)
		if err != nil {
			return err
		}
		if !keep {
			continue
		}
		if i >= len(plan.Entries) || !sameEntry(e, plan.Entries[i]) {
			return fmt.Errorf("%w: the payload changed while it was being unpacked", ErrInvalid)
		}
		i++
		target := filepath.Join(dir, filepath.FromSlash(e.Path))
		if e.Path != "" {
			// Parents the archive does not list are made as tar makes them.
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
		}
		switch e.Type {
		case tar.TypeDir:
			// Owner-writable for now, so it can be filled.
			if err := os.Mkdir(target, 0o700); err != nil && !isDir(target, err) {
				return err
			}
			dirs = append(dirs, e)
		case tar.TypeReg:
			if err := writeFile(target, tr, e); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := os.Symlink(e.Linkname, target); err != nil {
				return err
			}
		case tar.TypeLink:
			if err := os.Link(filepath.Join(dir, filepath.FromSlash(e.Linkname)), target); err != nil {
				return err
			}
		}
	}
	if i != len(plan.Entries) {
		return fmt.Errorf("%w: the payload changed while it was being unpacked", ErrInvalid)
	}
	// Deepest first, so that a read-only directory does not stop its
	// parent from being synced; then dir itself.
	for j := len(dirs) - 1; j >= 0; j-- {
		p := filepath.Join(dir, filepath.FromSlash(dirs[j].Path))
		if err := safefs.SyncDir(p); err != nil {
			return err
		}
		if err := os.Chmod(p, dirs[j].Mode); err != nil {
			return err
		}
	}
	return safefs.SyncDir(dir)
}

func sameEntry(a, b Entry) bool {
	return a.name == b.name && a.Path == b.Path && a.Type == b.Type && a.Mode == b.Mode &&
		a.Size == b.Size && a.Linkname == b.Linkname
}

// isDir reports whether a failed Mkdir found a directory already there
// (made earlier as the parent of another entry).
func isDir(path string, err error) bool {
	if !errors.Is(err, fs.ErrExist) {
		return false
	}
	fi, lerr := os.Lstat(path)
	return lerr == nil && fi.IsDir()
}

func writeFile(path string, r io.Reader, e Entry) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	if _, err := io.CopyN(f, r, e.Size); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalid, e.name, err)
	}
	// Chmod rather than create with the mode: the umask must not apply.
	if err := f.Chmod(e.Mode); err != nil {
		return err
	}
	return f.Sync()
}
