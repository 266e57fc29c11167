package hart

import (
	"bufio"
	"crypto/ed25519"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"

	"golang.org/x/crypto/blake2b"
)

// Header lines of an artifact.
const (
	FormatVersion = "HART-1"
	HashType      = "BLAKE2b"
)

// ErrInvalid is wrapped by every refusal of an artifact as such: a bad
// header, an unknown key, a bad signature, a payload that does not match.
var ErrInvalid = errors.New("invalid artifact")

// maxHeaderLine bounds each header line; the longest real one, the
// signature, is 172 base64 characters.
const maxHeaderLine = 1024

// Header is what an artifact says about itself before its payload.
type Header struct {
	Signer    KeyName
	Signature []byte // combined mode: 64-byte signature || hex digest
}

// Sign writes an artifact to w: the header naming key, then payload,
// which is read twice (once to hash it).
func Sign(w io.Writer, payload io.ReadSeeker, key SecretKey) error {
	h := newHash()
	if _, err := io.Copy(h, payload); err != nil {
		return err
	}
	if _, err := payload.Seek(0, io.SeekStart); err != nil {
		return err
	}
	digest := []byte(hex.EncodeToString(h.Sum(nil)))
	signed := append(ed25519.Sign(key.Key, digest), digest...)
	header := fmt.Sprintf("%s\n%s\n%s\n%s\n\n", FormatVersion, key.Name, HashType, base64.StdEncoding.EncodeToString(signed))
	if _, err := io.WriteString(w, header); err != nil {
		return err
	}
	_, err := io.Copy(w, payload)
	return err
}

// newHash is BLAKE2b with a 32-byte digest and no key, as Habitat uses.
func newHash() hash.Hash {
	h, err := blake2b.New256(nil)
	if err != nil {
		panic(err) // only a key over 64 bytes fails
	}
	return h
}

// Artifact is an open artifact whose signature has been verified.
type Artifact struct {
	Header Header
	Digest []byte // the verified BLAKE2b-256 digest of the payload

	f      *os.File
	offset int64 // where the payload starts
}

// Open opens the artifact at path and verifies it against the public keys
// in keys: its header, that its signer is known, its signature, and that
// its payload hashes to what was signed. Nothing else is trusted before
// that. The artifact is kept open; Close it.
func Open(path string, keys KeyCache) (*Artifact, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	a, err := open(f, keys)
	if err != nil {
		f.Close()
		return nil, err
	}
	return a, nil
}

func open(f *os.File, keys KeyCache) (*Artifact, error) {
	br := bufio.NewReader(f)
	hdr, n, err := ReadHeader(br)
	if err != nil {
		return nil, err
	}
	key, err := keys.Public(hdr.Signer)
	if err != nil {
		if errors.Is(err, ErrUnknownKey) {
			return nil, fmt.Errorf("%w: signed with key %s, which is not in %s (add %s%s there)", ErrInvalid, hdr.Signer, keys, hdr.Signer, PublicSuffix)
		}
		return nil, err
	}
	if len(hdr.Signature) < ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: the signature is %d bytes, too short", ErrInvalid, len(hdr.Signature))
	}
	sig, msg := hdr.Signature[:ed25519.SignatureSize], hdr.Signature[ed25519.SignatureSize:]
	if !ed25519.Verify(key.Key, msg, sig) {
		return nil, fmt.Errorf("%w: the signature does not verify with key %s", ErrInvalid, hdr.Signer)
	}
	want, err := hex.DecodeString(string(msg))
	if err != nil || len(want) != blake2b.Size256 {
		return nil, fmt.Errorf("%w: the signed message is not a BLAKE2b-256 digest in hex", ErrInvalid)
	}
	a := &Artifact{Header: hdr, Digest: want, f: f, offset: int64(n)}
	h := newHash()
	if _, err := io.Copy(h, br); err != nil {
		return nil, err
	}
	if got := h.Sum(nil); subtle.ConstantTimeCompare(got, want) != 1 {
		return nil, fmt.Errorf("%w: the payload's BLAKE2b digest is %x, but %x was signed: the file is truncated or was changed", ErrInvalid, got, want)
	}
	return a, nil
}

// Close closes the artifact's file.
func (a *Artifact) Close() error { return a.f.Close() }

// ReadPayload calls fn with the payload (the xz stream) and, once fn is
// done, reads the rest of it and checks that what was read still hashes
// to the verified digest: the file might have changed since it was
// verified, and a caller must not keep what it made of a changed payload.
func (a *Artifact) ReadPayload(fn func(io.Reader) error) error {
	h := newHash()
	r := io.TeeReader(io.NewSectionReader(a.f, a.offset, 1<<62), h)
	if err := fn(r); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(h.Sum(nil), a.Digest) != 1 {
		return fmt.Errorf("%w: the file changed while it was being read", ErrInvalid)
	}
	return nil
}

// ReadHeader reads the five header lines and returns them with the number
// of bytes they took. Each line is checked as it is read, so a file that
// is not an artifact is named as such.
func ReadHeader(r *bufio.Reader) (Header, int, error) {
	n := 0
	next := func(what string) (string, error) {
		line, err := readLine(r)
		n += len(line)
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("%w: the file ends before its %s", ErrInvalid, what)
		}
		if err != nil {
			return "", fmt.Errorf("%w: reading its %s: %w", ErrInvalid, what, err)
		}
		return strings.TrimSpace(string(line)), nil
	}
	var h Header
	line, err := readLine(r)
	n += len(line)
	if v := strings.TrimSpace(string(line)); v != FormatVersion || err != nil {
		if len(line) == 0 && errors.Is(err, io.EOF) {
			return h, n, fmt.Errorf("%w: the file is empty", ErrInvalid)
		}
		return h, n, fmt.Errorf("%w: not a Habitat artifact (it does not start with a %s line)", ErrInvalid, FormatVersion)
	}
	if line, err := next("key name"); err != nil {
		return h, n, err
	} else if h.Signer, err = ParseKeyName(line); err != nil {
		return h, n, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if line, err := next("hash type"); err != nil {
		return h, n, err
	} else if line != HashType {
		return h, n, fmt.Errorf("%w: hash type %q, want %s", ErrInvalid, clip(line), HashType)
	}
	if line, err := next("signature"); err != nil {
		return h, n, err
	} else if h.Signature, err = base64.StdEncoding.DecodeString(line); err != nil {
		return h, n, fmt.Errorf("%w: the signature is not valid base64", ErrInvalid)
	}
	if line, err := next("empty line that ends the header"); err != nil {
		return h, n, err
	} else if line != "" {
		return h, n, fmt.Errorf("%w: the header should end with an empty line, got %q", ErrInvalid, clip(line))
	}
	return h, n, nil
}

// readLine reads up to and including '\n', refusing long lines: binary
// junk must not be buffered whole.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		b, err := r.ReadByte()
		if err != nil {
			if err == io.EOF {
				return line, io.EOF
			}
			return line, err
		}
		line = append(line, b)
		if b == '\n' {
			return line, nil
		}
		if len(line) > maxHeaderLine {
			return line, fmt.Errorf("a header line is longer than %d bytes", maxHeaderLine)
		}
	}
}
