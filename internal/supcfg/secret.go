package supcfg

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"strings"
)

// Secrets is a list of tokens or API keys. It is a [][]byte, so it can be
// handed as is to code that wants one, but every way of printing it (fmt with
// any verb, slog, encoding/json) shows each token masked as "****" plus its
// last four characters, so that a logged or dumped Config leaks nothing
// useful.
type Secrets [][]byte

// maskShowMin is the shortest token whose last four characters are shown;
// for shorter ones the tail would give away too large a share of the token.
const maskShowMin = 12

func mask(b []byte) string {
	if len(b) < maskShowMin {
		return "****"
	}
	return "****" + string(b[len(b)-4:])
}

func (s Secrets) masked() []string {
	out := make([]string, len(s))
	for i, b := range s {
		out[i] = mask(b)
	}
	return out
}

// String prints the masked tokens, like a []string.
func (s Secrets) String() string {
	return "[" + strings.Join(s.masked(), " ") + "]"
}

// GoString is used by %#v.
func (s Secrets) GoString() string {
	return fmt.Sprintf("supcfg.Secrets%#v", s.masked())
}

// Format covers every verb (%x and %d included, which would otherwise print
// the raw bytes of a [][]byte).
func (s Secrets) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, s.String())
}

// MarshalJSON encodes the masked tokens as a JSON array of strings.
func (s Secrets) MarshalJSON() ([]byte, error) {
	return json.Marshal(s.masked())
}

// Contains reports whether tok is one of s, in time that depends neither on
// which token matched nor on how long the tokens are (SHA-256 digests are
// compared, and every token is compared).
func (s Secrets) Contains(tok []byte) bool {
	want := sha256.Sum256(tok)
	found := 0
	for _, b := range s {
		if len(b) == 0 {
			continue // no request can present an empty token
		}
		got := sha256.Sum256(b)
		found |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	return found == 1
}
