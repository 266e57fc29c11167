package process

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// The splitter must give the same lines however the reads are cut.
func TestPumpSplitsAcrossReads(t *testing.T) {
	long := strings.Repeat("x", maxLine)
	input := "a\n\nbc\n" + long + "\n" + long + "yz\n" + long + long + "tail"
	want := []string{"a", "", "bc", long, long, "yz", long, long, "tail"}
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 1))
		var got []string
		pm := &pump{emit: func(b []byte) { got = append(got, string(b)) }}
		for rest := input; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(3*maxLine/2))
			if seed%2 == 0 {
				n = min(len(rest), 1+rng.IntN(8))
			}
			pm.write([]byte(rest[:n]))
			rest = rest[n:]
			if len(pm.partial) > maxLine {
				t.Fatalf("seed %d: holding %d bytes", seed, len(pm.partial))
			}
		}
		if len(pm.partial) > 0 {
			pm.emit(pm.partial)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d: got %d lines, want %d", seed, len(got), len(want))
		}
	}
}
