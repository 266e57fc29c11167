package pkg

import (
	"testing"

	"go.uber.org/goleak"
)

// Install copies files with worker goroutines; none may outlive it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
