package service

import (
	"context"
	"testing"
	"testing/synctest"
	"unsafe"

	"github.com/tend-sh/tend/internal/service/servicetest"
)

// A published status is never written again: a reader holding one (a
// snapshot, a gateway response being encoded) sees it as it was, while
// the runner goes on from it.
func TestPublishedStatusNeverChanges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		f := servicetest.NewStarter()
		fx := newFixture(t, f, testPkg(t, map[string]string{}))
		defer fx.close()
		synctest.Wait()
		up := fx.r.Status()
		if !up.Running || !up.DesiredUp {
			t.Fatalf("not up: %+v", up)
		}
		pid, records := up.PID, len(up.Records)
		if err := fx.r.SetDesired(ctx, false); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if s := fx.r.Status(); s.Running || s.DesiredUp || len(s.Records) <= records {
			t.Fatalf("after stop: %+v", s)
		}
		if !up.Running || !up.DesiredUp || up.PID != pid || len(up.Records) != records {
			t.Fatalf("the status published while up was changed: %+v", up)
		}
	})
}

// What a runner holds between starts is paid once per service: 500 of
// them on a host. Its state must stay within the 1 KiB size class (it was
// 1.75 KiB with a working copy of the status beside the published one).
func TestRunnerStateSize(t *testing.T) {
	if n := unsafe.Sizeof(state{}); n > 1024 {
		t.Errorf("a runner's state is %d bytes, over 1024", n)
	}
}
