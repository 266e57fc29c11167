package tmpl

import (
	"os"
	"testing"
)

// BenchmarkRender renders the redis.conf golden template over the golden
// context: the per-service work at supervisor start-up (data normalisation
// included, since every Render copies its data).
func BenchmarkRender(b *testing.B) {
	src, err := os.ReadFile("testdata/redis.conf.hbs")
	if err != nil {
		b.Fatal(err)
	}
	tp, err := Parse("redis.conf", string(src))
	if err != nil {
		b.Fatal(err)
	}
	data := goldenData(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tp.Render(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse is the one-off cost per template when a package loads.
func BenchmarkParse(b *testing.B) {
	src, err := os.ReadFile("testdata/redis.conf.hbs")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("redis.conf", string(src)); err != nil {
			b.Fatal(err)
		}
	}
}
