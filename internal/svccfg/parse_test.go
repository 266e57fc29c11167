package svccfg

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pelletier/go-toml/v2"
)

func TestParseTOMLTypes(t *testing.T) {
	got, err := ParseTOML("default.toml", []byte(`
port = 6379
ratio = 0.5
whole = 1.0
name = "redis"
on = true
at = 1979-05-27T07:32:00Z
day = 1979-05-27
list = [1, "two", { three = 3 }]

[tls]
enabled = false

[[servers]]
host = "a"
[[servers]]
host = "b"
`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"port": int64(6379), "ratio": 0.5, "whole": 1.0, "name": "redis", "on": true,
		"at":   time.Date(1979, 5, 27, 7, 32, 0, 0, time.UTC),
		"day":  toml.LocalDate{Year: 1979, Month: 5, Day: 27},
		"list": []any{int64(1), "two", map[string]any{"three": int64(3)}},
		"tls":  map[string]any{"enabled": false},
		"servers": []any{
			map[string]any{"host": "a"},
			map[string]any{"host": "b"},
		},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("-want +got:\n%s", d)
	}
}

func TestParseTOMLEmpty(t *testing.T) {
	got, err := ParseTOML("user.toml", nil)
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("got %v, %v; want an empty, non-nil map", got, err)
	}
}

func TestParseTOMLErrors(t *testing.T) {
	for _, tc := range []struct {
		doc, want string
	}{
		{"a = 1\nb = \nc = 1", "user.toml:2:5: "},
		{"a = 1\na = 2", "user.toml:2:1: "},
		{"[t]\nx = 99999999999999999999", "user.toml:2:5: "},
		{"x = \"\xff\"", "user.toml:1:"},
	} {
		_, err := ParseTOML("user.toml", []byte(tc.doc))
		if err == nil {
			t.Fatalf("%q: no error", tc.doc)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, tc.want) || strings.Contains(msg, "\n") || strings.Contains(msg, "toml: ") {
			t.Errorf("%q: error %q, want one line starting %q", tc.doc, msg, tc.want)
		}
		var se *SyntaxError
		var de *toml.DecodeError
		if !errors.As(err, &se) || !errors.As(err, &de) {
			t.Errorf("%q: %T does not unwrap to *SyntaxError and *toml.DecodeError", tc.doc, err)
		}
	}
}

func TestParseTOMLTooLarge(t *testing.T) {
	doc := []byte("x = \"" + strings.Repeat("a", MaxSize) + "\"")
	_, err := ParseTOML("gossip", doc)
	if !errors.Is(err, ErrTooLarge) || !strings.HasPrefix(err.Error(), "gossip: ") {
		t.Fatalf("err = %v, want ErrTooLarge naming the document", err)
	}
	if _, err := ParseTOML("ok", []byte("x = \""+strings.Repeat("a", MaxSize-6)+"\"")); err != nil {
		t.Fatalf("a document of exactly MaxSize bytes: %v", err)
	}
}
