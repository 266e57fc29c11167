package rumor

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// oddStrings are strings JSON can spell several ways, or that Marshal
// escapes, replaces or writes raw.
var oddStrings = []string{
	"", "plain", `quo"te`, `back\slash`, "tab\tnl\nret\rbs\bff\f", "nul\x00 esc\x1b unit\x1f del\x7f",
	"<a & b>", "é ü 日本 🦀", "\u2028 \u2029", "\ufffd", "bad \xff utf8", "/slash/", `\u0041`,
}

// fastRumors are rumors of every kind whose canonical encodings fastDecode
// must read itself: odd strings in every string, empty and absent
// configs and bodies, numbers at their limits.
func fastRumors() []Rumor {
	var rs []Rumor
	sys := Sys{IP: "192.0.2.2", Hostname: "vm", GossipIP: "127.0.0.1", GossipPort: 46141, HTTPGatewayIP: "127.0.0.1",
		HTTPGatewayPort: math.MaxInt, CtlGatewayIP: "::1", CtlGatewayPort: math.MinInt}
	service := func(member string, cfg map[string]any) Rumor {
		return Rumor{Kind: KindService, Service: &Service{MemberID: member, ServiceGroup: "svc1.default",
			Package: "bench/svc1/1.0.0/20260101000000", Incarnation: 1796287745311279123, Cfg: cfg, Sys: sys,
			Initialized: true, Health: "UNKNOWN", Up: true}}
	}
	rs = append(rs, service("m1", nil), service("m1", map[string]any{}), canonicalSvc(0), canonicalSvc(math.MaxUint64))
	for i, s := range oddStrings {
		r := service("m"+s, map[string]any{s: s, "list": []any{s, []any{}, map[string]any{}}, "nested": map[string]any{s: nil, s + "2": false}})
		r.Service.Package, r.Service.Health, r.Service.Sys.Hostname = s, s, s
		r.Service.NotReady, r.Service.Gone = i%2 == 0, i%3 == 0
		rs = append(rs, r,
			Rumor{Kind: KindConfig, Config: &Config{ServiceGroup: "g" + s, Incarnation: uint64(i), FromID: s, Config: []byte(s)}},
			Rumor{Kind: KindFile, File: &File{ServiceGroup: "g", Filename: "f" + s, Incarnation: 1, FromID: s, Body: []byte(s)}},
			Rumor{Kind: KindDeparture, Departure: &Departure{MemberID: "m" + s}},
			Rumor{Kind: KindUpdate, Update: &Update{ServiceGroup: "g" + s, Package: "a/b/c/" + s, Incarnation: 3, FromID: "m" + s}},
			Rumor{Kind: KindElection, Election: &Election{MemberID: "m" + s, ServiceGroup: "g", Term: 2, Suitability: math.MaxUint64,
				Status: Running, Votes: []string{"m" + s, "z"}}})
	}
	numbers := map[string]any{}
	for i, n := range []any{0, 1, -1, math.MaxInt64, math.MinInt64, uint64(math.MaxUint64), 0.5, -0.5, 2.0, -2.0, 1e20, 1e21, -1e21,
		1e-6, 1e-7, -1e-7, 123456789.125, 1.7976931348623157e308, 5e-324, math.Copysign(0, -1), 1e100} {
		numbers[fmt.Sprint("n", i)] = n
	}
	rs = append(rs, service("m1", numbers), service("m1", map[string]any{"": "", "a": []any{1, 2.5, "x", true, nil}}))
	for _, body := range [][]byte{nil, {}, {0}, {0, 1}, {0, 1, 2}, bytes.Repeat([]byte{0xff}, 100)} {
		rs = append(rs, Rumor{Kind: KindConfig, Config: &Config{ServiceGroup: "g", Incarnation: 1, FromID: "m1", Config: body}},
			Rumor{Kind: KindFile, File: &File{ServiceGroup: "g", Filename: "f", Incarnation: 1, FromID: "m1", Body: body}})
	}
	for _, votes := range [][]string{nil, {}, {"a"}} {
		for _, k := range []Kind{KindElection, KindElectionUpdate} {
			rs = append(rs, Rumor{Kind: k, Election: &Election{MemberID: "m1", ServiceGroup: "g", Term: 0, Status: Finished, Votes: votes}})
		}
	}
	// Decoded fine, refused by Validate: the same error either way.
	return append(rs, service("", nil), Rumor{Kind: KindElection, Election: &Election{MemberID: "m1", ServiceGroup: "g", Status: "x"}})
}

