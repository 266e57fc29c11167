package supreg

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSameAddr(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"127.0.0.1:9632", "127.0.0.1:9632", true},
		{"[::]:9631", "127.0.0.1:9631", true},
		{"0.0.0.0:9631", "10.1.2.3:9631", true},
		{"127.0.0.1:9632", "localhost:9632", true},
		{"127.0.0.1:9632", "127.0.0.2:9632", true},
		{"127.0.0.1:9632", "127.0.0.1:9633", false},
		{"10.0.0.1:9631", "10.0.0.2:9631", false},
		{"nonsense", "127.0.0.1:9632", false},
	} {
		if got := SameAddr(tc.a, tc.b); got != tc.want {
			t.Errorf("SameAddr(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// A registered supervisor is found by its control address until it goes;
// an entry whose process is gone (here: another start time) is ignored
// and removed.
func TestRegisterAndFind(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tend")
	remove, err := Register(dir, Entry{Root: "/r", Name: "default", Listen: map[string]string{"ctl": "127.0.0.1:9632", "http": "[::]:9631"}})
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := ControlRoot(dir, "localhost:9632"); !ok || e.Root != "/r" || e.PID != os.Getpid() {
		t.Fatalf("ControlRoot = %+v, %v", e, ok)
	}
	if e, name, ok := Holding(dir, "0.0.0.0:9631"); !ok || name != "http" || e.Root != "/r" {
		t.Fatalf("Holding = %+v %s %v", e, name, ok)
	}
	stale := filepath.Join(dir, "sup.1.json")
	if err := os.WriteFile(stale, []byte(`{"pid":1,"start":1,"root":"/stale","listen":{"ctl":"127.0.0.1:1"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := ControlRoot(dir, "127.0.0.1:1"); ok {
		t.Fatal("a stale entry was found")
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatal("a stale entry was kept")
	}
	remove()
	if _, ok := ControlRoot(dir, "127.0.0.1:9632"); ok {
		t.Fatal("found after removal")
	}
	// A directory others can write is not read.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := Register(dir, Entry{}); err == nil {
		t.Fatal("registered in a world-writable directory")
	}
}
