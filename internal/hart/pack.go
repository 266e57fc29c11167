package hart

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/tend-sh/tend/internal/ident"
	"github.com/ulikunitz/xz"
)

// Pack writes the package directory dir, whose ident is id, to w as a
// payload: an xz-compressed tar of hab/pkgs/ORIGIN/NAME/VERSION/RELEASE/...,
// as `hab pkg build` lays it out. Files, directories and symlinks are kept
// with their permission bits; anything else is refused.
func Pack(w io.Writer, dir string, id ident.Ident) (err error) {
	if err := id.Validate(); err != nil {
		return err
	}
	xw, err := xz.NewWriter(w)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(xw)
	prefix := path.Join("hab", "pkgs", id.Origin, id.Name, id.Version, id.Release)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		name := prefix
		if rel != "." {
			name = path.Join(prefix, filepath.ToSlash(rel))
		}
		hdr := &tar.Header{Name: name, Mode: int64(info.Mode().Perm()), ModTime: info.ModTime().UTC().Truncate(1e9)}
		switch t := d.Type(); {
		case t.IsDir():
			hdr.Typeflag = tar.TypeDir
			hdr.Name += "/"
		case t.IsRegular():
			hdr.Typeflag = tar.TypeReg
			hdr.Size = info.Size()
		case t&fs.ModeSymlink != 0:
			hdr.Typeflag = tar.TypeSymlink
			if hdr.Linkname, err = os.Readlink(p); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: cannot pack a %v", p, t)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := io.CopyN(tw, f, hdr.Size); err != nil {
			return fmt.Errorf("%s: %w (did it change while packing?)", p, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return xw.Close()
}
