package supcfg

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
)

// maxTokenFile bounds what is read from a token file: a few keys fit in far
// less, and a wrong path (a log, a device) must not be read whole.
const maxTokenFile = 64 << 10

// resolveTokens adds the tokens held in token files to the inline ones.
// Each of the two options follows the layer rules on its own; the tokens
// accepted are the union of both.
func resolveTokens(c *Config, opts []option, src sources) error {
	for _, t := range []struct {
		filesKey string
		files    []string
		into     *Secrets
	}{
		{"http.auth_token_files", c.HTTP.TokenFiles, &c.HTTP.Tokens},
		{"monitor.api_key_files", c.Monitor.APIKeyFiles, &c.Monitor.APIKeys},
	} {
		all := slices.Clone(*t.into)
		for _, p := range t.files {
			more, err := readTokenFile(p)
			if err != nil {
				return fmt.Errorf("%s: %w", src.of(byYAML(opts, t.filesKey)), err)
			}
			all = append(all, more...)
		}
		*t.into = dedupe(all)
	}
	return nil
}

// readTokenFile reads one token per line; blank lines and lines starting with
// # are skipped, so keys can be rotated by adding the new one first. The file
// must not be readable by group or others: a token anyone on the host can
// read protects nothing, and refusing is louder than a warning.
func readTokenFile(path string) (Secrets, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Stat the open file, not the path, so the mode checked is the mode of
	// the bytes read.
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s: mode %04o is too open, want 0600 (chmod 600 %s)", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxTokenFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxTokenFile)
	}
	var out Secrets
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if err := checkToken(string(line)); err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", path, i+1, err)
		}
		out = append(out, line)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: holds no token", path)
	}
	return out, nil
}

// dedupe drops repeated tokens, keeping the first of each.
func dedupe(s Secrets) Secrets {
	var out Secrets
	for _, t := range s {
		if !slices.ContainsFunc(out, func(u []byte) bool { return bytes.Equal(t, u) }) {
			out = append(out, t)
		}
	}
	return out
}
