package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A binary another user could have written is never re-executed as.
func TestCheckOwnerRefusesWritableBinaries(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok")
	os.WriteFile(ok, []byte("x"), 0o755)
	if err := checkOwner(ok); err != nil {
		t.Fatalf("own binary: %v", err)
	}
	loose := filepath.Join(dir, "loose")
	os.WriteFile(loose, []byte("x"), 0o755)
	os.Chmod(loose, 0o777)
	if err := checkOwner(loose); err == nil || !strings.Contains(err.Error(), "writable by other users") {
		t.Fatalf("mode 0777: %v", err)
	}
	if err := checkOwner(dir); err == nil {
		t.Fatal("a directory was accepted")
	}
	if err := checkOwner(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("missing: %v", err)
	}
}
