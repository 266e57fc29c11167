package svccfg

import "testing"

func TestLookup(t *testing.T) {
	cfg := map[string]any{
		"port": int64(80),
		"http": map[string]any{"port": int64(8080), "tls": map[string]any{"on": true}},
		"list": []any{int64(1)},
	}
	for _, tc := range []struct {
		path string
		want any
		ok   bool
	}{
		{"port", int64(80), true},
		{"http.port", int64(8080), true},
		{"http.tls.on", true, true},
		{"http.tls", map[string]any{"on": true}, true},
		{"http.missing", nil, false},
		{"port.x", nil, false},
		{"list.0", nil, false},
		{"", nil, false},
		{"http.", nil, false},
		{".port", nil, false},
	} {
		got, ok := Lookup(cfg, tc.path)
		if ok != tc.ok || (ok && !equalValue(got, tc.want)) {
			t.Errorf("Lookup(%q) = %v, %v; want %v, %v", tc.path, got, ok, tc.want, tc.ok)
		}
	}
}