// slowDecode is decodeAll's way with a rumor fastDecode declines, and
// every rumor's before it: encoding/json, then canonicalOf.
func slowDecode(raw []byte) decoded {
	var d decoded
	var r Rumor
	if d.err = json.Unmarshal(raw, &r); d.err != nil {
		se := (*json.SyntaxError)(nil)
		d.syntax = errors.As(d.err, &se)
		return d
	}
	if d.err = r.Validate(); d.err != nil {
		return d
	}
	d.key = r.Key()
	d.e, d.err = canonicalOf(r, raw, d.key)
	return d
}

// canonicalBytes is the canonical encoding of r, made without fastDecode.
func canonicalBytes(t testing.TB, r Rumor) []byte {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	d := slowDecode(b)
	if d.e.enc != nil {
		return d.e.enc
	}
	var c Rumor // an invalid rumor: its canonical form all the same
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if b, err = json.Marshal(c); err != nil {
		t.Fatal(err)
	}
	return b
}

// A rumor in its canonical encoding is read by fastDecode, into the value
// encoding/json reads, and decodeAll makes of it what it made before: the
// same key, value and canonical bytes (the input itself), or the same
// error. A rumor spelt otherwise is left to encoding/json.
func TestFastDecodeIsUnmarshal(t *testing.T) {
	var raws []json.RawMessage
	for _, r := range fastRumors() {
		raw := canonicalBytes(t, r)
		raws = append(raws, raw)
		got, ok := fastDecode(raw)
		if !ok {
			t.Errorf("a canonical encoding is left to encoding/json:\n%s", raw)
			continue
		}
		var want Rumor
		if err := json.Unmarshal(raw, &want); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("fastDecode read %s as\n%#v\nencoding/json as\n%#v (%v)", raw, got, want, err)
		}
		if enc, _ := json.Marshal(got); !bytes.Equal(enc, raw) {
			t.Errorf("what fastDecode read encodes as\n%s\nnot\n%s", enc, raw)
		}
	}
	for i, d := range decodeAll(raws) {
		want := slowDecode(raws[i])
		if d.key != want.key || !reflect.DeepEqual(d.e, want.e) || fmt.Sprint(d.err) != fmt.Sprint(want.err) || d.syntax != want.syntax {
			t.Errorf("decodeAll %s:\n%+v\nbefore fastDecode:\n%+v", raws[i], d, want)
		}
	}

	canon := string(canonicalBytes(t, canonicalSvc(7)))
	declined := append([]string{}, otherForms...)
	for i := range canon { // every truncation
		declined = append(declined, canon[:i])
	}
	for _, tc := range [][2]string{
		{`"cfg":{`, `"cfg": {`}, {`"incarnation":7`, `"incarnation":07`}, {`"incarnation":7`, `"incarnation":7.0`},
		{`"incarnation":7`, `"incarnation":-7`}, {`"port":5432`, `"port":5432.0`}, {`"port":5432`, `"port":-0`},
		{`"port":5432`, `"port":18446744073709551615`}, {`"ratio":0.5`, `"ratio":5e-1`}, {`"whole":2`, `"whole":2e0`},
		{`"m1"`, `"\u006d1"`}, {`"m1"`, `"m\/1"`}, {`\u003ca`, `\u003Ca`}, {`"up":false`, `"up":false,"gone":false`},
		{`"big"`, `"ratio"`}, {`"big"`, `"port"`}, {`"kind":"service"`, `"kind":"servic"`}, {`"kind":"service"`, `"kind":"config"`},
		{`"name":"é"`, `"name":"\u00e9"`}, {`"OK"`, "\"O\tK\""}, {`"OK"`, "\"O\xffK\""}, {`"OK"`, "\"O\u2028K\""}, {`"OK"`, `"O\ufffdK"`},
		{`"OK"`, `"O\u0009K"`}, {`"list":[1,`, `"list":[1 ,`}, {`}}`, `} }`},
	} {
		if !strings.Contains(canon, tc[0]) {
			t.Fatalf("%s not in %s", tc[0], canon)
		}
		declined = append(declined, strings.Replace(canon, tc[0], tc[1], 1))
	}
	cfgRumor := string(canonicalBytes(t, cfg("g", 1, "ab")))
	declined = append(declined, strings.Replace(cfgRumor, `"YWI="`, `"YWJ="`, 1), strings.Replace(cfgRumor, `"YWI="`, `"YW\nI="`, 1),
		strings.Replace(cfgRumor, `"YWI="`, `"YWI"`, 1), strings.Replace(cfgRumor, `"YWI="`, `"YW\u0049="`, 1))
	for _, b := range declined {
		if r, ok := fastDecode([]byte(b)); ok {
			t.Errorf("fastDecode read %+v from\n%s", r, b)
		}
	}
}

