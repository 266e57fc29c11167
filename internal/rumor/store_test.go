package rumor

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"pgregory.net/rapid"
)

func svc(sg, member string, inc uint64, health string) Rumor {
	return Rumor{Kind: KindService, Service: &Service{
		MemberID: member, ServiceGroup: sg, Package: "core/redis/7.0.0/20240101000000",
		Incarnation: inc, Health: health, Cfg: map[string]any{"port": 6379},
	}}
}

func cfg(sg string, inc uint64, body string) Rumor {
	return Rumor{Kind: KindConfig, Config: &Config{ServiceGroup: sg, Incarnation: inc, FromID: "m1", Config: []byte(body)}}
}

func file(sg, name string, inc uint64, body string) Rumor {
	return Rumor{Kind: KindFile, File: &File{ServiceGroup: sg, Filename: name, Incarnation: inc, FromID: "m1", Body: []byte(body)}}
}

func dep(member string) Rumor {
	return Rumor{Kind: KindDeparture, Departure: &Departure{MemberID: member}}
}

func TestKey(t *testing.T) {
	for _, tc := range []struct {
		r    Rumor
		want string
	}{
		{svc("redis.default", "m1", 1, "OK"), "service/redis.default/m1"},
		{cfg("redis.default", 1, "a=1"), "config/redis.default"},
		{file("redis.default", "cert.pem", 1, "x"), "file/redis.default/cert.pem"},
		{dep("m2"), "departure/m2"},
		{Rumor{Kind: KindConfig}, ""},
	} {
		if got := tc.r.Key(); got != tc.want {
			t.Errorf("Key() = %q, want %q", got, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	big := strings.Repeat("x", MaxBody+1)
	for _, tc := range []struct {
		name string
		r    Rumor
		want string // "" = valid
	}{
		{"service", svc("redis.default", "m1", 1, "OK"), ""},
		{"config", cfg("redis.default", 1, strings.Repeat("x", MaxBody)), ""},
		{"file", file("redis.default", "cert.pem", 1, "x"), ""},
		{"departure", dep("m1"), ""},
		{"no payload", Rumor{Kind: KindService}, "0 payloads"},
		{"two payloads", Rumor{Kind: KindService, Service: svc("a", "b", 1, "").Service, Departure: &Departure{MemberID: "x"}}, "2 payloads"},
		{"kind mismatch", Rumor{Kind: KindConfig, Departure: &Departure{MemberID: "x"}}, "without a config"},
		{"unknown kind", Rumor{Kind: "bogus", Departure: &Departure{MemberID: "x"}}, "unknown kind"},
		{"empty member", svc("redis.default", "", 1, "OK"), "empty member id"},
		{"empty group", cfg("", 1, ""), "empty service group"},
		{"slash in group", cfg("a/b", 1, ""), "contains '/'"},
		{"config too big", cfg("redis.default", 1, big), "at most 65536"},
		{"file too big", file("redis.default", "f", 1, big), "at most 65536"},
		{"file path", file("redis.default", "../etc/passwd", 1, ""), "not a base name"},
		{"file dotdot", file("redis.default", "..", 1, ""), "not a base name"},
		{"file empty", file("redis.default", "", 1, ""), "not a base name"},
		{"empty departure", dep(""), "empty member id"},
		// A peer reads a byte that is not UTF-8 as U+FFFD: the rumor would
		// sit under another key there, and the digests never agree.
		{"group not UTF-8", svc("redis.d\xe9fault", "m1", 1, "OK"), "not UTF-8"},
		{"member not UTF-8", dep("m\xff"), "not UTF-8"},
		{"file not UTF-8", file("redis.default", "caf\xe9.txt", 1, ""), "not UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate() = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestMergeRules(t *testing.T) {
	type step struct {
		r       Rumor
		changed bool
	}
	for _, tc := range []struct {
		name  string
		steps []step
		key   string
		inc   uint64
	}{
		{"higher replaces", []step{{cfg("g", 1, "a"), true}, {cfg("g", 2, "b"), true}}, "config/g", 2},
		{"lower ignored", []step{{cfg("g", 2, "a"), true}, {cfg("g", 1, "b"), false}}, "config/g", 2},
		{"equal identical ignored", []step{{cfg("g", 2, "a"), true}, {cfg("g", 2, "a"), false}}, "config/g", 2},
		{"service higher", []step{{svc("g", "m", 3, "OK"), true}, {svc("g", "m", 4, "CRITICAL"), true}, {svc("g", "m", 2, "OK"), false}}, "service/g/m", 4},
		{"file", []step{{file("g", "f", 5, "x"), true}, {file("g", "f", 5, "x"), false}, {file("g", "f", 6, "y"), true}}, "file/g/f", 6},
		{"departure permanent", []step{{dep("m"), true}, {dep("m"), false}}, "departure/m", 0},
		{"invalid ignored", []step{{cfg("", 1, ""), false}}, "config/", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStore()
			for i, st := range tc.steps {
				if got := s.Merge(st.r); got != st.changed {
					t.Fatalf("step %d: Merge = %v, want %v", i, got, st.changed)
				}
			}
			got, ok := s.Get(tc.key)
			if tc.inc == 0 && tc.name == "invalid ignored" {
				if ok {
					t.Fatalf("invalid rumor stored")
				}
				return
			}
			if !ok || got.Incarnation() != tc.inc {
				t.Fatalf("Get(%s) = %+v, %v; want incarnation %d", tc.key, got, ok, tc.inc)
			}
		})
	}
}

func TestEqualIncarnationTieBreakConverges(t *testing.T) {
	a, b := cfg("g", 3, "aaa"), cfg("g", 3, "bbb")
	s1, s2 := NewStore(), NewStore()
	s1.Merge(a)
	s1.Merge(b)
	s2.Merge(b)
	s2.Merge(a)
	e1, _ := s1.Encode()
	e2, _ := s2.Encode()
	if !bytes.Equal(e1, e2) {
		t.Fatalf("stores differ:\n%s\n%s", e1, e2)
	}
}

func TestCheck(t *testing.T) {
	s := NewStore()
	if err := s.Check(cfg("g", 0, "a")); err != nil {
		t.Fatalf("first config: %v", err)
	}
	s.Merge(cfg("g", 5, "a"))
	for _, v := range []uint64{4, 5} {
		err := s.Check(cfg("g", v, "b"))
		want := fmt.Sprintf("version %d is not higher than 5", v)
		if err == nil || err.Error() != want {
			t.Fatalf("Check(v%d) = %v, want %q", v, err, want)
		}
	}
	if err := s.Check(cfg("g", 6, "b")); err != nil {
		t.Fatalf("Check(v6) = %v", err)
	}
	s.Merge(file("g", "f", 2, "x"))
	if err := s.Check(file("g", "f", 2, "y")); err == nil || err.Error() != "version 2 is not higher than 2" {
		t.Fatalf("Check(file v2) = %v", err)
	}
	if err := s.Check(file("g", "other", 1, "y")); err != nil {
		t.Fatalf("Check(other file) = %v", err)
	}
	if err := s.Check(cfg("g", 9, strings.Repeat("x", MaxBody+1))); err == nil {
		t.Fatalf("Check accepted an oversized config")
	}
}

func TestDepartedAndAll(t *testing.T) {
	s := NewStore()
	s.Merge(svc("g", "m2", 1, "OK"))
	s.Merge(dep("m2"))
	s.Merge(cfg("g", 1, "a"))
	if !s.Departed("m2") || s.Departed("m1") {
		t.Fatalf("Departed wrong")
	}
	if got := s.DepartedMembers(); len(got) != 1 || got[0] != "m2" {
		t.Fatalf("DepartedMembers = %q", got)
	}
	var keys []string
	for _, r := range s.All() {
		keys = append(keys, r.Key())
	}
	if got := strings.Join(keys, " "); got != "config/g departure/m2 service/g/m2" {
		t.Fatalf("All keys = %s", got)
	}
}

// TestDepartedCandidateIsNotTakenIn: a departed member's candidacy, sent
// before it learnt of its departure, neither replaces nor outranks a live
// one (here it would win on member id and finish a term naming a leader
// that is gone); a live candidate's rumor still merges.
func TestDepartedCandidateIsNotTakenIn(t *testing.T) {
	s := NewStore()
	s.Merge(dep("z"))
	live := el("b", 1, 0, Running, "b")
	if !s.Merge(Rumor{Kind: KindElection, Election: live}) {
		t.Fatal("a live candidate's election was not taken in")
	}
	for _, gone := range []*Election{el("z", 1, 0, Finished, "b", "z"), el("z", 2, 0, Running, "z")} {
		if s.Merge(Rumor{Kind: KindElection, Election: gone}) {
			got, _ := s.Get("election/redis.default")
			t.Fatalf("the departed candidate's %+v was taken in: the store holds %+v", *gone, *got.Election)
		}
	}
	if !s.Merge(Rumor{Kind: KindElection, Election: el("a", 1, 0, Running, "a")}) {
		t.Fatal("a live member's vote was not taken in")
	}
	if got, _ := s.Get("election/redis.default"); fmt.Sprint(*got.Election) != fmt.Sprint(*el("b", 1, 0, Running, "a", "b")) {
		t.Fatalf("store holds %+v", *got.Election)
	}
	// Through gossip's JSON path too.
	if m, err := s.MergeJSON(mustJSON(t, Rumor{Kind: KindElection, Election: el("z", 3, 0, Finished, "z")})); err != nil || m.Changed {
		t.Fatalf("MergeJSON of the departed candidate's election: changed %v, err %v", m.Changed, err)
	}
}

func TestReturnedRumorsAreCopies(t *testing.T) {
	s := NewStore()
	r := svc("g", "m", 1, "OK")
	s.Merge(r)
	r.Service.Health = "CRITICAL"
	r.Service.Cfg["port"] = 1
	got, _ := s.Get("service/g/m")
	if got.Service.Health != "OK" || got.Service.Cfg["port"] != int64(6379) {
		t.Fatalf("store shares the merged rumor: %+v", got.Service)
	}
	got.Service.Health = "WARNING"
	again, _ := s.Get("service/g/m")
	if again.Service.Health != "OK" {
		t.Fatalf("store shares the returned rumor")
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	s := NewStore()
	s.Merge(svc("g", "m", 1, "OK"))
	s.Merge(cfg("g", 2, "a = 1\n"))
	s.Merge(file("g", "f.txt", 3, "\x00\xff"))
	s.Merge(dep("m9"))
	b, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	t2 := NewStore()
	changed, err := t2.MergeEncoded(b)
	if err != nil || !changed {
		t.Fatalf("MergeEncoded = %v, %v", changed, err)
	}
	b2, _ := t2.Encode()
	if !bytes.Equal(b, b2) {
		t.Fatalf("round trip differs:\n%s\n%s", b, b2)
	}
	if changed, err := t2.MergeEncoded(b); changed || err != nil {
		t.Fatalf("second MergeEncoded = %v, %v", changed, err)
	}
	if !t2.Departed("m9") {
		t.Fatalf("departure lost")
	}
}

func TestMergeEncodedBadInput(t *testing.T) {
	s := NewStore()
	if _, err := s.MergeEncoded([]byte("{")); err == nil {
		t.Fatalf("bad JSON accepted")
	}
	if _, err := s.MergeEncoded([]byte(`{"version":7,"rumors":[]}`)); err == nil {
		t.Fatalf("unknown version accepted")
	}
	doc := `{"version":1,"rumors":[{"kind":"config","config":{"service_group":"g","incarnation":1}},{"kind":"config"},7]}`
	changed, err := s.MergeEncoded([]byte(doc))
	if !changed || err == nil || !strings.Contains(err.Error(), "2 of 3 rumors skipped") {
		t.Fatalf("MergeEncoded = %v, %v", changed, err)
	}
	if s.Len() != 1 {
		t.Fatalf("Len = %d, want 1", s.Len())
	}
}

func TestConcurrentUse(t *testing.T) {
	s := NewStore()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 100 {
				s.Merge(svc("g", fmt.Sprint("m", i), uint64(j), "OK"))
				s.All()
				_, _ = s.Encode()
			}
		}()
	}
	wg.Wait()
	if s.Len() != 4 {
		t.Fatalf("Len = %d", s.Len())
	}
}

// genRumor draws from a small space so keys and incarnations collide often.
func genRumor() *rapid.Generator[Rumor] {
	sg := rapid.SampledFrom([]string{"a.default", "b.default"})
	member := rapid.SampledFrom([]string{"m1", "m2", "m3"})
	inc := rapid.Uint64Range(0, 4)
	body := rapid.SampledFrom([]string{"", "x", "y = 1", "z"})
	return rapid.Custom(func(t *rapid.T) Rumor {
		switch rapid.IntRange(0, 3).Draw(t, "kind") {
		case 0:
			return svc(sg.Draw(t, "sg"), member.Draw(t, "member"), inc.Draw(t, "inc"),
				rapid.SampledFrom([]string{"OK", "CRITICAL"}).Draw(t, "health"))
		case 1:
			return cfg(sg.Draw(t, "sg"), inc.Draw(t, "inc"), body.Draw(t, "body"))
		case 2:
			return file(sg.Draw(t, "sg"), rapid.SampledFrom([]string{"f1", "f2"}).Draw(t, "name"), inc.Draw(t, "inc"), body.Draw(t, "body"))
		default:
			return dep(member.Draw(t, "member"))
		}
	})
}

// TestMergeConverges: any order of merging a set of rumors, with repeats,
// and merging one store into another, gives the same store.
func TestMergeConverges(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rs := rapid.SliceOfN(genRumor(), 0, 20).Draw(t, "rumors")
		perm := rapid.Permutation(rs).Draw(t, "perm")
		a, b := NewStore(), NewStore()
		for _, r := range rs {
			a.Merge(r)
		}
		for _, r := range perm {
			b.Merge(r)
			b.Merge(r) // idempotent
		}
		ea, _ := a.Encode()
		eb, _ := b.Encode()
		if !bytes.Equal(ea, eb) {
			t.Fatalf("stores differ:\n%s\n%s", ea, eb)
		}
		// Split the set between two stores and exchange state.
		half := rapid.IntRange(0, len(perm)).Draw(t, "half")
		c, d := NewStore(), NewStore()
		for _, r := range perm[:half] {
			c.Merge(r)
		}
		for _, r := range perm[half:] {
			d.Merge(r)
		}
		ed, _ := d.Encode()
		if _, err := c.MergeEncoded(ed); err != nil {
			t.Fatal(err)
		}
		ec, _ := c.Encode()
		if !bytes.Equal(ea, ec) {
			t.Fatalf("exchange differs:\n%s\n%s", ea, ec)
		}
		// Every stored rumor is the maximum of its key.
		for _, r := range a.All() {
			for _, o := range rs {
				if o.Key() == r.Key() && o.Incarnation() > r.Incarnation() {
					t.Fatalf("%s kept incarnation %d, %d seen", r.Key(), r.Incarnation(), o.Incarnation())
				}
			}
		}
	})
}

func FuzzMergeEncoded(f *testing.F) {
	s := NewStore()
	s.Merge(svc("g", "m", 1, "OK"))
	s.Merge(cfg("g", 2, "a = 1\n"))
	s.Merge(file("g", "f.txt", 3, "body"))
	s.Merge(dep("m9"))
	good, _ := s.Encode()
	f.Add(good)
	f.Add([]byte(`{"version":1,"rumors":[]}`))
	f.Add([]byte(`{"version":1,"rumors":[{"kind":"file","file":{"service_group":"g","filename":"../x","incarnation":1}}]}`))
	f.Add([]byte(`{"version":1,"rumors":[{"kind":"service","service":{"member_id":"m","service_group":"g","cfg":{"a":[1,{"b":null}]}}}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := NewStore()
		changed, _ := s.MergeEncoded(b)
		if !changed && s.Len() != 0 {
			t.Fatalf("unchanged but holds %d rumors", s.Len())
		}
		for _, r := range s.All() {
			if err := r.Validate(); err != nil {
				t.Fatalf("stored invalid rumor: %v", err)
			}
		}
		enc, err := s.Encode()
		if err != nil {
			t.Fatal(err)
		}
		s2 := NewStore()
		if _, err := s2.MergeEncoded(enc); err != nil {
			t.Fatalf("re-merge own encoding: %v", err)
		}
		enc2, _ := s2.Encode()
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable:\n%s\n%s", enc, enc2)
		}
		// Merging the same document again changes nothing.
		if changed, _ := s.MergeEncoded(b); changed {
			t.Fatalf("second merge changed the store")
		}
	})
}

func el(member string, term, suit uint64, status string, votes ...string) *Election {
	return &Election{MemberID: member, ServiceGroup: "redis.default", Term: term, Suitability: suit, Status: status, Votes: votes}
}

// TestMergeElection: Habitat's rules, and the store keeping the merge.
func TestMergeElection(t *testing.T) {
	for _, tc := range []struct {
		name         string
		ours, theirs *Election
		want         *Election
	}{
		{"finished newer term wins", el("a", 1, 9, Running, "a"), el("b", 2, 0, Finished, "b"), el("b", 2, 0, Finished, "b")},
		{"finished same term wins", el("a", 2, 9, Running, "a"), el("b", 2, 0, Finished, "b"), el("b", 2, 0, Finished, "b")},
		{"ours finished same term stays", el("a", 2, 0, Finished, "a"), el("b", 2, 9, Running, "b"), el("a", 2, 0, Finished, "a")},
		{"finished older term loses", el("a", 3, 0, Running, "a"), el("b", 2, 9, Finished, "b"), el("a", 3, 0, Running, "a")},
		{"higher term wins over finished", el("a", 2, 0, Finished, "a"), el("b", 3, 0, Running, "b"), el("b", 3, 0, Running, "b")},
		{"suitability wins, takes votes", el("a", 1, 0, Running, "a", "c"), el("b", 1, 5, Running, "b"), el("b", 1, 5, Running, "a", "b", "c")},
		{"greater id wins a tie", el("b", 1, 5, Running, "b"), el("a", 1, 5, Running, "a"), el("b", 1, 5, Running, "a", "b")},
		{"two finished: the better stays", el("b", 1, 0, Finished, "a", "b"), el("a", 1, 0, Finished, "a", "b"), el("b", 1, 0, Finished, "a", "b")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := MergeElection(tc.ours, tc.theirs); fmt.Sprint(*got) != fmt.Sprint(*tc.want) {
				t.Fatalf("MergeElection = %+v, want %+v", *got, *tc.want)
			}
			s := NewStore()
			s.Merge(Rumor{Kind: KindElection, Election: tc.ours})
			s.Merge(Rumor{Kind: KindElection, Election: tc.theirs})
			if got, _ := s.Get("election/redis.default"); fmt.Sprint(*got.Election) != fmt.Sprint(*tc.want) {
				t.Fatalf("store holds %+v, want %+v", *got.Election, *tc.want)
			}
		})
	}
	bad := Rumor{Kind: KindElection, Election: el("a", 1, 0, "Won", "a")}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), `status "Won"`) {
		t.Fatalf("Validate of a bad status = %v", err)
	}
	bad = Rumor{Kind: KindElection, Election: el("a", 1, 0, Running, "b", "a")}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "unsorted") {
		t.Fatalf("Validate of unsorted votes = %v", err)
	}
}
