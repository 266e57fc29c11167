package spec

import (
	"os"
	"runtime"
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

// Parsing a spec allocates little beyond the spec itself: a restart parses
// every spec file before its first service starts, and what it allocates
// there is collected on the cores the services start on.
func TestParseAllocatesLittle(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops what it is given back at random")
	}
	data, err := os.ReadFile("testdata/tend-written.spec")
	if err != nil {
		t.Fatal(err)
	}
	const runs = 200
	Parse("x.spec", data) // the pool and the key set exist
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		if _, err := Parse("x.spec", data); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	// 6.2 KiB with a new TOML parser for each file, 2.0 KiB reusing them.
	if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 4<<10 {
		t.Fatalf("Parse allocated %d bytes a spec; want under 4 KiB", per)
	}
}
