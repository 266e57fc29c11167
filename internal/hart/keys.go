// Package hart reads, verifies and writes Habitat artifacts (.hart files)
// and the origin signing keys they are signed with, in Habitat's formats,
// so that tend installs what `hab pkg build` makes and the other way round.
//
// An artifact is five header lines, then an xz-compressed tar:
//
//	HART-1
//	ORIGIN-REVISION        the signing key's name
//	BLAKE2b
//	BASE64                 Ed25519 combined-mode signature (64-byte signature || message)
//	                       an empty line
//	...xz payload...
//
// The signed message is the lower-case hex BLAKE2b-256 digest of the
// payload (64 ASCII bytes), not the digest's bytes: that is what Habitat
// signs, through libsodium's crypto_sign.
package hart

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/tend-sh/tend/internal/ident"
)

// Versions on the first line of key files.
const (
	PublicKeyVersion = "SIG-PUB-1"
	SecretKeyVersion = "SIG-SEC-1"
)

// File name suffixes of keys in a key cache.
const (
	PublicSuffix = ".pub"
	SecretSuffix = ".sig.key"
)

// revisionLayout is a key revision: the UTC time the key was made.
const revisionLayout = "20060102150405"

var keyNameRE = regexp.MustCompile(`\A(.+)-([0-9]{14})\z`)

// KeyName names one signing key: its origin and revision, printed as
// ORIGIN-REVISION (Habitat's "named revision").
type KeyName struct {
	Origin   string
	Revision string // 14 digits, YYYYMMDDhhmmss UTC
}

func (k KeyName) String() string { return k.Origin + "-" + k.Revision }

// ParseKeyName reads ORIGIN-REVISION. The origin must be a valid origin
// name, since it becomes part of a file name in the key cache.
func ParseKeyName(s string) (KeyName, error) {
	m := keyNameRE.FindStringSubmatch(s)
	if m == nil {
		return KeyName{}, fmt.Errorf("key name %q is not ORIGIN-REVISION (a 14-digit timestamp)", s)
	}
	if err := checkOrigin(m[1]); err != nil {
		return KeyName{}, fmt.Errorf("key name %q: %w", s, err)
	}
	return KeyName{Origin: m[1], Revision: m[2]}, nil
}

// checkOrigin applies the ident rule for origins.
func checkOrigin(origin string) error {
	if err := (ident.Ident{Origin: origin, Name: "x"}).Validate(); err != nil {
		return fmt.Errorf("origin %q may only hold A-Z, a-z, 0-9, '_' and '-'", origin)
	}
	return nil
}

// PublicKey verifies artifacts signed by an origin.
type PublicKey struct {
	Name KeyName
	Key  ed25519.PublicKey
}

// SecretKey signs artifacts for an origin. Its key is libsodium's 64-byte
// secret key (seed || public key), which is also Go's ed25519.PrivateKey.
type SecretKey struct {
	Name KeyName
	Key  ed25519.PrivateKey
}

// GenerateKeyPair makes a new key pair for origin, its revision taken
// from now.
func GenerateKeyPair(origin string, now time.Time) (PublicKey, SecretKey, error) {
	if err := checkOrigin(origin); err != nil {
		return PublicKey{}, SecretKey{}, err
	}
	pub, sec, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return PublicKey{}, SecretKey{}, err
	}
	name := KeyName{Origin: origin, Revision: now.UTC().Format(revisionLayout)}
	return PublicKey{Name: name, Key: pub}, SecretKey{Name: name, Key: sec}, nil
}

// Marshal gives the key file's content.
func (k PublicKey) Marshal() []byte { return marshalKey(PublicKeyVersion, k.Name, k.Key) }

// Marshal gives the key file's content; it is a secret.
func (k SecretKey) Marshal() []byte { return marshalKey(SecretKeyVersion, k.Name, k.Key) }

// Public is the public half.
func (k SecretKey) Public() PublicKey {
	return PublicKey{Name: k.Name, Key: k.Key.Public().(ed25519.PublicKey)}
}

// marshalKey lays a key file out as Habitat does: version, name, an empty
// line, the key in standard base64 (no newline after it).
func marshalKey(version string, name KeyName, key []byte) []byte {
	return []byte(version + "\n" + name.String() + "\n\n" + base64.StdEncoding.EncodeToString(key))
}

// ParsePublicKey reads a SIG-PUB-1 key file.
func ParsePublicKey(b []byte) (PublicKey, error) {
	name, key, err := parseKey(b, PublicKeyVersion, ed25519.PublicKeySize)
	if err != nil {
		return PublicKey{}, err
	}
	return PublicKey{Name: name, Key: ed25519.PublicKey(key)}, nil
}

// ParseSecretKey reads a SIG-SEC-1 key file. Its error never holds key
// material.
func ParseSecretKey(b []byte) (SecretKey, error) {
	name, key, err := parseKey(b, SecretKeyVersion, ed25519.PrivateKeySize)
	if err != nil {
		return SecretKey{}, err
	}
	sec := ed25519.PrivateKey(key)
	// libsodium stores the public key after the seed; a file whose two
	// halves disagree would sign with one key and name another.
	if !ed25519.NewKeyFromSeed(sec.Seed()).Equal(sec) {
		return SecretKey{}, fmt.Errorf("secret key %s is corrupt: its public half does not match its seed", name)
	}
	return SecretKey{Name: name, Key: sec}, nil
}

func parseKey(b []byte, version string, size int) (KeyName, []byte, error) {
	lines := strings.Split(string(b), "\n")
	if len(lines) < 4 {
		return KeyName{}, nil, errors.New("key file is too short: want version, name, an empty line and the key")
	}
	if v := strings.TrimSpace(lines[0]); v != version {
		return KeyName{}, nil, fmt.Errorf("key file version is %q, want %s", clip(v), version)
	}
	name, err := ParseKeyName(strings.TrimSpace(lines[1]))
	if err != nil {
		return KeyName{}, nil, err
	}
	if strings.TrimSpace(lines[2]) != "" {
		return KeyName{}, nil, fmt.Errorf("key %s: the third line must be empty", name)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(lines[3]))
	if err != nil {
		return KeyName{}, nil, fmt.Errorf("key %s: the key is not valid base64", name)
	}
	if len(key) != size {
		return KeyName{}, nil, fmt.Errorf("key %s: the key has %d bytes, want %d", name, len(key), size)
	}
	for _, l := range lines[4:] {
		if strings.TrimSpace(l) != "" {
			return KeyName{}, nil, fmt.Errorf("key %s: unexpected text after the key", name)
		}
	}
	return name, key, nil
}

// clip shortens untrusted text quoted in an error.
func clip(s string) string {
	const max = 160
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
