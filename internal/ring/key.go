package ring

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
)

// KeySize is the ring key length: AES-256-GCM.
const KeySize = 32

// GenerateKey returns a new ring key: base64 of 32 random bytes, one line
// without the newline.
func GenerateKey() (string, error) {
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate ring key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// ReadKey reads a key file made from GenerateKey. It refuses a file that
// group or others may read, and anything but one base64 line of 32 bytes.
func ReadKey(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("ring key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("ring key %s: not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("ring key %s: mode %04o lets group or others read it; chmod 600 it", path, perm)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ring key: %w", err)
	}
	line := bytes.TrimSpace(raw)
	key := make([]byte, base64.StdEncoding.DecodedLen(len(line)))
	n, err := base64.StdEncoding.Decode(key, line)
	if err != nil || n != KeySize || bytes.ContainsAny(line, "\n\r") {
		return nil, fmt.Errorf("ring key %s: not one line of base64 of %d bytes (make one with the key generator)", path, KeySize)
	}
	return key[:n], nil
}
