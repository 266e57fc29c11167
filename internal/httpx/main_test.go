package httpx

import (
	"testing"

	"go.uber.org/goleak"
)

// The TLS tests start real servers; every goroutine they start must be gone
// when the package's tests end.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
