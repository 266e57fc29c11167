package pkg

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// sameTree reports whether the directories a and b hold the same names,
// each of the same type and permission bits, the same file contents and
// the same symlink targets. Owners and times are not compared: they differ
// between two unpackings of one artifact.
func sameTree(a, b string) (bool, error) {
	differ := errors.New("differ")
	seen := 0
	err := filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(a, p)
		if err != nil {
			return err
		}
		seen++
		ai, err := d.Info()
		if err != nil {
			return err
		}
		bi, err := os.Lstat(filepath.Join(b, rel))
		if errors.Is(err, fs.ErrNotExist) {
			return differ
		}
		if err != nil {
			return err
		}
		if ai.Mode() != bi.Mode() {
			return differ
		}
		switch {
		case ai.Mode()&fs.ModeSymlink != 0:
			at, err := os.Readlink(p)
			if err != nil {
				return err
			}
			bt, err := os.Readlink(filepath.Join(b, rel))
			if err != nil {
				return err
			}
			if at != bt {
				return differ
			}
		case ai.Mode().IsRegular():
			if ai.Size() != bi.Size() {
				return differ
			}
			same, err := sameContents(p, filepath.Join(b, rel))
			if err != nil {
				return err
			}
			if !same {
				return differ
			}
		}
		return nil
	})
	if errors.Is(err, differ) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	// Every name of a is in b; b has no more if it has as many.
	n := 0
	if err := filepath.WalkDir(b, func(_ string, _ fs.DirEntry, err error) error {
		n++
		return err
	}); err != nil {
		return false, err
	}
	return n == seen, nil
}

func sameContents(a, b string) (bool, error) {
	fa, err := os.Open(a)
	if err != nil {
		return false, err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return false, err
	}
	defer fb.Close()
	ba, bb := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		na, ea := io.ReadFull(fa, ba)
		nb, eb := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false, nil
		}
		if ea == io.EOF || ea == io.ErrUnexpectedEOF {
			return eb == io.EOF || eb == io.ErrUnexpectedEOF, nil
		}
		if ea != nil {
			return false, ea
		}
		if eb != nil {
			return false, eb
		}
	}
}
