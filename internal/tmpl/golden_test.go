package tmpl

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tend-sh/tend/internal/svccfg"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// goldenData is the render context of testdata/context.json with cfg made
// the way the supervisor makes it: default.toml merged with user.toml.
func goldenData(t testing.TB) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("testdata/context.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var data map[string]any
	if err := dec.Decode(&data); err != nil {
		t.Fatal(err)
	}
	var l svccfg.Layers
	for _, f := range []struct {
		path  string
		layer *map[string]any
	}{{"testdata/default.toml", &l.Default}, {"testdata/user.toml", &l.User}} {
		b, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if *f.layer, err = svccfg.ParseTOML(f.path, b); err != nil {
			t.Fatal(err)
		}
	}
	data["cfg"] = l.Merged()
	return data
}

// TestGolden renders Habitat-style plan templates (a redis.conf, an nginx
// upstream over a bind, a run hook, helper output, the bind list of issue
// 12) in both dialects and compares them with testdata/NAME.DIALECT.golden.
// Run with -update to accept new output.
func TestGolden(t *testing.T) {
	data := goldenData(t)
	srcs, err := filepath.Glob("testdata/*.hbs")
	if err != nil || len(srcs) == 0 {
		t.Fatalf("no templates: %v", err)
	}
	for _, src := range srcs {
		for _, d := range []Dialect{Habitat1, Handlebars} {
			name := strings.TrimSuffix(filepath.Base(src), ".hbs") + "." + d.String()
			t.Run(name, func(t *testing.T) {
				b, err := os.ReadFile(src)
				if err != nil {
					t.Fatal(err)
				}
				tp, err := ParseWith(src, string(b), d)
				if err != nil {
					t.Fatal(err)
				}
				got, err := tp.Render(data)
				if err != nil {
					t.Fatal(err)
				}
				golden := strings.TrimSuffix(src, ".hbs") + "." + d.String() + ".golden"
				if *update {
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if d := cmp.Diff(string(want), got); d != "" {
					t.Fatalf("%s differs from %s (-want +got):\n%s", src, golden, d)
				}
			})
		}
	}
}
