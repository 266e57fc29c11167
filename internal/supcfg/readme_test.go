package supcfg

import (
	"os"
	"strings"
	"testing"
)

// The README carries the option table too (SPEC §9); it must not drift
// from the options the code has.
func TestReadmeListsEveryOption(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(MarkdownTable()), "\n") {
		if !strings.Contains(string(readme), line) {
			t.Errorf("README.md lacks the option row (copy it from docs/CONFIG.md):\n%s", line)
		}
	}
}
