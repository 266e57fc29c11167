package rumor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
)

// canonicalSvc is a service rumor whose exported config holds what JSON
// can spell several ways: whole numbers, a whole float, a number too big
// for an int64, HTML characters and non-ASCII text.
func canonicalSvc(inc uint64) Rumor {
	return Rumor{Kind: KindService, Service: &Service{
		MemberID: "m1", ServiceGroup: "db.default", Package: "core/pg/16.0.0/20240101000000", Incarnation: inc, Health: "OK",
		Cfg: map[string]any{
			"port": 5432, "ratio": 0.5, "whole": 2.0, "big": uint64(math.MaxUint64),
			"html": "<a & b>", "name": "é", "nested": map[string]any{"list": []any{1, "x", true, nil}},
		},
	}}
}

// The same rumor as other members may spell it: spaces, another key order,
// numbers and strings written differently.
var otherForms = []string{
	`{"kind":"service","service":{"member_id":"m1","service_group":"db.default","package":"core/pg/16.0.0/20240101000000","incarnation":7,` +
		`"cfg":{"port":5432.0,"ratio":5e-1,"whole":2,"big":18446744073709551615,"html":"\u003ca \u0026 b\u003e","name":"\u00e9","nested":{"list":[1,"x",true,null]}},` +
		`"sys":{"ip":"","hostname":"","gossip_ip":"","gossip_port":0,"http_gateway_ip":"","http_gateway_port":0,"ctl_gateway_ip":"","ctl_gateway_port":0},"initialized":false,"health":"OK","up":false}}`,
	`{ "service" : { "health":"OK", "incarnation": 7, "service_group":"db.default", "member_id":"m1", "package":"core/pg/16.0.0/20240101000000",
	   "cfg": { "nested": {"list": [1.0, "x", true, null]}, "name": "é", "html": "<a & b>", "big": 1.8446744073709551615e19, "whole": 2.000, "ratio": 0.50, "port": 5.432e3 } },
	  "kind" : "service" }`,
}

