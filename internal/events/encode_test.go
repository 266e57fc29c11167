package events

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

// marshal is the oracle: the event as encoding/json writes it.
func marshal(t *testing.T, e *Event) string {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEncodeIsMarshal(t *testing.T) {
	yes, no := true, false
	f := func(v float64) *float64 { return &v }
	at := time.Date(2026, 12, 3, 9, 30, 1, 123456789, time.UTC)
	for _, e := range []Event{
		{},
		{ID: 1, Type: ServiceState, At: at, Service: "redis.default", State: "up", From: "starting", PID: 4242, Text: "redis.default is up"},
		{ID: 2, Type: ServiceRestart, At: at.In(time.FixedZone("x", 3600)), Backoff: f(1.5), NextStart: at.Add(time.Second), Text: "restart"},
		{ID: 3, Type: Control, OK: &no, Error: "package <core/redis> & \"friends\" not found", Action: "load", Text: "tab\there\nline"},
		{ID: 4, Type: ServiceHealth, Output: "ünïcode \u2028 \x00 \xff bad", OK: &yes, Text: "health"},
		{Backoff: f(0)}, {Backoff: f(1e-7)}, {Backoff: f(1e21)}, {Backoff: f(123456.789)}, {Backoff: f(-2)},
		{PID: -1, Member: "abc", Reason: "user.toml changed"},
	} {
		if got, want := string(e.encode(nil)), marshal(t, &e); got != want {
			t.Errorf("encode:\n got %s\nwant %s", got, want)
		}
	}
}

func FuzzEncode(f *testing.F) {
	f.Add(uint64(1), "service.state", "redis.default", "up", "<b>&</b>", 42, 1.5, int64(1764754201123456789), true)
	f.Add(uint64(0), "", "", "\xff\u2029", "\x7f", 0, math.Inf(1), int64(0), false)
	f.Fuzz(func(t *testing.T, id uint64, typ, service, state, text string, pid int, backoff float64, at int64, ok bool) {
		// time.Unix(0, at) stays within the years MarshalJSON takes.
		e := Event{ID: id, Type: typ, Service: service, State: state, Text: text, PID: pid, At: time.Unix(0, at).UTC(), Error: text, Reason: state}
		if !math.IsNaN(backoff) && !math.IsInf(backoff, 0) {
			e.Backoff = &backoff
		}
		if ok {
			e.OK, e.NextStart = &ok, e.At
		}
		if got, want := string(e.encode(nil)), marshal(t, &e); got != want {
			t.Fatalf("encode:\n got %s\nwant %s", got, want)
		}
	})
}

// BenchmarkEncode is a service.state event, the most frequent kind, encoded
// as a published event is.
func BenchmarkEncode(b *testing.B) {
	e := Event{ID: 1234, Type: ServiceState, At: time.Now(), Service: "svc123.default", State: "up", From: "starting", PID: 43210, Text: "svc123.default is up (pid 43210)"}
	b.Run("encode", func(b *testing.B) {
		for b.Loop() {
			e.encode(make([]byte, 0, 256))
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(&e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
