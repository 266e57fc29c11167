package svccfg

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestEnvLayer(t *testing.T) {
	for _, tc := range []struct {
		name string
		pkg  string
		vars map[string]string
		want map[string]any
	}{
		{"unset", "redis", nil, nil},
		{"empty is unset", "redis", map[string]string{"TEND_REDIS": ""}, nil},
		{"TEND TOML", "redis", map[string]string{"TEND_REDIS": "port = 1\n[tls]\non = true"},
			map[string]any{"port": int64(1), "tls": map[string]any{"on": true}}},
		{"HAB TOML", "redis", map[string]string{"HAB_REDIS": "port = 2"}, map[string]any{"port": int64(2)}},
		{"TEND wins over HAB, no merge", "redis", map[string]string{"TEND_REDIS": "port = 1", "HAB_REDIS": "port = 2\nextra = 3"},
			map[string]any{"port": int64(1)}},
		{"JSON", "redis", map[string]string{"TEND_REDIS": `{"port": 3, "ratio": 0.5, "big": 1e3, "tls": {"on": true}, "l": [1, "a"]}`},
			map[string]any{"port": int64(3), "ratio": 0.5, "big": 1000.0, "tls": map[string]any{"on": true}, "l": []any{int64(1), "a"}}},
		{"name mapping", "my-app", map[string]string{"TEND_MY_APP": "x = 1"}, map[string]any{"x": int64(1)}},
		{"only ASCII is upcased", "café", map[string]string{"TEND_CAFé": "x = 1"}, map[string]any{"x": int64(1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EnvLayer(tc.pkg, env(tc.vars))
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if got != nil {
					t.Fatalf("got %v, want nil", got)
				}
				return
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Fatalf("-want +got:\n%s", d)
			}
		})
	}
}

func TestEnvLayerErrors(t *testing.T) {
	for _, tc := range []struct {
		name, value, want string
	}{
		{"neither", "port = = 1", "TEND_REDIS is neither TOML (TEND_REDIS:1:"},
		{"JSON array", `[1, 2]`, "not an object"},
		{"JSON null", `{"a": {"b": null}}`, "null at a.b"},
		{"JSON null in array", `{"a": [1, null]}`, "null at a[1]"},
		{"trailing data", `{"a": 1} {"b": 2}`, "data after"},
		{"too large", "x = \"" + strings.Repeat("a", MaxSize) + "\"", "TEND_REDIS: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := EnvLayer("redis", env(map[string]string{"TEND_REDIS": tc.value}))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "TEND_REDIS") {
				t.Fatalf("err = %v, want it to name TEND_REDIS and contain %q", err, tc.want)
			}
		})
	}
	_, err := EnvLayer("redis", env(map[string]string{"TEND_REDIS": "x = \"" + strings.Repeat("a", MaxSize) + "\""}))
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized env layer: %v, want ErrTooLarge", err)
	}
	if _, err := EnvLayer("", env(nil)); err == nil {
		t.Error("empty package name: no error")
	}
}

func TestLayersPrecedence(t *testing.T) {
	l := Layers{
		Default: map[string]any{"a": "default", "b": "default", "c": "default", "d": "default",
			"t": map[string]any{"x": "default", "y": "default"}},
		Env:    map[string]any{"b": "env", "c": "env", "d": "env", "t": map[string]any{"x": "env"}},
		User:   map[string]any{"c": "user", "d": "user"},
		Gossip: map[string]any{"d": "gossip", "t": map[string]any{"z": "gossip"}},
	}
	want := map[string]any{"a": "default", "b": "env", "c": "user", "d": "gossip",
		"t": map[string]any{"x": "env", "y": "default", "z": "gossip"}}
	if d := cmp.Diff(want, l.Merged()); d != "" {
		t.Fatalf("-want +got:\n%s", d)
	}
	if got := (Layers{}).Merged(); got == nil || len(got) != 0 {
		t.Fatalf("empty layers merged to %v, want an empty map", got)
	}
}
