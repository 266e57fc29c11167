package spec

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// fastSeeds are spec files fastParse must read itself (what tend writes,
// every optional key set or not), files it must leave to the TOML decoder
// (kept keys, escapes, another layout), and Habitat's and tend's sample
// files (Habitat 1.6 writes what Encode writes: read either way).
func fastSeeds(t testing.TB) (fast, slow, either [][]byte) {
	five, ten, big := 5, 10, uint64(1<<40)
	from, pw := "/src", "secret"
	all := New("core/redis")
	all.Binds = []string{"db:pg.default", "cache:mc.prod@acme"}
	all.ConfigFrom, all.SvcEncryptedPassword = &from, &pw
	all.ShutdownTimeout, all.LogBackups, all.HookTimeout, all.HealthCheckGrace = &five, &ten, &five, &ten
	all.LogMaxBytes = &big
	all.HealthCheckInterval = Duration{Secs: 7, Nanos: 5}
	all.Topology, all.DesiredState = "leader", Down
	fast = [][]byte{New("bench/svc1").Encode(), all.Encode()}
	for _, name := range []string{"habitat-1.6-redis.spec", "habitat-1.6-web.spec", "tend-written.spec"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		either = append(either, b)
	}
	quoted := New(`a/b`)
	quoted.Group = `x"y`
	slow = append(slow, quoted.Encode(),
		[]byte("ident = \"a/b\"\ndesired_state = \"UP\"\n"),
		[]byte("ident = \"a/b\"\nx.y = 1\n[t]\nz = 'q'\n[[u]]\n[health_check_interval]\nsecs = 3\n"),
		[]byte("ident = \"a/b\"\ngroup = \"x\\ny\"\nchannel = '''\nz\"'''\n"))
	return fast, slow, either
}

// A spec file tend wrote is read without the TOML decoder, and into the
// very spec the decoder reads; any other file is left to the decoder.
func TestFastParseIsParse(t *testing.T) {
	fast, slow, either := fastSeeds(t)
	for _, data := range append(append(fast, slow...), either...) {
		want, werr := parseTOML("x.spec", data)
		got, gerr := Parse("x.spec", data)
		if (werr == nil) != (gerr == nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("Parse %q = %+v, %v; the TOML decoder reads %+v, %v", data, got, gerr, want, werr)
		}
	}
	for _, data := range fast {
		if _, ok := fastParse(data); !ok {
			t.Errorf("what Encode wrote is left to the TOML decoder:\n%s", data)
		}
	}
	for _, data := range slow {
		if _, ok := fastParse(data); ok {
			t.Errorf("read without the TOML decoder:\n%s", data)
		}
	}
}

// FuzzFastParse checks that whatever fastParse reads, the TOML decoder
// reads as the same spec.
func FuzzFastParse(f *testing.F) {
	fast, slow, either := fastSeeds(f)
	for _, b := range append(append(fast, slow...), either...) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := fastParse(data)
		if !ok {
			return
		}
		want, err := parseTOML("x.spec", data)
		if err != nil {
			if got.Validate() == nil {
				t.Fatalf("fastParse read %+v from a file the TOML decoder refuses (%v):\n%s", got, err, data)
			}
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("fastParse read %+v, the TOML decoder %+v:\n%s", got, want, data)
		}
	})
}

// FuzzPlainString checks that a plain string (tomlString's shortcut) is
// written as the general rules write it.
func FuzzPlainString(f *testing.F) {
	for _, s := range []string{"core/redis", "a\tb", `x"y`, "é", "\xff", "it's", "\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if plain(v) && `"`+v+`"` != styled(v) {
			t.Fatalf("%q: plain %q, styled %q", v, `"`+v+`"`, styled(v))
		}
	})
}
