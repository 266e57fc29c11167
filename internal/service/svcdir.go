package service

import (
	"fmt"
	"os"
	"path/filepath"
)

// MakeServicesDir creates ROOT/svc, where every service's directories
// live.
func MakeServicesDir(root string) error {
	dir := filepath.Join(root, "svc")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return nil
}
