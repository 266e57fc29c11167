package store

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"
)

var memberIDRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

// MemberID reads the member id at path, creating it on first start. The id
// is kept forever: the ring knows a member by it across restarts.
func MemberID(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if !memberIDRe.MatchString(id) {
			return "", fmt.Errorf("%s: %q is not a member id (32 hex digits)", path, id)
		}
		return id, nil
	}
	if !os.IsNotExist(err) {
		return "", fmt.Errorf("read member id: %w", err)
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("member id: %w", err)
	}
	id := hex.EncodeToString(raw[:])
	if err := WriteFile(path, []byte(id+"\n"), 0o644); err != nil {
		return "", err
	}
	return id, nil
}
