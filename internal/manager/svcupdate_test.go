package manager

import (
	"strings"
	"testing"
	"testing/synctest"

	"github.com/tend-sh/tend/internal/api"
)

// svc update with the options a service already has changes nothing and
// says so; with other options it changes them.
func TestUpdateWithTheSameOptionsChangesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, nil)
		dir := testPkg(t, "alpha", nil)
		fx.load(t, dir)
		req := api.UpdateRequest{Pkg: "alpha", Strategy: "at-once"}
		var first, second progress
		if err := fx.m.Update(bg, req, first.add); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(first.String(), "nothing changed") {
			t.Fatalf("first update: %q", first.String())
		}
		if err := fx.m.Update(bg, req, second.add); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(second.String(), "already has these options; nothing changed") {
			t.Fatalf("second update with the same options: %q", second.String())
		}
	})
}
