package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A supervisor whose state cannot be set up exits with one error line; it
// does not hang.
func TestSupRunWithBadStateExitsWithOneLine(t *testing.T) {
	root := t.TempDir()
	state := filepath.Join(root, "sup", "default")
	if err := os.MkdirAll(state, 0o755); err != nil {
		t.Fatal(err)
	}
	specs := filepath.Join(state, "specs")
	if err := os.WriteFile(specs, []byte("not a directory\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tendBin(), "sup", "run", "--root", root,
		"--listen-ctl", "127.0.0.1:0", "--listen-http", "127.0.0.1:0", "--listen-gossip", "127.0.0.1:0")
	var stderr syncBuf
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("tend sup run hung with a specs directory that is a file; stderr:\n%s", stderr.String())
	}
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() == 0 {
		t.Fatalf("tend sup run: %v, want a non-zero exit; stderr:\n%s", err, stderr.String())
	}
	var errLines []string
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if strings.HasPrefix(l, "tend: ") {
			errLines = append(errLines, l)
		}
	}
	if len(errLines) != 1 || !strings.Contains(errLines[0], specs) {
		t.Fatalf("want one error line naming %s; stderr:\n%s", specs, stderr.String())
	}
	if b, err := os.ReadFile(specs); err != nil || string(b) != "not a directory\n" {
		t.Fatalf("the file in the way was changed: %q, %v", b, err)
	}
}
