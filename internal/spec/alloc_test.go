package spec

import (
	"os"
	"testing"
)

// A spec file as tend writes it, parsed as a restart parses every one.
func BenchmarkParseTendWritten(b *testing.B) {
	data, err := os.ReadFile("testdata/tend-written.spec")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("x.spec", data); err != nil {
			b.Fatal(err)
		}
	}
}
