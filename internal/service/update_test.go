package service

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/service/servicetest"
)

// A package update restarts a running service on the new package: its
// status names the new ident, its last exit says package_updated, and the
// run hook rendered is the new package's.
func TestUpdatePackageRestartsOnIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		fx := newFixture(t, f, testPkg(t, map[string]string{}))
		defer fx.close()
		synctest.Wait()
		p2 := testPkg(t, map[string]string{"run": "#!/bin/sh\nexec sleep 2000\n"})
		p2.Ident.Version = "2.0.0"
		if err := fx.r.UpdatePackage(context.Background(), p2); err != nil {
			t.Fatal(err)
		}
		if got := fx.r.Package(); got != "test/svc/2.0.0/20260101000000" {
			t.Fatalf("Package() = %s right after the update", got)
		}
		s, _ := fx.r.WaitFor(context.Background(), func(s *api.Service) bool { return s.Running && f.Count("run") == 2 })
		if s.Pkg.Ident != "test/svc/2.0.0/20260101000000" || s.LastExit == nil || s.LastExit.Reason != PackageUpdated {
			t.Fatalf("after the update: pkg %s, last exit %+v %+v", s.Pkg.Ident, s.LastExit, s.Records)
		}
		var seen bool
		for _, r := range s.Records {
			seen = seen || strings.Contains(r.Text, "package update: test/svc/1.0.0/20260101000000 to test/svc/2.0.0/20260101000000")
		}
		if !seen {
			t.Fatalf("no package update record: %+v", s.Records)
		}
	})
}

// A package without a run hook is refused and changes nothing.
func TestUpdatePackageRefusesBadPackage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := servicetest.NewStarter()
		fx := newFixture(t, f, testPkg(t, map[string]string{}))
		defer fx.close()
		synctest.Wait()
		bad := testPkg(t, map[string]string{})
		delete(bad.Hooks, "run")
		bad.Ident.Version = "2.0.0"
		if err := fx.r.UpdatePackage(context.Background(), bad); err == nil {
			t.Fatal("a package without a run hook was taken")
		}
		synctest.Wait()
		if s := fx.r.Status(); s.Pkg.Ident != "test/svc/1.0.0/20260101000000" || f.Count("run") != 1 {
			t.Fatalf("after a refused update: pkg %s, %d starts", s.Pkg.Ident, f.Count("run"))
		}
	})
}