// A store loaded from its encoding through fastDecode is the store it was
// encoded from, built through encoding/json: the same rumors, bytes and
// digest. (The invalid rumors of fastRumors are not in either.)
func TestFastLoadIsStore(t *testing.T) {
	src := NewStore()
	for _, r := range fastRumors() {
		// Decoded first: Merge keys a rumor by the key it is given, and
		// invalid UTF-8 in one differs from its canonical form's.
		var c Rumor
		if err := json.Unmarshal(canonicalBytes(t, r), &c); err != nil {
			t.Fatal(err)
		}
		src.Merge(c)
	}
	doc, err := src.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fastState(doc); !ok {
		t.Fatal("fastState declines what Encode wrote")
	}
	loaded := NewStore()
	if _, err := loaded.MergeEncoded(doc); err != nil {
		t.Fatal(err)
	}
	got, _ := loaded.Encode()
	if !bytes.Equal(got, doc) {
		t.Errorf("loaded store encodes as\n%s\nnot\n%s", got, doc)
	}
	if loaded.Sum() != src.Sum() || !reflect.DeepEqual(loaded.All(), src.All()) {
		t.Errorf("loaded store: sum %x, %d rumors; source %x, %d", loaded.Sum(), loaded.Len(), src.Sum(), src.Len())
	}
	_, li := loaded.Digest()
	_, si := src.Digest()
	byKey := func(a, b DigestItem) int { return cmp.Compare(a.Key, b.Key) }
	slices.SortFunc(li, byKey)
	slices.SortFunc(si, byKey)
	if !slices.Equal(li, si) {
		t.Errorf("digest items differ")
	}
}

// FuzzFastDecode checks that whatever fastDecode reads, encoding/json
// reads as the same rumor and json.Marshal writes as the same bytes.
func FuzzFastDecode(f *testing.F) {
	for _, r := range fastRumors() {
		f.Add(canonicalBytes(f, r))
	}
	for _, b := range otherForms {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := fastDecode(data)
		if !ok {
			return
		}
		var want Rumor
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("fastDecode read %#v from what encoding/json refuses (%v):\n%s", got, err, data)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("fastDecode read\n%#v\nencoding/json\n%#v\nfrom %s", got, want, data)
		}
		if enc, err := json.Marshal(got); err != nil || !bytes.Equal(enc, data) {
			t.Fatalf("what fastDecode read encodes as\n%s (%v)\nnot\n%s", enc, err, data)
		}
	})
}

// fastState decodes a state in one pass into what cutting it and decoding
// each rumor makes (decodeAll), invalid rumors included; a store loaded
// from it reports the same error.
func TestFastStateIsDecodeAll(t *testing.T) {
	var raws []json.RawMessage
	for _, r := range fastRumors() {
		raws = append(raws, canonicalBytes(t, r))
	}
	doc := []byte(encodedHead)
	for i, raw := range raws {
		if i > 0 {
			doc = append(doc, ',')
		}
		doc = append(doc, raw...)
	}
	doc = append(doc, encodedTail...)
	got, ok := fastState(doc)
	if !ok {
		t.Fatal("fastState declines canonical rumors")
	}
	want := decodeAll(raws)
	if len(got) != len(want) {
		t.Fatalf("fastState read %d rumors, decodeAll %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.key != w.key || !reflect.DeepEqual(g.e, w.e) || fmt.Sprint(g.err) != fmt.Sprint(w.err) || g.syntax != w.syntax {
			t.Errorf("rumor %d: fastState\n%+v\ndecodeAll\n%+v", i, g, w)
		}
	}
	one := NewStore()
	one.Merge(other()) // not empty: each rumor merged on its own
	_, oneErr := one.MergeEncoded(doc)
	_, err := NewStore().MergeEncoded(doc)
	if err == nil || err.Error() != oneErr.Error() {
		t.Errorf("loading invalid rumors: %v; merged one by one: %v", err, oneErr)
	}
	for _, bad := range []string{encodedHead + string(raws[0]) + "," + encodedTail, encodedHead + string(raws[0]) + string(raws[1]) + encodedTail,
		encodedHead + "," + string(raws[0]) + encodedTail, `{"version":2,"rumors":[]}`} {
		if _, ok := fastState([]byte(bad)); ok {
			t.Errorf("fastState read %s", bad)
		}
	}
	if res, ok := fastState([]byte(encodedHead + encodedTail)); !ok || len(res) != 0 {
		t.Errorf("empty state: %v, %v", res, ok)
	}
}

