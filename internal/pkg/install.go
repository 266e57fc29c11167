package pkg

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/tend-sh/tend/internal/ident"
	"github.com/tend-sh/tend/internal/safefs"
)

// tempPrefix starts the names of the directories Install works in beside a
// release directory; Find skips them.
const tempPrefix = ".tend-"

// InstallDir is where the package id lives under root.
func InstallDir(root string, id ident.Ident) string {
	return filepath.Join(root, "pkgs", id.Origin, id.Name, id.Version, id.Release)
}

// Install copies the package in srcDir to ROOT/pkgs/ORIGIN/NAME/VERSION/RELEASE
// and returns it as read from there.
//
// The source is read and checked before anything is written, so a bad
// package changes nothing on disk. The copy is made in a temporary
// directory beside the destination and renamed into place, so a reader
// sees the old package or the new one, never half of one. Installing an
// ident that is already installed replaces it: the old copy is renamed
// aside, the new one renamed in, the old one removed. Installing a package
// from its own install directory does nothing and returns it.
func Install(root, srcDir string) (*Package, error) {
	src, err := Read(srcDir)
	if err != nil {
		return nil, err
	}
	root, err = filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("install %s: %w", src.Ident, err)
	}
	dest := InstallDir(root, src.Ident)
	if same, err := sameDir(src.Path, dest); err != nil {
		return nil, fmt.Errorf("install %s: %w", src.Ident, err)
	} else if same {
		src.Path = dest
		return src, nil
	}
	// Copy from where the source really is: a symlink to it would
	// otherwise be copied as a symlink.
	from, err := filepath.EvalSymlinks(src.Path)
	if err != nil {
		return nil, fmt.Errorf("install %s: %w", src.Ident, err)
	}
	within := root // the root may not exist yet
	if resolved, err := filepath.EvalSymlinks(root); err == nil {
		within = resolved
	}
	if strings.HasPrefix(within+string(filepath.Separator), from+string(filepath.Separator)) {
		return nil, fmt.Errorf("install %s: %s would be copied into itself (%s)", src.Ident, src.Path, dest)
	}

	parent := filepath.Dir(dest)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("install %s: %w", src.Ident, err)
	}
	tmp, err := os.MkdirTemp(parent, tempPrefix+"new-"+src.Ident.Release+"-")
	if err != nil {
		return nil, fmt.Errorf("install %s: %w", src.Ident, err)
	}
	installed := false
	defer func() {
		if !installed {
			removeAll(tmp)
		}
	}()
	if err := copyTree(from, tmp); err != nil {
		return nil, fmt.Errorf("install %s: %w", src.Ident, err)
	}
	// Check the copy, not only the source: the source may have changed
	// since it was read, and what gets renamed into place must be sound.
	p, err := Read(tmp)
	if err != nil {
		return nil, fmt.Errorf("install %s: the copy is not sound (was %s changed while installing?): %w", src.Ident, src.Path, err)
	}
	if p.Ident != src.Ident {
		return nil, fmt.Errorf("install %s: %s changed to %s while installing", src.Ident, filepath.Join(src.Path, "IDENT"), p.Ident)
	}

	olds, err := swapIn(tmp, dest)
	if err != nil {
		return nil, fmt.Errorf("install %s: %w", src.Ident, err)
	}
	installed = true
	// The rename is only durable once the directory holding it is synced.
	syncErr := safefs.SyncDir(parent)
	for _, old := range olds {
		// A leftover only wastes space: Find skips temporary names.
		removeAll(old)
	}
	if syncErr != nil {
		return nil, fmt.Errorf("install %s: %w", src.Ident, syncErr)
	}
	p.Path = dest
	return p, nil
}

// sameDir reports whether a and b name the same existing directory.
func sameDir(a, b string) (bool, error) {
	if a == b {
		return true, nil
	}
	bi, err := os.Stat(b)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	ai, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	return os.SameFile(ai, bi), nil
}

