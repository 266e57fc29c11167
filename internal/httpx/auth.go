package httpx

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// Auth requires every request to carry one of tokens, either as
// `Authorization: Bearer TOKEN` or as `X-API-Key: TOKEN`. With no tokens it
// returns next unchanged, like Habitat without HAB_SUP_GATEWAY_AUTH_TOKEN.
//
// Empty tokens are ignored: no request can present one, and counting them
// would otherwise turn on auth that nothing can pass. A rejected request gets
// 401 with an empty body and no WWW-Authenticate header, as Habitat answers.
// Tokens are never logged.
func Auth(tokens [][]byte, next http.Handler) http.Handler {
	// Compare SHA-256 digests rather than the tokens themselves: digests have
	// one length, so the comparison time does not depend on how long a token
	// is (subtle.ConstantTimeCompare returns early on a length mismatch).
	var digests [][sha256.Size]byte
	for _, t := range tokens {
		if len(t) > 0 {
			digests = append(digests, sha256.Sum256(t))
		}
	}
	if len(digests) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !presented(r, digests) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// presented reports whether r carries one of the tokens whose digests are
// given. Both headers are checked and every digest is compared, so the time
// taken does not tell which token (if any) matched.
func presented(r *http.Request, digests [][sha256.Size]byte) bool {
	match := 0
	if tok, ok := bearer(r.Header.Get("Authorization")); ok {
		match |= matchAny(tok, digests)
	}
	if key := r.Header.Get("X-API-Key"); key != "" {
		match |= matchAny(key, digests)
	}
	return match == 1
}

// bearer extracts the token from an Authorization value of exactly two
// whitespace-separated parts whose scheme is exactly "Bearer" (Habitat
// compares the scheme case-sensitively).
func bearer(v string) (string, bool) {
	parts := strings.Fields(v)
	if len(parts) != 2 || parts[0] != "Bearer" {
		return "", false
	}
	return parts[1], true
}

func matchAny(candidate string, digests [][sha256.Size]byte) int {
	d := sha256.Sum256([]byte(candidate))
	match := 0
	for i := range digests {
		match |= subtle.ConstantTimeCompare(d[:], digests[i][:])
	}
	return match
}
