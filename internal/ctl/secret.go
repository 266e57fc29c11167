package ctl

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// SecretFile is the name of the secret in the state directory.
const SecretFile = "CTL_SECRET"

// secretBytes of randomness, as Habitat's `hab sup secret generate`.
const secretBytes = 64

// ReadSecret returns the secret the CLI presents: TEND_CTL_SECRET, else
// Habitat's HAB_CTL_SECRET, else the contents of STATEDIR/CTL_SECRET, with
// trailing newlines trimmed. It does not check the file's mode: that is
// the supervisor's job when it starts (EnsureSecret).
func ReadSecret(stateDir string, getenv func(string) string) ([]byte, error) {
	for _, name := range []string{"TEND_CTL_SECRET", "HAB_CTL_SECRET"} {
		if v := trimNewlines([]byte(getenv(name))); len(v) > 0 {
			return v, nil
		}
	}
	p := filepath.Join(stateDir, SecretFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("control-gateway secret (set TEND_CTL_SECRET, or run as a user who can read the file): %w", err)
	}
	if b = trimNewlines(b); len(b) == 0 {
		return nil, fmt.Errorf("control-gateway secret: %s is empty", p)
	}
	return b, nil
}

// EnsureSecret returns the supervisor's secret, creating STATEDIR/CTL_SECRET
// (and STATEDIR) on first start. An existing file that group or others may
// read or write is refused rather than fixed: who else had access, and for
// how long, is not for tend to guess. Callers hold the state directory's
// LOCK, so no second supervisor races to create the file.
func EnsureSecret(stateDir string) ([]byte, error) {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("control-gateway secret: %w", err)
	}
	p := filepath.Join(stateDir, SecretFile)
	s, err := readOwnSecret(p)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return s, err
	}

	s = NewSecret()
	if err := writeAtomic(p, append(bytes.Clone(s), '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("control-gateway secret: %w", err)
	}
	return s, nil
}

// NewSecret returns a new control-gateway secret: 64 random bytes in
// base64, what the supervisor writes on first start and what `tend sup
// secret generate` prints, as Habitat's `hab sup secret generate` does.
func NewSecret() []byte {
	raw := make([]byte, secretBytes)
	_, _ = rand.Read(raw) // never fails on Linux (Go 1.24+ crashes instead)
	return []byte(base64.StdEncoding.EncodeToString(raw))
}

// readOwnSecret reads the supervisor's secret file, refusing one that is a
// symbolic link, not a regular file, or readable beyond its owner.
func readOwnSecret(p string) ([]byte, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("control-gateway secret: %s is a symbolic link; refusing it", p)
		}
		return nil, fmt.Errorf("control-gateway secret: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("control-gateway secret: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("control-gateway secret: %s is not a regular file", p)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("control-gateway secret: %s has mode %04o, wider than 0600; check who read it, then chmod 600 it or remove it to have a new one made", p, perm)
	}
	b, err := io.ReadAll(io.LimitReader(f, 4<<10))
	if err != nil {
		return nil, fmt.Errorf("control-gateway secret: %w", err)
	}
	if b = trimNewlines(b); len(b) == 0 {
		return nil, fmt.Errorf("control-gateway secret: %s is empty; remove it to have a new one made", p)
	}
	return b, nil
}

// writeAtomic writes data to path with mode perm, whole or not at all
// (SPEC §3): a temporary file in the same directory, synced, renamed over
// path, and the directory synced so the rename itself survives a crash.
func writeAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func trimNewlines(b []byte) []byte { return bytes.TrimRight(b, "\r\n") }
