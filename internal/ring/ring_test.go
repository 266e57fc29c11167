package ring

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"go.uber.org/goleak"

	"github.com/tend-sh/tend/internal/rumor"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// An in-flight probe can outlive Shutdown by up to ProbeInterval.
		goleak.IgnoreTopFunction("github.com/hashicorp/memberlist.(*Memberlist).probeNode"),
	)
}

// fast is the test timing: failure detection in about a second.
func fast() Timing {
	return Timing{
		ProbeInterval:     100 * time.Millisecond,
		ProbeTimeout:      50 * time.Millisecond,
		GossipInterval:    20 * time.Millisecond,
		PushPullInterval:  500 * time.Millisecond,
		SuspicionMult:     2,
		GossipNodes:       3,
		ReconnectInterval: 250 * time.Millisecond,
	}
}

type node struct {
	*Ring
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, c Config) *node {
	t.Helper()
	return startTweaked(t, c, nil)
}

// startTweaked starts a member whose memberlist config tweak adjusts.
func startTweaked(t *testing.T, c Config, tweak func(*memberlist.Config)) *node {
	t.Helper()
	return startPrepared(t, c, tweak, nil)
}

// startPrepared starts a member after prep (if not nil) adjusted it.
func startPrepared(t *testing.T, c Config, tweak func(*memberlist.Config), prep func(*Ring)) *node {
	t.Helper()
	if c.Bind == "" {
		c.Bind = "127.0.0.1:0"
	}
	if c.Timing == (Timing{}) {
		c.Timing = fast()
	}
	r, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	r.tweak = tweak
	if prep != nil {
		prep(r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &node{Ring: r, cancel: cancel, done: make(chan error, 1)}
	go func() { n.done <- r.Run(ctx) }()
	select {
	case <-r.Ready():
	case err := <-n.done:
		t.Fatalf("%s: Run: %v", c.MemberID, err)
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: not ready", c.MemberID)
	}
	t.Cleanup(func() { n.stop(t) })
	return n
}

// stop ends Run and waits for it; a second stop does nothing.
func (n *node) stop(t *testing.T) {
	t.Helper()
	n.cancel()
	select {
	case err, ok := <-n.done:
		if ok && err != nil {
			t.Errorf("%s: Run: %v", n.cfg.MemberID, err)
		}
		if ok {
			close(n.done)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("%s: Run did not return", n.cfg.MemberID)
	}
}

// kill stops without leaving, as a crash would look to the others.
func (n *node) kill(t *testing.T) {
	n.abrupt.Store(true)
	n.stop(t)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// never checks cond stays false for d.
func never(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			t.Fatalf("%s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func health(r *Ring, id string) string {
	for _, m := range r.Members() {
		if m.ID == id {
			return m.Health
		}
	}
	return ""
}

func member(r *Ring, id string) (Member, bool) {
	for _, m := range r.Members() {
		if m.ID == id {
			return m, true
		}
	}
	return Member{}, false
}

func has(r *Ring, key string, inc uint64) bool {
	for _, rm := range r.Rumors() {
		if rm.Key() == key && rm.Incarnation() == inc {
			return true
		}
	}
	return false
}

func allAlive(rings []*node, ids ...string) func() bool {
	return func() bool {
		for _, r := range rings {
			for _, id := range ids {
				if health(r.Ring, id) != Alive {
					return false
				}
			}
		}
		return true
	}
}

// cluster starts n rings joined through the first.
func cluster(t *testing.T, ids []string, mod func(*Config)) []*node {
	t.Helper()
	var rings []*node
	for i, id := range ids {
		c := Config{MemberID: id}
		if i > 0 {
			c.Peers = []string{rings[0].Addr()}
		}
		if mod != nil {
			mod(&c)
		}
		rings = append(rings, start(t, c))
	}
	waitFor(t, "all members alive everywhere", allAlive(rings, ids...))
	return rings
}

func svcRumor(member string, inc uint64) rumor.Rumor {
	return rumor.Rumor{Kind: rumor.KindService, Service: &rumor.Service{
		MemberID: member, ServiceGroup: "redis.default", Package: "core/redis/7.0.0/20240101000000",
		Incarnation: inc, Health: "OK", Up: true, Cfg: map[string]any{"port": 6379},
	}}
}

func cfgRumor(inc uint64, body string) rumor.Rumor {
	return rumor.Rumor{Kind: rumor.KindConfig, Config: &rumor.Config{
		ServiceGroup: "redis.default", Incarnation: inc, FromID: "a", Config: []byte(body),
	}}
}

func TestNewValidates(t *testing.T) {
	for _, c := range []Config{
		{Bind: "127.0.0.1:0"},
		{MemberID: "a", Bind: "127.0.0.1"},
		{MemberID: "a", Bind: "localhost:1"},
		{MemberID: "a", Bind: "127.0.0.1:99999"},
		{MemberID: "a", Bind: "127.0.0.1:0", Peers: []string{"nope"}},
		{MemberID: "a", Bind: "127.0.0.1:0", Advertise: "10.0.0.1"},
		{MemberID: "a", Bind: "127.0.0.1:0", Timing: Timing{ProbeInterval: -1}},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
	r, err := New(Config{MemberID: "a", Bind: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Publish(svcRumor("a", 1)); err == nil {
		t.Fatalf("Publish before Run accepted")
	}
}

func TestJoinAndGossip(t *testing.T) {
	rings := cluster(t, []string{"a", "b", "c"}, nil)
	if err := rings[1].Publish(svcRumor("b", 1)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "service rumor everywhere", func() bool {
		for _, r := range rings {
			if !has(r.Ring, "service/redis.default/b", 1) {
				return false
			}
		}
		return true
	})
	// Gossip, not only push/pull, carried it.
	if s := rings[1].Stats().Kinds["service"]; s.MsgsSent == 0 {
		t.Fatalf("no service rumor gossiped: %+v", s)
	}
	// A newer one replaces it everywhere; Changed fired.
	select {
	case <-rings[2].Changed():
	default:
		t.Fatalf("Changed did not fire")
	}
	if err := rings[0].Publish(svcRumor("b", 2)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "newer service rumor everywhere", func() bool {
		for _, r := range rings {
			if !has(r.Ring, "service/redis.default/b", 2) {
				return false
			}
		}
		return true
	})
}

func TestBigConfigReachesAll(t *testing.T) {
	rings := cluster(t, []string{"a", "b", "c"}, nil)
	line := "k = \"0123456789abcdef\"\n"
	body := strings.Repeat(line, rumor.MaxBody/len(line))
	body += strings.Repeat("#", rumor.MaxBody-len(body))
	if err := rings[0].Publish(cfgRumor(1, body)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "64 KiB config everywhere", func() bool {
		for _, r := range rings {
			rm, ok := r.store.Get("config/redis.default")
			if !ok || len(rm.Config.Config) != rumor.MaxBody {
				return false
			}
		}
		return true
	})
	// Too big for a UDP packet: it went over TCP, from a to at least one
	// member (under load the second may take it from the first instead).
	if s := rings[0].Stats().Kinds["config"]; s.BytesSent < rumor.MaxBody {
		t.Fatalf("config not sent over TCP: %+v", s)
	}
}

func TestConfigVersionRules(t *testing.T) {
	dir := t.TempDir()
	a := start(t, Config{MemberID: "a", DataDir: dir})
	if err := a.Publish(cfgRumor(5, "a = 1")); err != nil {
		t.Fatal(err)
	}
	// Persisted before Publish returned.
	if b, err := os.ReadFile(filepath.Join(dir, rumorsFile)); err != nil || !strings.Contains(string(b), `"incarnation":5`) {
		t.Fatalf("config not persisted: %v %s", err, b)
	}
	for _, v := range []uint64{5, 4} {
		err := a.Publish(cfgRumor(v, "a = 2"))
		if err == nil || err.Error() != "version "+strconv.FormatUint(v, 10)+" is not higher than 5" {
			t.Fatalf("Publish(v%d) = %v", v, err)
		}
	}
	rm, _ := a.store.Get("config/redis.default")
	if string(rm.Config.Config) != "a = 1" {
		t.Fatalf("config changed: %q", rm.Config.Config)
	}
	if err := a.Publish(cfgRumor(6, "a = 3")); err != nil {
		t.Fatal(err)
	}
	big := cfgRumor(7, strings.Repeat("x", rumor.MaxBody+1))
	if err := a.Publish(big); err == nil {
		t.Fatalf("oversized config accepted")
	}
}

func TestCrashIsDetected(t *testing.T) {
	rings := cluster(t, []string{"a", "b", "c"}, nil)
	rings[2].kill(t)
	sawSuspect := false
	waitFor(t, "c confirmed on a and b", func() bool {
		for _, r := range rings[:2] {
			if health(r.Ring, "c") == Suspect {
				sawSuspect = true
			}
		}
		return health(rings[0].Ring, "c") == Confirmed && health(rings[1].Ring, "c") == Confirmed
	})
	if !sawSuspect {
		t.Errorf("c never seen suspect")
	}
}

func TestRestartComesBackWithRumors(t *testing.T) {
	dir := t.TempDir()
	rings := cluster(t, []string{"a", "b", "c"}, func(c *Config) {
		if c.MemberID == "a" {
			c.DataDir = dir
		}
	})
	a := rings[0]
	if err := a.Publish(cfgRumor(3, "x = 1")); err != nil {
		t.Fatal(err)
	}
	if err := a.Publish(svcRumor("a", 1)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "rumors reach b", func() bool { return has(rings[1].Ring, "service/redis.default/a", 1) })
	ma, _ := member(rings[1].Ring, "a")
	addr := a.Addr()
	a.stop(t)
	waitFor(t, "a departed (left) on b", func() bool { return health(rings[1].Ring, "a") == Departed })
	// While a is away, b learns something new.
	if err := rings[1].Publish(svcRumor("b", 7)); err != nil {
		t.Fatal(err)
	}

	a2 := start(t, Config{MemberID: "a", Bind: addr, DataDir: dir, Peers: []string{rings[1].Addr()}})
	if !has(a2.Ring, "config/redis.default", 3) || !has(a2.Ring, "service/redis.default/a", 1) {
		t.Fatalf("persisted rumors not reloaded: %+v", a2.Rumors())
	}
	waitFor(t, "a alive again everywhere", allAlive([]*node{a2, rings[1], rings[2]}, "a", "b", "c"))
	waitFor(t, "a catches up", func() bool { return has(a2.Ring, "service/redis.default/b", 7) })
	if m, _ := member(rings[2].Ring, "a"); m.Incarnation <= ma.Incarnation {
		t.Errorf("incarnation did not grow: %d then %d", ma.Incarnation, m.Incarnation)
	}
}

// A member given its persisted rumors read ahead (ReadPersisted, as sup
// run reads them while it checks its start-up file) serves that store:
// it does not read the file again, and persists to it as before.
func TestPersistedReadAheadIsServed(t *testing.T) {
	dir := t.TempDir()
	a := start(t, Config{MemberID: "a", DataDir: dir})
	if err := a.Publish(svcRumor("a", 1)); err != nil {
		t.Fatal(err)
	}
	a.stop(t)

	p := ReadPersisted(dir)
	if p.err != nil || !p.read {
		t.Fatalf("ReadPersisted: read %v, err %v", p.read, p.err)
	}
	// Gone from the disk once read: only the store read ahead holds it.
	if err := os.Remove(filepath.Join(dir, rumorsFile)); err != nil {
		t.Fatal(err)
	}
	a2 := start(t, Config{MemberID: "a", DataDir: dir, Persisted: p})
	if !has(a2.Ring, "service/redis.default/a", 1) {
		t.Fatalf("rumors read ahead not served: %+v", a2.Rumors())
	}
	if err := a2.Publish(svcRumor("a", 2)); err != nil {
		t.Fatal(err)
	}
	a2.stop(t)
	if !has(start(t, Config{MemberID: "a", DataDir: dir}).Ring, "service/redis.default/a", 2) {
		t.Fatal("a member started with rumors read ahead did not persist them")
	}
}

func writeKey(t *testing.T) string {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "ring.key")
	if err := os.WriteFile(p, []byte(k+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEncryptedRingRefusesOthers(t *testing.T) {
	key := writeKey(t)
	rings := cluster(t, []string{"a", "b"}, func(c *Config) { c.KeyFile = key })
	other := start(t, Config{MemberID: "x", KeyFile: writeKey(t), Peers: []string{rings[0].Addr()}})
	plain := start(t, Config{MemberID: "y", Peers: []string{rings[0].Addr()}})
	if err := rings[0].Publish(svcRumor("a", 1)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "rumor reaches b", func() bool { return has(rings[1].Ring, "service/redis.default/a", 1) })
	leaked := func() bool {
		for _, o := range []*node{other, plain} {
			if len(o.Rumors()) > 0 || len(o.Members()) > 1 {
				return true
			}
		}
		for _, r := range rings {
			for _, id := range []string{"x", "y"} {
				if _, ok := member(r.Ring, id); ok {
					return true
				}
			}
		}
		return false
	}
	never(t, "a member without the key joined or read the ring", 1500*time.Millisecond, leaked)
}

func TestDeparture(t *testing.T) {
	rings := cluster(t, []string{"a", "b", "c"}, nil)
	if err := rings[0].Publish(rumor.Rumor{Kind: rumor.KindDeparture, Departure: &rumor.Departure{MemberID: "c"}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rings[2].Departed():
	case <-time.After(15 * time.Second):
		t.Fatalf("c did not learn of its departure")
	}
	select {
	case <-rings[0].Departed():
		t.Fatalf("a thinks it departed")
	default:
	}
	waitFor(t, "c departed on a and b", func() bool {
		return health(rings[0].Ring, "c") == Departed && health(rings[1].Ring, "c") == Departed
	})
	// A departure of a member never seen still shows.
	if err := rings[1].Publish(rumor.Rumor{Kind: rumor.KindDeparture, Departure: &rumor.Departure{MemberID: "ghost"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ghost departed on a", func() bool { return health(rings[0].Ring, "ghost") == Departed })

	// c comes back under the same id with nothing on disk: refused, and
	// it learns it has departed.
	rings[2].stop(t)
	c2 := start(t, Config{MemberID: "c", Peers: []string{rings[0].Addr()}})
	select {
	case <-c2.Departed():
	case <-time.After(15 * time.Second):
		t.Fatalf("restarted c did not learn of its departure")
	}
	never(t, "departed c shown otherwise", 500*time.Millisecond, func() bool {
		return health(rings[0].Ring, "c") != Departed || health(rings[1].Ring, "c") != Departed
	})
	if err := rings[0].NotifyAliveCheck("c"); err == nil {
		t.Fatalf("alive message of departed c accepted")
	}
}

// NotifyAliveCheck runs the alive delegate for id (test helper).
func (r *Ring) NotifyAliveCheck(id string) error {
	return (&delegate{r}).NotifyAlive(&memberlist.Node{Name: id})
}

func TestReadKey(t *testing.T) {
	good := writeKey(t)
	if k, err := ReadKey(good); err != nil || len(k) != KeySize {
		t.Fatalf("ReadKey = %d bytes, %v", len(k), err)
	}
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		body string
		mode os.FileMode
		want string
	}{
		"world readable": {"AAAA", 0o644, "chmod 600"},
		"group readable": {"AAAA", 0o640, "chmod 600"},
		"short":          {"AAAA\n", 0o600, "not one line of base64"},
		"garbage":        {"not base64!\n", 0o400, "not one line of base64"},
		"two lines":      {strings.Repeat("A", 43) + "=\nAAAA\n", 0o600, "not one line"},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		if err := os.WriteFile(p, []byte(tc.body), tc.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, tc.mode); err != nil {
			t.Fatal(err)
		}
		_, err := ReadKey(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: ReadKey = %v, want %q", name, err, tc.want)
		}
	}
	if _, err := ReadKey(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}
