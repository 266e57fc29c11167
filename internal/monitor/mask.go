package monitor

import (
	"strings"
	"unicode/utf8"
)

// Masking keeps secrets out of /status and /healthy (SPEC §8: "Secrets never
// appear, or appear masked like ****abcd"). The snapshot carries no secrets
// by design, but record texts quote hook output and error messages, which can
// quote anything; so every text is scrubbed on the way out:
//
//   - every occurrence of a configured secret (Options.Secrets);
//   - the value after a secret-looking key: "token=…", "password: …",
//     "X-API-Key: …", "Authorization: Bearer …", `"api_key": "…"`;
//   - the value after a bare "Bearer" (a bearer token wherever it is quoted).
//
// Nothing else is masked: "Basic" is a credential only after an
// Authorization key ("basic health check" is prose), and long hex words are
// ids (a member id is shown in full everywhere else), not secrets.
//
// A masked value keeps its last four characters when it is long enough that
// they give little away, so an operator can still tell two keys apart.

const (
	minShownLen   = 12 // shortest value that keeps its last 4 characters
	minSecretLen  = 4  // configured secrets shorter than this are ignored
	maskedPrefix  = "****"
	maskedShowLen = 4
)

// maskValue is the masked form of one secret value.
func maskValue(v string) string {
	if utf8.RuneCountInString(v) < minShownLen {
		return maskedPrefix
	}
	tail := v
	for n := 0; n < maskedShowLen; n++ {
		_, size := utf8.DecodeLastRuneInString(tail)
		tail = tail[:len(tail)-size]
	}
	return maskedPrefix + v[len(tail):]
}

// mask returns s with every secret-looking part replaced. It returns s itself
// (no allocation) when there is nothing to hide.
func mask(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= minSecretLen && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, maskValue(sec))
		}
	}
	return maskHeuristic(s)
}

func maskHeuristic(s string) string {
	var b strings.Builder
	last := 0 // s[:last] has been copied to b (or needs no change)
	emit := func(from, to int) {
		if b.Len() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[last:from])
		b.WriteString(maskValue(s[from:to]))
		last = to
	}
	for i := 0; i < len(s); {
		if !isWordByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
		word := s[i:j]
		if from, to, ok := secretValueAfter(s, j, word); ok {
			// Skip values masked already (a configured secret).
			if to > from && from >= last && !strings.HasPrefix(s[from:to], maskedPrefix) {
				emit(from, to)
			}
			i = max(to, j)
			continue
		}
		i = j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// secretValueAfter finds the value that follows a secret-looking key ending
// at s[j], or after an auth scheme word.
func secretValueAfter(s string, j int, word string) (from, to int, ok bool) {
	if strings.EqualFold(word, "bearer") {
		k := skipSpaces(s, j)
		if k == j || k >= len(s) {
			return 0, 0, false
		}
		return k, valueEnd(s, k), true
	}
	if !isSecretKey(word) {
		return 0, 0, false
	}
	k := j
	if k < len(s) && (s[k] == '"' || s[k] == '\'') {
		k++ // the closing quote of a quoted key: "token": "…"
	}
	k = skipSpaces(s, k)
	if k >= len(s) || (s[k] != ':' && s[k] != '=') {
		return 0, 0, false
	}
	k = skipSpaces(s, k+1)
	if k < len(s) && (s[k] == '"' || s[k] == '\'') {
		k++
	}
	from, to = k, valueEnd(s, k)
	// "Authorization: Bearer xyz": the secret is after the scheme.
	if isAuthScheme(s[from:to]) {
		if k2 := skipSpaces(s, to); k2 > to && k2 < len(s) {
			from, to = k2, valueEnd(s, k2)
		}
	}
	return from, to, true
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '-' || c == '+' || c == '~'
}

// valueEnd is the end of a value starting at k: values run to whitespace, a
// quote or a list/structure delimiter.
func valueEnd(s string, k int) int {
	for k < len(s) {
		switch s[k] {
		case ' ', '\t', '\r', '\n', '"', '\'', ',', ';', '&', ')', ']', '}', '>':
			return k
		}
		k++
	}
	return k
}

func skipSpaces(s string, k int) int {
	for k < len(s) && (s[k] == ' ' || s[k] == '\t') {
		k++
	}
	return k
}

func isAuthScheme(w string) bool {
	return strings.EqualFold(w, "bearer") || strings.EqualFold(w, "basic")
}

// isSecretKey reports whether a word names a secret: by its last segment
// ("api_key", "X-API-Key", "auth") or its ending ("GATEWAY_AUTH_TOKEN",
// "secretKey", "apikey").
func isSecretKey(w string) bool {
	seg := w
	if i := strings.LastIndexAny(w, "_-"); i >= 0 {
		seg = w[i+1:]
	}
	for _, k := range [...]string{"key", "auth", "authorization", "pwd", "pass"} {
		if strings.EqualFold(seg, k) {
			return true
		}
	}
	for _, k := range [...]string{"token", "secret", "password", "passwd", "apikey", "secretkey",
		"accesskey", "privatekey", "credential", "credentials"} {
		if len(w) >= len(k) && strings.EqualFold(w[len(w)-len(k):], k) {
			return true
		}
	}
	return false
}
