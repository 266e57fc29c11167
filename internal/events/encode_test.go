package events

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"
)

// reference is the event as encoding/json encodes it (nothing for a time
// it refuses).
func reference(e Event) []byte {
	e.raw = nil
	b, _ := json.Marshal(&e)
	return b
}

func ptr[T any](v T) *T { return &v }

func sampleEvents() []Event {
	at := time.Date(2026, 12, 2, 17, 3, 4, 567891234, time.UTC)
	return []Event{
		{ID: 1, Type: ServiceState, At: at, Service: "web.default", State: "up", From: "starting", PID: 4242, Text: "web.default is up"},
		{ID: 2, Type: ServiceRestart, At: at.In(time.FixedZone("x", -7*3600)), Service: "db.prod@acme", Backoff: ptr(2.5), NextStart: at.Add(2500 * time.Millisecond), Text: "restart in 2.5s"},
		{ID: 3, Type: ServiceRestart, At: at, Backoff: ptr(0.0), Text: "t"},
		{ID: 4, Type: ServiceRestart, At: at, Backoff: ptr(1e-7), Text: "t"},
		{ID: 5, Type: ServiceRestart, At: at, Backoff: ptr(3e21), Text: "t"},
		{ID: 6, Type: Control, At: at, Action: "load", OK: ptr(false), Error: `package "a/b" not found: <none> & more`, Text: "load failed"},
		{ID: 7, Type: ServiceHealth, At: at, Service: "s.d", State: "critical", Output: "line1\nline2\t\"quoted\" \\ \x01 \u2028 é \xff", Text: "health"},
		{ID: 8, Type: RingMember, At: at, Member: "abc", State: "alive", OK: ptr(true), Text: ""},
		{ID: math.MaxUint64, Type: ServiceConfig, At: time.Unix(0, 0), Action: "restarted", Reason: "user.toml changed", Text: "DEL\x7f"},
		{ID: 9, Type: ServiceState, At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Text: "a year json refuses"},
		{ID: 10, Type: ServiceState, At: at, NextStart: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), Text: "so is this"},
	}
}

// Every event a follower receives reads exactly as encoding/json writes it.
func TestEventJSONIsEncodingJSON(t *testing.T) {
	for _, e := range sampleEvents() {
		want := reference(e)
		if got := e.JSON(); !bytes.Equal(got, want) {
			t.Errorf("event %d:\n got %s\nwant %s", e.ID, got, want)
		}
	}
}

func FuzzEventJSON(f *testing.F) {
	f.Add(uint64(1), "service.state", int64(1764694984567891234), "web.default", "up", "", 42, 2.5, true, "err <x>", "text")
	f.Fuzz(func(t *testing.T, id uint64, typ string, ns int64, svc, state, from string, pid int, backoff float64, ok bool, errText, text string) {
		e := Event{ID: id, Type: typ, At: time.Unix(0, ns).UTC(), Service: svc, State: state, From: from, PID: pid,
			Error: errText, Text: text, OK: &ok, Output: from + text, NextStart: time.Unix(0, ns/2)}
		if !math.IsNaN(backoff) && !math.IsInf(backoff, 0) {
			e.Backoff = &backoff
		}
		if got, want := e.JSON(), reference(e); !bytes.Equal(got, want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}

// Encoding each published event (1,500 and more while 500 services
// start) without reflection.
func BenchmarkEventJSON(b *testing.B) {
	e := Event{ID: 12345, Type: ServiceState, At: time.Now(), Service: "svc123.default", State: "up", From: "starting", PID: 81234, Text: "svc123.default is up (pid 81234)"}
	b.ReportAllocs()
	for b.Loop() {
		e.raw = nil
		e.JSON()
	}
}
