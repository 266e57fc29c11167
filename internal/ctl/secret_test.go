package ctl

import (
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEnsureSecret(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sup", "default") // does not exist yet
	s1, err := EnsureSecret(dir)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(string(s1))
	if err != nil || len(raw) != 64 {
		t.Errorf("secret %q: not base64 of 64 bytes (%v)", s1, err)
	}
	p := filepath.Join(dir, SecretFile)
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o; want 0600", st.Mode().Perm())
	}
	b, _ := os.ReadFile(p)
	if string(b) != string(s1)+"\n" {
		t.Errorf("file holds %q; want the secret and a newline", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("state dir holds %d entries; want only %s (no temp files left)", len(entries), SecretFile)
	}

	// Second start: the same secret.
	s2, err := EnsureSecret(dir)
	if err != nil || string(s2) != string(s1) {
		t.Errorf("second EnsureSecret = %q, %v; want the first secret", s2, err)
	}
	// The CLI reads what the supervisor made.
	s3, err := ReadSecret(dir, func(string) string { return "" })
	if err != nil || string(s3) != string(s1) {
		t.Errorf("ReadSecret = %q, %v; want the supervisor's secret", s3, err)
	}
	// Another supervisor's secret differs.
	other, err := EnsureSecret(filepath.Join(t.TempDir(), "x"))
	if err != nil || string(other) == string(s1) {
		t.Errorf("two state dirs got the same secret")
	}
}

func TestEnsureSecretRefuses(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, p string)
		want  string
	}{
		{"world readable", func(t *testing.T, p string) { write(t, p, "s3cret\n", 0o644) },
			"has mode 0644, wider than 0600"},
		{"group readable", func(t *testing.T, p string) { write(t, p, "s3cret\n", 0o640) },
			"has mode 0640, wider than 0600"},
		{"empty", func(t *testing.T, p string) { write(t, p, "\n", 0o600) },
			"is empty; remove it to have a new one made"},
		{"directory", func(t *testing.T, p string) {
			if err := os.Mkdir(p, 0o700); err != nil {
				t.Fatal(err)
			}
		}, "is not a regular file"},
		{"symlink", func(t *testing.T, p string) {
			target := filepath.Join(t.TempDir(), "elsewhere")
			write(t, target, "s3cret\n", 0o600)
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
		}, "is a symbolic link; refusing it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, SecretFile)
			tt.setup(t, p)
			before, _ := os.Lstat(p)
			s, err := EnsureSecret(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) || s != nil {
				t.Fatalf("EnsureSecret = %q, %v; want an error with %q", s, err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error shows the secret: %v", err)
			}
			after, _ := os.Lstat(p)
			if before.Mode() != after.Mode() || before.ModTime() != after.ModTime() {
				t.Errorf("the refused file was changed")
			}
		})
	}
}

func write(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func TestReadSecret(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, SecretFile), "from-file\r\n", 0o600)
	tests := []struct {
		env  map[string]string
		want string
	}{
		{nil, "from-file"},
		{map[string]string{"HAB_CTL_SECRET": "from-hab\n"}, "from-hab"},
		{map[string]string{"HAB_CTL_SECRET": "from-hab", "TEND_CTL_SECRET": "from-tend"}, "from-tend"},
		{map[string]string{"TEND_CTL_SECRET": "\n"}, "from-file"}, // only a newline: unset
	}
	for _, tt := range tests {
		got, err := ReadSecret(dir, func(k string) string { return tt.env[k] })
		if err != nil || string(got) != tt.want {
			t.Errorf("ReadSecret(env %v) = %q, %v; want %q", tt.env, got, err, tt.want)
		}
	}

	_, err := ReadSecret(t.TempDir(), func(string) string { return "" })
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "TEND_CTL_SECRET") {
		t.Errorf("ReadSecret without a file = %v; want ErrNotExist with a hint", err)
	}
	empty := t.TempDir()
	write(t, filepath.Join(empty, SecretFile), "\n", 0o600)
	if _, err := ReadSecret(empty, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("ReadSecret of an empty file = %v", err)
	}
}
