package manager

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tend-sh/tend/internal/api"
)

// sup restart: a supervisor that cannot hand over says so (and the event
// stream records the refusal); one that can passes the binary on; a
// hand-over that fails after its check is reported by sup stats, where
// the CLI waiting for the new binary looks.
func TestHandover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, nil)
		start := fx.m.Events().Next() - 1
		err := fx.m.Handover(bg, "/usr/bin/tend-new", func(string) {})
		if api.KindOf(err) != api.Conflict || !strings.Contains(err.Error(), "cannot hand over") {
			t.Fatalf("hand-over without support: %v, want a conflict", err)
		}
		if got, _ := takeEvents(t, fx.m, start); len(got) != 1 || got[0] != "control sup restart false" {
			t.Fatalf("events %q", got)
		}
		if st, _ := fx.m.Stats(bg); st.HandoverError != "" {
			t.Fatalf("a refused hand-over reported as failed: %+v", st)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		var asked []string
		fx := newFixture(t, func(c *Config) {
			c.Handover = func(_ context.Context, binary string, progress func(string)) error {
				asked = append(asked, binary)
				progress("checked " + binary)
				if binary == "/bad" {
					return api.Errorf(api.BadRequest, "%s is not a tend binary", binary)
				}
				return nil
			}
		})
		var p progress
		if err := fx.m.Handover(bg, "/usr/bin/tend-new", p.add); err != nil || p.String() != "checked /usr/bin/tend-new" {
			t.Fatalf("hand-over: %v, progress %q", err, p.String())
		}
		if err := fx.m.Handover(bg, "/bad", p.add); api.KindOf(err) != api.BadRequest {
			t.Fatalf("hand-over to a bad binary: %v", err)
		}
		if len(asked) != 2 {
			t.Fatalf("hand-over asked for %q", asked)
		}
		fx.m.HandoverFailed(errors.New("the new supervisor exited with code 2"))
		if st, _ := fx.m.Stats(bg); st.HandoverError != "the new supervisor exited with code 2" {
			t.Fatalf("stats after a failed hand-over: %+v", st)
		}
	})
}

// FlushOutput, before a hand-over, returns once every loaded service's
// runner has written what it has; a deadline that passes first ends it
// with that error, not a hang.
func TestFlushOutput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.load(t, testPkg(t, "alpha", nil))
		fx.load(t, testPkg(t, "beta", nil))
		if err := fx.m.FlushOutput(bg); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(bg)
		cancel()
		if err := fx.m.FlushOutput(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("flush with a cancelled context: %v", err)
		}
	})
}

// When the ring refuses a rumor, config apply and file upload are refused
// with its reason, depart too; a service unloaded or loaded meanwhile is
// gossiped once the ring takes rumors again, not forgotten.
func TestRingRefusals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.load(t, testPkg(t, "alpha", nil))
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		if rs := fx.ring.serviceRumors("alpha.default"); len(rs) == 0 {
			t.Fatal("alpha not gossiped")
		}
		full := errors.New("rumor store full")
		fx.ring.refusing(full)
		var p progress
		if err := fx.m.ConfigApply(bg, api.ConfigApply{ServiceGroup: "alpha.default", Version: 2, Config: []byte("x = 1\n")}, p.add); api.KindOf(err) != api.Conflict || !strings.Contains(err.Error(), full.Error()) {
			t.Fatalf("config apply: %v", err)
		}
		if err := fx.m.FileUpload(bg, api.FileUpload{ServiceGroup: "alpha.default", Filename: "f", Version: 1}, p.add); api.KindOf(err) != api.Conflict || !strings.Contains(err.Error(), full.Error()) {
			t.Fatalf("file upload: %v", err)
		}
		if err := fx.m.Depart(bg, "m9", p.add); api.KindOf(err) != api.BadRequest || !strings.Contains(err.Error(), full.Error()) {
			t.Fatalf("depart: %v", err)
		}
		if p.String() != "" {
			t.Fatalf("refused operations reported progress %q", p.String())
		}

		if err := fx.m.Unload(bg, "alpha", p.add); err != nil {
			t.Fatal(err)
		}
		fx.load(t, testPkg(t, "beta", nil))
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		if rs := fx.ring.serviceRumors("beta.default"); len(rs) != 0 {
			t.Fatalf("beta gossiped while the ring refuses: %+v", rs)
		}

		fx.ring.refusing(nil)
		fx.m.SetHealth(bg, false, "") // publishes: the ring loop gossips again
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		if rs := fx.ring.serviceRumors("alpha.default"); len(rs) == 0 || !rs[len(rs)-1].Gone {
			t.Fatalf("alpha's unload not gossiped once the ring took rumors again: %+v", rs)
		}
		if rs := fx.ring.serviceRumors("beta.default"); len(rs) == 0 || !rs[len(rs)-1].Up {
			t.Fatalf("beta not gossiped once the ring took rumors again: %+v", rs)
		}
	})
}
