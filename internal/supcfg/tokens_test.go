package supcfg

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	tokA = "token-aaaaaaaaaaaa-A111"
	tokB = "token-bbbbbbbbbbbb-B222"
	tokC = "token-cccccccccccc-C333"
)

func writeFile(t *testing.T, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // WriteFile's mode is cut by the umask
		t.Fatal(err)
	}
	return p
}

func TestTokenFiles(t *testing.T) {
	good := writeFile(t, "tokens", "# gateway tokens\n"+tokB+"\r\n\n  "+tokC+"  \n"+tokA+"\n", 0o600)
	readOnly := writeFile(t, "ro", tokC+"\n", 0o400)

	c, err := loadLayers(t, layers{
		file: "http:\n  auth_tokens: [" + tokA + "]\n",
		args: []string{"--http-auth-token-file", good, "--http-auth-token-file", readOnly},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Secrets{[]byte(tokA), []byte(tokB), []byte(tokC)} // inline first, repeats dropped
	if diff := cmp.Diff(want, c.HTTP.Tokens); diff != "" {
		t.Errorf("HTTP.Tokens (-want +got):\n%s", diff)
	}

	c, err = loadLayers(t, layers{env: map[string]string{"TEND_MONITOR_API_KEY_FILES": good}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Monitor.APIKeys) != 3 || len(c.HTTP.Tokens) != 0 {
		t.Errorf("APIKeys = %d, HTTP.Tokens = %d; want 3, 0", len(c.Monitor.APIKeys), len(c.HTTP.Tokens))
	}
}

func TestTokenFileRefused(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		path func(t *testing.T) string
		want string // with PATH for the file's path
	}{
		{"world readable", func(t *testing.T) string { return writeFile(t, "t", tokA, 0o644) },
			"--http-auth-token-file: PATH: mode 0644 is too open, want 0600 (chmod 600 PATH)"},
		{"group readable", func(t *testing.T) string { return writeFile(t, "t", tokA, 0o640) },
			"--http-auth-token-file: PATH: mode 0640 is too open, want 0600 (chmod 600 PATH)"},
		{"group writable", func(t *testing.T) string { return writeFile(t, "t", tokA, 0o620) },
			"--http-auth-token-file: PATH: mode 0620 is too open, want 0600 (chmod 600 PATH)"},
		{"empty", func(t *testing.T) string { return writeFile(t, "t", "# none yet\n\n", 0o600) },
			"--http-auth-token-file: PATH: holds no token"},
		{"bad line", func(t *testing.T) string { return writeFile(t, "t", tokA+"\n"+tokB+" extra\n", 0o600) },
			"--http-auth-token-file: PATH: line 2: token contains white space or a control character"},
		{"directory", func(*testing.T) string { return dir },
			"--http-auth-token-file: PATH: not a regular file"},
		{"missing", func(*testing.T) string { return filepath.Join(dir, "none") },
			"--http-auth-token-file: open PATH: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.path(t)
			_, err := loadLayers(t, layers{args: []string{"--http-auth-token-file", p}})
			want := strings.ReplaceAll(tt.want, "PATH", p)
			if err == nil || err.Error() != want {
				t.Fatalf("Load = %v\nwant %s", err, want)
			}
			for _, tok := range []string{tokA, tokB} {
				if strings.Contains(err.Error(), tok) {
					t.Errorf("error shows a token: %q", err)
				}
			}
		})
	}

	// From the file, the error names the key and its line.
	p := writeFile(t, "t", tokA, 0o604)
	_, err := loadLayers(t, layers{file: "monitor:\n  api_key_files:\n    - " + p + "\n"})
	want := fmt.Sprintf("config.yaml: line 2: monitor.api_key_files: %s: mode 0604 is too open, want 0600 (chmod 600 %s)", p, p)
	if err == nil || err.Error() != want {
		t.Errorf("Load = %v\nwant %s", err, want)
	}
}

func TestHabitatTokenVariable(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want Secrets
	}{
		{map[string]string{"HAB_SUP_GATEWAY_AUTH_TOKEN": tokB}, Secrets{[]byte(tokB)}},
		// Both set (a host moving from Habitat's name to tend's): both
		// tokens are valid.
		{map[string]string{"HAB_SUP_GATEWAY_AUTH_TOKEN": tokB, "TEND_GATEWAY_AUTH_TOKEN": tokA}, Secrets{[]byte(tokA), []byte(tokB)}},
		{map[string]string{"HAB_SUP_GATEWAY_AUTH_TOKEN": tokA, "TEND_GATEWAY_AUTH_TOKEN": tokA}, Secrets{[]byte(tokA)}},
		// One variable holds one token: Habitat's has no separator.
		{map[string]string{"TEND_GATEWAY_AUTH_TOKEN": "a,b-c"}, Secrets{[]byte("a,b-c")}},
	}
	for _, tt := range tests {
		c, err := loadLayers(t, layers{env: tt.env, file: "http:\n  auth_tokens: [" + tokC + "]\n"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, c.HTTP.Tokens); diff != "" {
			t.Errorf("env %v: HTTP.Tokens (-want +got):\n%s", tt.env, diff)
		}
	}
	c, err := loadLayers(t, layers{env: map[string]string{"TEND_MONITOR_API_KEYS": tokA + "," + tokB}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Monitor.APIKeys) != 2 {
		t.Errorf("TEND_MONITOR_API_KEYS gave %d keys; want 2", len(c.Monitor.APIKeys))
	}
}

// TestSecretsNeverPrinted prints a Config every way a log line or a debug
// dump might, and looks for the tokens.
func TestSecretsNeverPrinted(t *testing.T) {
	c := Default()
	c.HTTP.Tokens = Secrets{[]byte(tokA), []byte("short")}
	c.Monitor.APIKeys = Secrets{[]byte(tokB)}

	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		outs = append(outs, fmt.Sprintf(verb, c), fmt.Sprintf(verb, &c), fmt.Sprintf(verb, c.HTTP.Tokens))
	}
	outs = append(outs, fmt.Sprint(c), fmt.Sprintln(c.HTTP))
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(j))
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("cfg", "config", c, "tokens", c.HTTP.Tokens)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("cfg", "config", c, "tokens", c.HTTP.Tokens)
	outs = append(outs, buf.String())

	for _, out := range outs {
		for _, secret := range []string{tokA, tokB, "short", fmt.Sprintf("%x", tokA), fmt.Sprintf("%X", tokB)} {
			if strings.Contains(out, secret) {
				t.Errorf("output shows a secret %q:\n%s", secret, out)
			}
		}
	}
	if got := fmt.Sprint(c.HTTP.Tokens); got != "[****A111 ****]" {
		t.Errorf("Sprint(tokens) = %q; want [****A111 ****]", got)
	}
	if !strings.Contains(string(j), `"Tokens":["****A111","****"]`) {
		t.Errorf("JSON = %s; want masked tokens", j)
	}
}

func TestSecretsContains(t *testing.T) {
	s := Secrets{[]byte(tokA), nil, []byte(tokB)}
	for _, tt := range []struct {
		tok  string
		want bool
	}{{tokA, true}, {tokB, true}, {tokC, false}, {"", false}, {tokA + "x", false}, {tokA[:5], false}} {
		if got := s.Contains([]byte(tt.tok)); got != tt.want {
			t.Errorf("Contains(%q) = %v; want %v", tt.tok, got, tt.want)
		}
	}
}
