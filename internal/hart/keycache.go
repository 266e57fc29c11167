package hart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ErrUnknownKey is wrapped when an artifact names a key the cache lacks.
var ErrUnknownKey = errors.New("unknown signing key")

// KeyCache is a directory of key files named ORIGIN-REVISION.pub and
// ORIGIN-REVISION.sig.key, as in Habitat's key cache (ROOT/cache/keys).
type KeyCache string

// Public reads the public key called name.
func (c KeyCache) Public(name KeyName) (PublicKey, error) {
	path := filepath.Join(string(c), name.String()+PublicSuffix)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return PublicKey{}, fmt.Errorf("%w %s: no %s", ErrUnknownKey, name, path)
	}
	if err != nil {
		return PublicKey{}, err
	}
	k, err := ParsePublicKey(b)
	if err != nil {
		return PublicKey{}, fmt.Errorf("%s: %w", path, err)
	}
	if k.Name != name {
		return PublicKey{}, fmt.Errorf("%s: holds key %s, not %s", path, k.Name, name)
	}
	return k, nil
}

// LatestSecret reads the newest secret key of origin.
func (c KeyCache) LatestSecret(origin string) (SecretKey, error) {
	if err := checkOrigin(origin); err != nil {
		return SecretKey{}, err
	}
	ents, err := os.ReadDir(string(c))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return SecretKey{}, err
	}
	var names []KeyName
	for _, e := range ents {
		base, ok := strings.CutSuffix(e.Name(), SecretSuffix)
		if !ok {
			continue
		}
		if n, err := ParseKeyName(base); err == nil && n.Origin == origin {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return SecretKey{}, fmt.Errorf("no secret signing key for origin %s in %s (make one with `tend origin key generate %s`)", origin, c, origin)
	}
	// Revisions are fixed-width timestamps: the greatest string is the newest.
	sort.Slice(names, func(i, j int) bool { return names[i].Revision < names[j].Revision })
	newest := names[len(names)-1]
	path := filepath.Join(string(c), newest.String()+SecretSuffix)
	b, err := os.ReadFile(path)
	if err != nil {
		return SecretKey{}, err
	}
	k, err := ParseSecretKey(b)
	if err != nil {
		return SecretKey{}, fmt.Errorf("%s: %w", path, err)
	}
	if k.Name != newest {
		return SecretKey{}, fmt.Errorf("%s: holds key %s, not %s", path, k.Name, newest)
	}
	return k, nil
}

// WritePair stores a new key pair: the public key world-readable (0644),
// the secret one for its owner only (0600). It refuses to overwrite a key
// of the same name, and leaves neither file if either cannot be written.
func (c KeyCache) WritePair(sec SecretKey) (pubPath, secPath string, err error) {
	if err := os.MkdirAll(string(c), 0o755); err != nil {
		return "", "", err
	}
	pubPath = filepath.Join(string(c), sec.Name.String()+PublicSuffix)
	secPath = filepath.Join(string(c), sec.Name.String()+SecretSuffix)
	if err := writeNew(secPath, sec.Marshal(), 0o600); err != nil {
		return "", "", err
	}
	if err := writeNew(pubPath, sec.Public().Marshal(), 0o644); err != nil {
		os.Remove(secPath)
		return "", "", err
	}
	return pubPath, secPath, nil
}

// writeNew creates path, which must not exist, with exactly perm (no
// umask) and syncs it.
func writeNew(path string, data []byte, perm os.FileMode) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists; not overwriting a key", path)
	}
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Sync()
}