// TestCanonicalBytesWhateverTheForm: every member stores the same bytes
// for a rumor, whether it originated it or received it in any spelling,
// alone or in a push/pull state, in any order with an older version; and
// the decoded copy it keeps is what those bytes decode to.
func TestCanonicalBytesWhateverTheForm(t *testing.T) {
	origin := NewStore()
	if !origin.Merge(canonicalSvc(7)) {
		t.Fatal("origin did not store its rumor")
	}
	want, err := origin.Encode()
	if err != nil {
		t.Fatal(err)
	}
	older, _ := json.Marshal(canonicalSvc(6))
	held := func(s *Store) []byte {
		t.Helper()
		b, err := s.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for i, form := range otherForms {
		for _, olderFirst := range []bool{false, true} {
			name := fmt.Sprintf("form %d, older first %v", i, olderFirst)
			s := NewStore()
			if olderFirst {
				if m, err := s.MergeJSON(older); err != nil || !m.Changed {
					t.Fatalf("%s: older = %+v, %v", name, m, err)
				}
			}
			m, err := s.MergeJSON([]byte(form))
			if err != nil || !m.Changed {
				t.Fatalf("%s: MergeJSON = %+v, %v", name, m, err)
			}
			if !olderFirst {
				if m, err := s.MergeJSON(older); err != nil || m.Changed {
					t.Fatalf("%s: older after = %+v, %v", name, m, err)
				}
			}
			if got := held(s); !bytes.Equal(got, want) {
				t.Fatalf("%s: stored\n%s\nwant\n%s", name, got, want)
			}
			// Received in a push/pull state, spelled the same way.
			p := NewStore()
			if _, err := p.MergeEncoded([]byte(`{"version":1,"rumors":[` + form + `]}`)); err != nil {
				t.Fatalf("%s: MergeEncoded: %v", name, err)
			}
			if got := held(p); !bytes.Equal(got, want) {
				t.Fatalf("%s: stored from a state\n%s\nwant\n%s", name, got, want)
			}
			// The copy kept is the canonical bytes decoded: whole numbers
			// are int64 on every member, as on one that decodes them.
			r, _ := s.Get("service/db.default/m1")
			if _, ok := r.Service.Cfg["port"].(int64); !ok {
				t.Fatalf("%s: port held as %T", name, r.Service.Cfg["port"])
			}
			if _, ok := r.Service.Cfg["whole"].(int64); !ok {
				t.Fatalf("%s: whole held as %T", name, r.Service.Cfg["whole"])
			}
		}
	}
	// The canonical bytes are a fixed point: merged as received, they are
	// stored as they are, and change nothing where held.
	s := NewStore()
	if _, err := s.MergeEncoded(want); err != nil {
		t.Fatal(err)
	}
	if got := held(s); !bytes.Equal(got, want) {
		t.Fatalf("canonical state re-stored as\n%s\nwant\n%s", got, want)
	}
	if changed, err := s.MergeEncoded(want); changed || err != nil {
		t.Fatalf("merging a held state again = %v, %v", changed, err)
	}
}

// TestEncodeIsMarshal: Encode writes the document itself; it must be the
// bytes json.Marshal made of it before, which older members decode.
func TestEncodeIsMarshal(t *testing.T) {
	s := NewStore()
	for _, r := range []Rumor{canonicalSvc(1), cfg("g", 2, "a = \"<&>\"\n"), file("g", "f", 1, "\x00"), dep("m9")} {
		s.Merge(r)
	}
	for _, st := range []*Store{NewStore(), s} {
		got, err := st.Encode()
		if err != nil {
			t.Fatal(err)
		}
		doc := encoded{Version: encodingVersion, Rumors: []json.RawMessage{}}
		for _, k := range keysOf(st) {
			doc.Rumors = append(doc.Rumors, st.m[k].enc)
		}
		want, _ := json.Marshal(doc)
		if !bytes.Equal(got, want) {
			t.Fatalf("Encode\n%s\njson.Marshal\n%s", got, want)
		}
	}
}

func keysOf(s *Store) []string {
	var ks []string
	for _, r := range s.All() {
		ks = append(ks, r.Key())
	}
	return ks
}

// TestHeldAndStaleRumorsAreCheap: a push/pull state a member holds already
// (a ring at rest exchanges nothing else) is merged without decoding its
// rumors, and a stale rumor costs less than decoding it (its head is
// read, not its config). Before, each was decoded, encoded, decoded and
// encoded again: ~140 allocations a rumor.
func TestHeldAndStaleRumorsAreCheap(t *testing.T) {
	state := ringState(t, 50, 2)
	s := NewStore()
	if _, err := s.MergeEncoded(state); err != nil {
		t.Fatal(err)
	}
	n := s.Len()
	if a := testing.AllocsPerRun(20, func() { _, _ = s.MergeEncoded(state) }); a > float64(2*n) {
		t.Errorf("merging a held state of %d rumors: %.0f allocations, want at most %d", n, a, 2*n)
	}
	older, _ := json.Marshal(canonicalSvc(6))
	if _, err := s.MergeJSON(mustJSON(t, canonicalSvc(7))); err != nil {
		t.Fatal(err)
	}
	decode := testing.AllocsPerRun(20, func() {
		var r Rumor
		_ = json.Unmarshal(older, &r)
	})
	if a := testing.AllocsPerRun(20, func() { _, _, _, _, _ = s.mergeJSON(older, true, Rumor{}) }); a > decode/2 {
		t.Errorf("a stale rumor: %.0f allocations, decoding it %.0f", a, decode)
	}
	if m, err := s.MergeJSON(older); err != nil || m.Changed || m.Rumor.Incarnation() != 7 {
		t.Errorf("stale rumor merged: %+v, %v", m, err)
	}
}

func mustJSON(t *testing.T, r Rumor) []byte {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMergeJSONBadInput: a rumor that does not decode or is invalid
// changes nothing and says why.
func TestMergeJSONBadInput(t *testing.T) {
	s := NewStore()
	for _, b := range []string{`{`, `{"kind":"service"}`, `{"kind":"config","config":{"service_group":"a/b","incarnation":1}}`} {
		m, err := s.MergeJSON([]byte(b))
		if err == nil || m.Changed || s.Len() != 0 {
			t.Fatalf("%s: %+v, %v; store holds %d", b, m, err, s.Len())
		}
	}
	if m, _ := s.MergeJSON([]byte(`{"kind":"config"}`)); m.Kind != KindConfig {
		t.Fatalf("kind of an invalid rumor = %q, want config (for the traffic counters)", m.Kind)
	}
	if !strings.Contains(fmt.Sprint(s.MergeJSON([]byte(`{"kind":"nope","departure":{"member_id":"x"}}`))), "unknown kind") {
		t.Fatalf("unknown kind not reported")
	}
}

// TestStateThatDoesNotDecodeChangesNothing: a state in Encode's frame with
// a broken rumor inside is refused whole, as json.Unmarshal refused it,
// though it is split without being decoded.
func TestStateThatDoesNotDecodeChangesNothing(t *testing.T) {
	good := `{"kind":"config","config":{"service_group":"g","incarnation":1,"from_id":"m1","config":null}}`
	for _, doc := range []string{
		`{"version":1,"rumors":[` + good + `,{"kind":]}`,
		`{"version":1,"rumors":[` + good + `,]}`,
		`{"version":1,"rumors":[` + good + `,{"kind":"x\"}]}`,
		`{"version":1,"rumors":[` + good + `}]}`,
	} {
		s := NewStore()
		if _, err := s.MergeEncoded([]byte(doc)); err == nil || !strings.Contains(err.Error(), "decode store") || s.Len() != 0 {
			t.Fatalf("%s: err %v, store holds %d", doc, err, s.Len())
		}
	}
	s := NewStore()
	if changed, err := s.MergeEncoded([]byte(`{"version":1,"rumors":[` + good + `,` + good + `]}`)); !changed || err != nil || s.Len() != 1 {
		t.Fatalf("good state: %v, %v, %d held", changed, err, s.Len())
	}
}