// swapIn renames the directory tmp to dest. If dest exists, it is first
// renamed aside; the names it was moved to are returned for removal. It
// retries when another installer puts its copy in place meanwhile: every
// copy of one ident is the same package, so the last one in stays.
func swapIn(tmp, dest string) (olds []string, err error) {
	for attempt := 0; ; attempt++ {
		err := os.Rename(tmp, dest)
		if err == nil {
			return olds, nil
		}
		if !isDirNotEmpty(err) || attempt == 10 {
			if len(olds) > 0 {
				// Put the last old copy back rather than leave nothing.
				if os.Rename(olds[len(olds)-1], dest) == nil {
					olds = olds[:len(olds)-1]
				}
				for _, old := range olds {
					removeAll(old)
				}
			}
			return nil, err
		}
		old := tmp + ".old" + strconv.Itoa(attempt)
		switch err := os.Rename(dest, old); {
		case err == nil:
			olds = append(olds, old)
		case errors.Is(err, fs.ErrNotExist):
			// Another installer moved it aside first; try again.
		default:
			return nil, err
		}
	}
}

// isDirNotEmpty reports whether a rename failed because its target is a
// directory with something in it: ENOTEMPTY, or EEXIST on some systems,
// both of which match fs.ErrExist.
func isDirNotEmpty(err error) bool {
	return errors.Is(err, fs.ErrExist)
}

// copyWorkers is how many files copyTree copies at once. Each copy ends
// with an fsync, which costs milliseconds of waiting on the disk and little
// CPU; overlapping them makes installing a package of many files several
// times faster.
const copyWorkers = 8

// copyTree copies the contents of src into the existing directory dst,
// keeping permission bits (setuid, setgid and sticky too) and symlinks.
// Every file and directory is synced, so that once dst is renamed into
// place a crash cannot leave it with empty files.
func copyTree(src, dst string) error {
	type dirMode struct {
		path string
		mode fs.FileMode
	}
	var dirs []dirMode // in walk order: parents before children

	type job struct{ from, to string }
	jobs := make(chan job)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	failed := func() error {
		mu.Lock()
		defer mu.Unlock()
		return firstErr
	}
	for range copyWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if failed() != nil {
					continue // drain: the copy is abandoned
				}
				if err := copyFile(j.from, j.to); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	walkErr := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := failed(); err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch t := d.Type(); {
		case t.IsDir():
			info, err := d.Info()
			if err != nil {
				return err
			}
			if rel != "." {
				// Owner-writable for now, so the copy can fill it; the real
				// mode is set once it is full.
				if err := os.Mkdir(target, 0o700); err != nil {
					return err
				}
			}
			dirs = append(dirs, dirMode{target, info.Mode()})
		case t&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case t.IsRegular():
			jobs <- job{path, target}
		default:
			return fmt.Errorf("%s: cannot install a %v", path, t)
		}
		return nil
	})
	close(jobs)
	wg.Wait()
	if walkErr != nil {
		return walkErr
	}
	if err := failed(); err != nil {
		return err
	}
	// Deepest first, so that making a directory read-only does not stop its
	// parent from being synced.
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := safefs.SyncDir(dirs[i].path); err != nil {
			return err
		}
		if err := os.Chmod(dirs[i].path, modeBits(dirs[i].mode)); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	if _, err := io.Copy(out, in); err != nil {
		return err
	}
	// Chmod rather than create with the mode: the umask must not apply.
	if err := out.Chmod(modeBits(info.Mode())); err != nil {
		return err
	}
	return out.Sync()
}

// modeBits keeps what chmod can set.
func modeBits(m fs.FileMode) fs.FileMode {
	return m & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}

// removeAll removes path, making directories writable where a read-only
// one (copied from a read-only source) stops the removal.
func removeAll(path string) {
	if os.RemoveAll(path) == nil {
		return
	}
	_ = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	_ = os.RemoveAll(path)
}
