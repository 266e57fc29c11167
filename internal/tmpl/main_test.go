package tmpl

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind. raymond's
// parser leaks its lexer goroutine on every syntax error; Parse's own check
// must keep raymond's parser from ever seeing one, and this proves it across
// every error case below.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
