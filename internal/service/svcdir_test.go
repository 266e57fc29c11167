package service

import (
	"os"
	"path/filepath"
	"testing"
)

// svc/ is made through a staging directory (for its placement on ext4):
// none is left behind, one a killed supervisor left is removed, and an
// existing svc/ with services in it is kept as it is.
func TestMakeServicesDirLeavesNoStage(t *testing.T) {
	root := t.TempDir()
	if err := MakeServicesDir(root); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(root, "svc"))
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o755 {
		t.Fatalf("svc/: %v %v", fi, err)
	}
	assertNoStage(t, root)

	os.Mkdir(filepath.Join(root, "svc", "redis"), 0o755)
	os.MkdirAll(filepath.Join(root, stagePrefix+"123", "svc-456"), 0o755) // a killed start
	if err := MakeServicesDir(root); err != nil {
		t.Fatal(err)
	}
	assertNoStage(t, root)
	if _, err := os.Stat(filepath.Join(root, "svc", "redis")); err != nil {
		t.Fatalf("existing service directory: %v", err)
	}
}

func assertNoStage(t *testing.T, root string) {
	t.Helper()
	ents, _ := os.ReadDir(root)
	for _, e := range ents {
		if e.Name() != "svc" {
			t.Fatalf("%s left in the root", e.Name())
		}
	}
}
