package pkg

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tend-sh/tend/internal/ident"
	"github.com/tend-sh/tend/internal/tmpl"
)

// The parsers below read the line-based metadata files. Each takes the
// file's path (for messages) and contents, skips blank lines and '#'
// comments, accepts "\n" and "\r\n" endings, and refuses anything else it
// does not understand with a *MalformedError naming the line.

// eachLine calls fn with the 1-based number and text (line ending removed,
// otherwise untouched) of every line that carries content.
func eachLine(data []byte, fn func(n int, text string) error) error {
	s := string(data)
	for n := 1; s != ""; n++ {
		var line string
		line, s, _ = strings.Cut(s, "\n")
		line = strings.TrimSuffix(line, "\r")
		if t := strings.TrimSpace(line); t == "" || t[0] == '#' {
			continue
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
	return nil
}

// parseSingle reads a file that holds one value on one line. It returns ""
// and line 0 when the file has no content line.
func parseSingle(file string, data []byte) (value string, line int, err error) {
	err = eachLine(data, func(n int, text string) error {
		if line != 0 {
			return malformed(file, n, "expected a single line, found another after line %d", line)
		}
		value, line = strings.TrimSpace(text), n
		return nil
	})
	return value, line, err
}

// parseIdentFile reads IDENT: one fully qualified ident.
func parseIdentFile(file string, data []byte) (ident.Ident, error) {
	v, n, err := parseSingle(file, data)
	if err != nil {
		return ident.Ident{}, err
	}
	if n == 0 {
		return ident.Ident{}, malformed(file, 0, "empty: expected one line origin/name/version/release")
	}
	id, err := ident.Parse(v)
	if err != nil {
		return ident.Ident{}, &MalformedError{File: file, Line: n, Msg: err.Error(), Err: err}
	}
	if !id.FullyQualified() {
		return ident.Ident{}, malformed(file, n, "ident %q is not fully qualified", v)
	}
	return id, nil
}

// parseExports reads EXPORTS: lines "key=cfg.path".
func parseExports(file string, data []byte) (map[string]string, error) {
	out := map[string]string{}
	first := map[string]int{}
	err := eachLine(data, func(n int, text string) error {
		k, v, ok := strings.Cut(text, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || !isWord(k) || !isWord(v) {
			return malformed(file, n, "expected key=cfg.path, got %q", strings.TrimSpace(text))
		}
		if strings.HasPrefix(v, ".") || strings.HasSuffix(v, ".") || strings.Contains(v, "..") {
			return malformed(file, n, "cfg path %q has an empty part", v)
		}
		if prev, dup := first[k]; dup {
			return malformed(file, n, "export %q given twice (first on line %d)", k, prev)
		}
		first[k] = n
		out[k] = v
		return nil
	})
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return out, nil
}

// parseBinds reads BINDS and BINDS_OPTIONAL: lines "name=key key ...".
func parseBinds(file string, data []byte) (map[string][]string, map[string]int, error) {
	out := map[string][]string{}
	first := map[string]int{}
	err := eachLine(data, func(n int, text string) error {
		name, keys, ok := strings.Cut(text, "=")
		name = strings.TrimSpace(name)
		if !ok || !isWord(name) {
			return malformed(file, n, "expected name=export export ..., got %q", strings.TrimSpace(text))
		}
		exports := strings.Fields(keys)
		if len(exports) == 0 {
			return malformed(file, n, "bind %q names no exports", name)
		}
		for _, e := range exports {
			if !isWord(e) {
				return malformed(file, n, "bind %q: export %q has control characters or invalid UTF-8", name, e)
			}
		}
		if prev, dup := first[name]; dup {
			return malformed(file, n, "bind %q given twice (first on line %d)", name, prev)
		}
		first[name] = n
		out[name] = exports
		return nil
	})
	if err != nil || len(out) == 0 {
		return nil, nil, err
	}
	return out, first, nil
}

// parseExposes reads EXPOSES: port numbers separated by blanks or lines.
func parseExposes(file string, data []byte) ([]string, error) {
	var out []string
	err := eachLine(data, func(n int, text string) error {
		for _, f := range strings.Fields(text) {
			p, err := strconv.ParseUint(f, 10, 16)
			if err != nil || p == 0 {
				return malformed(file, n, "port %q is not a number from 1 to 65535", f)
			}
			out = append(out, f)
		}
		return nil
	})
	return out, err
}

// parseAccount reads SVC_USER or SVC_GROUP: one user or group name.
func parseAccount(file string, data []byte) (string, error) {
	v, n, err := parseSingle(file, data)
	if err != nil || n == 0 {
		return "", err
	}
	if !isWord(v) {
		return "", malformed(file, n, "expected one user or group name, got %q", v)
	}
	return v, nil
}

// parseSignal reads SHUTDOWN_SIGNAL: a signal name ("TERM", also "SIGTERM"
// or "term"), returned in its canonical form.
func parseSignal(file string, data []byte) (string, error) {
	v, n, err := parseSingle(file, data)
	if err != nil {
		return "", err
	}
	if n == 0 {
		return DefaultShutdownSignal, nil
	}
	_, name, ok := SignalByName(v)
	if !ok {
		return "", malformed(file, n, "unknown signal %q (expected a name such as TERM, INT, QUIT or HUP)", v)
	}
	return name, nil
}

// parseTimeout reads SHUTDOWN_TIMEOUT: whole seconds, as Habitat's u32.
func parseTimeout(file string, data []byte) (time.Duration, error) {
	v, n, err := parseSingle(file, data)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return DefaultShutdownTimeout, nil
	}
	s, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0, malformed(file, n, "expected whole seconds from 0 to 4294967295, got %q", v)
	}
	return time.Duration(s) * time.Second, nil
}

// parseDialect reads TEMPLATE_DIALECT: the name of the dialect the
// package's hooks and config templates are written in. No content line
// means the default, Habitat 1.x.
func parseDialect(file string, data []byte) (tmpl.Dialect, error) {
	v, n, err := parseSingle(file, data)
	if err != nil || n == 0 {
		return tmpl.Habitat1, err
	}
	d, err := tmpl.LookupDialect(v)
	if err != nil {
		return 0, &MalformedError{File: file, Line: n, Msg: err.Error(), Err: err}
	}
	return d, nil
}

// parseEnv reads RUNTIME_ENVIRONMENT: lines KEY=VALUE. The value is kept
// byte for byte (as Habitat keeps it), spaces included.
func parseEnv(file string, data []byte) ([]EnvVar, error) {
	var out []EnvVar
	first := map[string]int{}
	err := eachLine(data, func(n int, text string) error {
		k, v, ok := strings.Cut(text, "=")
		k = strings.TrimSpace(k)
		if !ok || !isEnvName(k) {
			return malformed(file, n, "expected KEY=VALUE with KEY made of A-Z, a-z, 0-9 and '_', got %q", strings.TrimSpace(text))
		}
		if strings.IndexByte(v, 0) >= 0 {
			// No process can receive it: execve ends strings at NUL.
			return malformed(file, n, "value of %s contains a NUL byte", k)
		}
		if prev, dup := first[k]; dup {
			return malformed(file, n, "%s set twice (first on line %d)", k, prev)
		}
		first[k] = n
		out = append(out, EnvVar{Key: k, Value: v})
		return nil
	})
	return out, err
}

// parseDeps reads DEPS: one fully qualified ident per line.
func parseDeps(file string, data []byte) ([]ident.Ident, error) {
	var out []ident.Ident
	err := eachLine(data, func(n int, text string) error {
		v := strings.TrimSpace(text)
		id, err := ident.Parse(v)
		if err != nil {
			return &MalformedError{File: file, Line: n, Msg: err.Error(), Err: err}
		}
		if !id.FullyQualified() {
			return malformed(file, n, "dependency %q is not fully qualified", v)
		}
		out = append(out, id)
		return nil
	})
	return out, err
}

// isWord reports whether s is a non-empty token without whitespace or
// control characters: what keys, names and cfg paths may be.
func isWord(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// isEnvName reports whether s is a portable environment variable name.
func isEnvName(s string) bool {
	if s == "" || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
