package tmpl

import (
	"strings"
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

// TestParseErrorsDoNotLeak is the case that leaks a goroutine when given
// to raymond.Parse directly: an error with tokens still to come.
func TestParseErrorsDoNotLeak(t *testing.T) {
	for _, src := range []string{
		"{{#if x}}{{/each}} more {{tokens}} here",
		"{{x y=}} and {{more}}",
		"{{#each a as ||}}{{/each}} {{z}}",
		"{{else}} {{a}} {{b}}",
		// Large, with the mistake on line 1: the rest is still drained.
		"{{#if x}}{{/each}}" + strings.Repeat(" {{a}} {{b c=1}}\n", 1000),
	} {
		if _, err := Parse("t.hbs", src); err == nil {
			t.Fatalf("Parse(%q): no error", src)
		}
	}
	goleak.VerifyNone(t)
}
