package service

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tend-sh/tend/internal/pkg"
)

// EXPORTS picks values out of the merged config by dotted path; a path the
// config lacks is left out, as Habitat does.
func TestExported(t *testing.T) {
	p := &pkg.Package{Exports: map[string]string{"port": "port", "tls-port": "tls.port", "missing": "no.such.key"}}
	cfg := map[string]any{"port": int64(6379), "tls": map[string]any{"enabled": false, "port": int64(6380)}}
	want := map[string]any{"port": int64(6379), "tls-port": int64(6380)}
	if got := exported(p, cfg); !cmp.Equal(got, want) {
		t.Error(cmp.Diff(want, got))
	}
}
