package rumor

import (
	"testing"

	"go.uber.org/goleak"
)

// A long document is decoded by goroutines of its own (decodeAll): none
// may outlive the merge.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