// bumped is r one version older (odd i) or newer (even i).
func bumped(r Rumor, i int) Rumor {
	r = out(r)
	d := uint64(1)
	if i%2 == 1 {
		d = math.MaxUint64 // -1
	}
	switch {
	case r.Service != nil:
		r.Service.Incarnation += d
		r.Service.Health = "CRITICAL"
	case r.Config != nil:
		r.Config.Incarnation += d
	case r.File != nil:
		r.File.Incarnation += d
	case r.Update != nil:
		r.Update.Incarnation += d
	case r.Election != nil:
		r.Election.Votes = []string{"other"}
		if i%4 < 2 {
			r.Election.Term += d
		}
	}
	return r
}

// Rumors received from peers, alone (MergeJSON, a gossip message) or in a
// push/pull state (MergeState), into a store holding other versions of
// them: read by fastDecode, they merge as encoding/json reads them (the
// same rumors spelt with a space, which fastDecode declines), with the
// same results, errors, stored bytes and digest.
func TestMergeFromPeersFastIsSlow(t *testing.T) {
	var canon, spaced [][]byte
	base := func() *Store {
		s := NewStore()
		for i, r := range fastRumors() {
			if i%3 > 0 {
				var c Rumor
				if err := json.Unmarshal(canonicalBytes(t, r), &c); err != nil {
					t.Fatal(err)
				}
				s.Merge(bumped(c, i))
			}
		}
		return s
	}
	for _, r := range fastRumors() {
		b := canonicalBytes(t, r)
		canon = append(canon, b)
		spaced = append(spaced, append([]byte("{ "), b[1:]...))
		if _, ok := fastDecode(spaced[len(spaced)-1]); ok {
			t.Fatal("fastDecode reads a spaced rumor")
		}
	}
	state := func(rs [][]byte) []byte {
		return []byte(encodedHead + string(bytes.Join(rs, []byte(","))) + encodedTail)
	}
	type result struct {
		ms  []Merged
		err string
		enc []byte
		sum uint64
	}
	alone := func(rs [][]byte) result {
		s := base()
		var res result
		for _, b := range rs {
			m, err := s.MergeJSON(b)
			res.ms = append(res.ms, m)
			res.err += fmt.Sprintln(err)
		}
		res.enc, _ = s.Encode()
		res.sum = s.Sum()
		return res
	}
	inState := func(doc []byte) result {
		s := base()
		ms, err := s.MergeState(doc)
		enc, _ := s.Encode()
		return result{ms: ms, err: fmt.Sprint(err), enc: enc, sum: s.Sum()}
	}
	for _, tc := range []struct {
		name       string
		fast, slow result
		wantErr    string
	}{
		{"alone", alone(canon), alone(spaced), "rumor: empty member id"},
		{"in a state", inState(state(canon)), inState(state(spaced)), "rumors skipped"},
	} {
		if !reflect.DeepEqual(tc.fast, tc.slow) {
			t.Errorf("%s: read by fastDecode\n%+v\nby encoding/json\n%+v", tc.name, tc.fast, tc.slow)
		}
		if !strings.Contains(tc.fast.err, tc.wantErr) {
			t.Errorf("%s: errors %s, want the invalid rumors reported", tc.name, tc.fast.err)
		}
	}
	changed := 0
	for _, m := range alone(canon).ms {
		if m.Changed {
			changed++
		}
	}
	if changed < len(canon)/5 || changed > len(canon)/2 {
		t.Errorf("%d of %d rumors changed the store: want new, newer, stale and invalid ones", changed, len(canon))
	}
}

// FuzzFastState checks that whatever state fastState reads, encoding/json
// reads as the same rumors, each decoded as decodeAll decoded it before
// fastDecode.
func FuzzFastState(f *testing.F) {
	f.Add(persisted(f, 3))
	f.Add([]byte(encodedHead + encodedTail))
	two := string(canonicalBytes(f, dep("m1"))) + "," + string(canonicalBytes(f, cfg("g", 1, "a = 1\n")))
	f.Add([]byte(encodedHead + two + encodedTail))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, ok := fastState(data)
		if !ok {
			return
		}
		var doc encoded
		if err := json.Unmarshal(data, &doc); err != nil || doc.Version != encodingVersion || len(doc.Rumors) != len(res) {
			t.Fatalf("fastState read %d rumors; encoding/json %d, version %d (%v):\n%s", len(res), len(doc.Rumors), doc.Version, err, data)
		}
		for i, raw := range doc.Rumors {
			if w := slowDecode(raw); res[i].key != w.key || !reflect.DeepEqual(res[i].e, w.e) || fmt.Sprint(res[i].err) != fmt.Sprint(w.err) {
				t.Fatalf("rumor %d: fastState\n%+v\nencoding/json\n%+v", i, res[i], w)
			}
		}
	})
}
