package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// census reads one supervisor's /census: service group -> member id -> alive/suspect/confirmed/departed.
func (s *sup) census(t *testing.T) map[string]map[string]string {
	t.Helper()
	resp, err := http.Get("http://" + s.http + "/census")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var doc struct {
		Groups map[string]struct {
			Population map[string]struct {
				Alive, Suspect, Confirmed, Departed bool
			} `json:"population"`
		} `json:"census_groups"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return nil
	}
	out := map[string]map[string]string{}
	for sg, g := range doc.Groups {
		out[sg] = map[string]string{}
		for id, m := range g.Population {
			switch {
			case m.Alive:
				out[sg][id] = "alive"
			case m.Suspect:
				out[sg][id] = "suspect"
			case m.Confirmed:
				out[sg][id] = "confirmed"
			case m.Departed:
				out[sg][id] = "departed"
			}
		}
	}
	return out
}

func (s *sup) memberID() string {
	return strings.TrimSpace(readFile(filepath.Join(s.root, "sup", "default", "MEMBER_ID")))
}

// ring starts n supervisors that join the first one's gossip address.
func ringOf(t *testing.T, n int, extra ...string) []*sup {
	t.Helper()
	first := startSup(t, t.TempDir(), extra...)
	sups := []*sup{first}
	for i := 1; i < n; i++ {
		sups = append(sups, startSup(t, t.TempDir(), append([]string{"--peer", first.gossip}, extra...)...))
	}
	return sups
}

func TestRingLoadAppearsInEveryCensusAndConfigReachesAll(t *testing.T) {
	sups := ringOf(t, 3)
	a := sups[0]
	tag := uniqueTag()
	dir := pkgDir(t, map[string]string{
		"IDENT":        "test/shared/1.0.0/20260101000000",
		"default.toml": "greeting = \"default\"\nport = 1234\n",
		"EXPORTS":      "port=port\n",
		"config/greet": "{{cfg.greeting}}\n",
		"hooks/run":    "#!/bin/sh\nexec sleep 1000" + tag + "\n",
	})
	for _, s := range sups {
		s.mustTend("svc", "load", dir)
	}
	for _, s := range sups {
		waitFor(t, 20*time.Second, "every member in every census", func() bool {
			g := s.census(t)["shared.default"]
			if len(g) != 3 {
				return false
			}
			for _, o := range sups {
				if g[o.memberID()] != "alive" {
					return false
				}
			}
			return true
		})
	}

	// config apply from one member reaches every member and re-renders.
	cfg := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(cfg, []byte("greeting = \"from the ring\"\n"), 0o644)
	a.mustTend("config", "apply", "shared.default", "3", cfg, "--remote-sup", a.ctl)
	for _, s := range sups {
		path := filepath.Join(s.root, "svc", "shared", "config", "greet")
		waitFor(t, 20*time.Second, "gossiped config rendered on "+s.memberID(), func() bool { return readFile(path) == "from the ring\n" })
	}
	// A version that does not grow is refused with one clear line.
	r := sups[1].tend("config", "apply", "shared.default", "3", cfg, "--remote-sup", sups[1].ctl)
	if r.code != 1 || !strings.Contains(r.stderr, "not higher") {
		t.Fatalf("config apply with the same version: exit %d %q", r.code, r.stderr)
	}

	// file upload reaches every member's files/ directory.
	f := filepath.Join(t.TempDir(), "motd.txt")
	os.WriteFile(f, []byte("hello ring\n"), 0o644)
	a.mustTend("file", "upload", "shared.default", "1", f, "--remote-sup", a.ctl)
	for _, s := range sups {
		path := filepath.Join(s.root, "svc", "shared", "files", "motd.txt")
		waitFor(t, 20*time.Second, "uploaded file on "+s.memberID(), func() bool { return readFile(path) == "hello ring\n" })
	}
}

func TestRingKilledMemberIsConfirmedAndDepartedMemberExits(t *testing.T) {
	sups := ringOf(t, 3)
	dir := sleeper(t, "watched", uniqueTag())
	for _, s := range sups {
		s.mustTend("svc", "load", dir)
	}
	victim := sups[2]
	vid := victim.memberID()
	waitFor(t, 20*time.Second, "victim alive in the census", func() bool { return sups[0].census(t)["watched.default"][vid] == "alive" })
	victim.kill()
	waitFor(t, 60*time.Second, "killed member suspect or confirmed", func() bool {
		h := sups[0].census(t)["watched.default"][vid]
		return h == "confirmed" || h == "suspect"
	})
	waitFor(t, 60*time.Second, "killed member confirmed", func() bool { return sups[0].census(t)["watched.default"][vid] == "confirmed" })

	// Depart the second member: every member shows it departed, and it
	// stops its services and exits.
	gone := sups[1]
	gid := gone.memberID()
	sups[0].mustTend("sup", "depart", gid, "--remote-sup", sups[0].ctl)
	select {
	case <-gone.done:
	case <-time.After(60 * time.Second):
		t.Fatal("departed supervisor did not exit")
	}
	waitFor(t, 30*time.Second, "departed in the census", func() bool { return sups[0].census(t)["watched.default"][gid] == "departed" })
}

func TestRingWrongKeyCannotJoin(t *testing.T) {
	dir := t.TempDir()
	keyA, keyB := filepath.Join(dir, "a.key"), filepath.Join(dir, "b.key")
	for _, k := range []string{keyA, keyB} {
		if r := runTend(t, dir, "ring", "key", "generate", k); r.code != 0 {
			t.Fatalf("key generate: %+v", r)
		}
		if st, _ := os.Stat(k); st.Mode().Perm() != 0o600 {
			t.Fatalf("key mode %v", st.Mode())
		}
	}
	a := startSup(t, t.TempDir(), "--ring-key", keyA)
	b := startSup(t, t.TempDir(), "--ring-key", keyB, "--peer", a.gossip)
	c := startSup(t, t.TempDir(), "--ring-key", keyA, "--peer", a.gossip)
	dirPkg := sleeper(t, "keyed", uniqueTag())
	for _, s := range []*sup{a, b, c} {
		s.mustTend("svc", "load", dirPkg)
	}
	waitFor(t, 20*time.Second, "same-key member joins", func() bool { return len(a.census(t)["keyed.default"]) == 2 })
	if _, ok := a.census(t)["keyed.default"][b.memberID()]; ok {
		t.Fatal("a member with another key joined the ring")
	}
	if g := b.census(t)["keyed.default"]; len(g) != 1 {
		t.Fatalf("the member with another key sees %v", g)
	}
}
