package manager

import (
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/events"
	"github.com/tend-sh/tend/internal/ring"
)

// takeEvents reads every event kept after id after, as "type action
// state service|member ok" lines.
func takeEvents(t *testing.T, m *Manager, after uint64) ([]string, []events.Event) {
	t.Helper()
	rd, _ := m.Events().Follow(after + 1)
	evs, _, err := rd.Take(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		ok := ""
		if e.OK != nil {
			ok = fmt.Sprint(*e.OK)
		}
		out = append(out, strings.Join(strings.Fields(fmt.Sprintf("%s %s %s %s%s %s", e.Type, e.Action, e.State, e.Service, e.Member, ok)), " "))
	}
	return out, evs
}

// Control operations and the runners' state changes land on one stream,
// in the order they happened, numbered from 1; a failed operation says
// why; ring member changes are there too; Run's end closes the stream.
func TestEventStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fx := newFixture(t, nil)
		start := fx.m.Events().Next() - 1
		if err := fx.m.Load(bg, api.LoadRequest{Pkg: testPkg(t, "alpha", nil), Wait: true}, func(string) {}); err != nil {
			t.Fatal(err)
		}
		if err := fx.m.Stop(bg, "alpha", func(string) {}); err != nil {
			t.Fatal(err)
		}
		err := fx.m.Stop(bg, "nope", func(string) {})
		synctest.Wait()
		got, evs := takeEvents(t, fx.m, start)
		want := []string{
			"service.state up alpha.default",
			"control load true",
			"service.state stopping alpha.default",
			"service.state down alpha.default",
			"control stop true",
			"control stop false",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if last := evs[len(evs)-1]; last.Error != err.Error() || !strings.Contains(last.Text, "stop nope failed") {
			t.Errorf("failed stop: %+v", last)
		}
		for i, e := range evs {
			if e.ID != start+1+uint64(i) || e.At.IsZero() {
				t.Errorf("event %d: id %d, at %v", i, e.ID, e.At)
			}
		}

		before := fx.m.Events().Next() - 1
		fx.ring.set([]ring.Member{{ID: "m1", Health: "alive"}, {ID: "m2", Health: "suspect"}}, nil)
		time.Sleep(time.Second) // past the ring loop's coalescing, in the bubble's time
		synctest.Wait()
		got, _ = takeEvents(t, fx.m, before)
		if !strings.Contains(strings.Join(got, "\n"), "ring.member suspect m2") {
			t.Errorf("member events %q", got)
		}

		rd, _ := fx.m.Events().Follow(0)
		fx.stop()
		for {
			_, _, err := rd.Take(nil, 0)
			if err == events.ErrClosed {
				break
			}
			if err != nil {
				t.Fatalf("after Run: %v", err)
			}
		}
	})
}
