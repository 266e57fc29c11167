package cgroup

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFindMount(t *testing.T) {
	hybrid := `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`
	if got, err := findMount([]byte(hybrid)); err != nil || got != "/sys/fs/cgroup/unified" {
		t.Errorf("hybrid: %q, %v", got, err)
	}
	unified := "25 20 0:22 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
	if got, err := findMount([]byte(unified)); err != nil || got != "/sys/fs/cgroup" {
		t.Errorf("unified: %q, %v", got, err)
	}
	ro := "25 20 0:22 / /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 ro\n"
	if got, err := findMount([]byte(ro)); err == nil {
		t.Errorf("read-only mount accepted: %q", got)
	}
	esc := `25 20 0:22 / /mnt/c\040g rw - cgroup2 cgroup2 rw` + "\n"
	if got, _ := findMount([]byte(esc)); got != "/mnt/c g" {
		t.Errorf("escaped: %q", got)
	}
}

func TestOwnCgroup(t *testing.T) {
	for in, want := range map[string]string{
		"1:cpu:/\n0::/\n":                 "/",
		"0::/user.slice/tend.service\n":   "/user.slice/tend.service",
		"12:memory:/x\n0::/a/b\n9:pids:/": "/a/b",
	} {
		if got, err := ownCgroup([]byte(in)); err != nil || got != want {
			t.Errorf("ownCgroup(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ownCgroup([]byte("1:cpu:/\n")); err == nil {
		t.Error("v1 only: no error")
	}
	if _, err := ownCgroup([]byte("0::/gone (deleted)\n")); err == nil {
		t.Error("deleted cgroup: no error")
	}
}

func TestParseStat(t *testing.T) {
	line := "42 (a) b (c)) S 7 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 12345 1000 10"
	p, ok := parseStat(42, []byte(line))
	if !ok || p.ppid != 7 || p.start != 12345 {
		t.Errorf("parseStat = %+v, %v", p, ok)
	}
	if _, ok := parseStat(42, []byte("42 (z) Z 7 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0")); ok {
		t.Error("zombie counted as live")
	}
}

func TestPIDFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "PID")
	if err := WritePIDFile(path, os.Getpid()); err != nil {
		t.Fatal(err)
	}
	pid, start, ok := pidFile(path)
	want, _ := StartTime(os.Getpid())
	if !ok || pid != os.Getpid() || start != want {
		t.Errorf("pidFile = %d %d %v; want %d %d", pid, start, ok, os.Getpid(), want)
	}
	// A link in the PID file's place, or in its temporary file's, is not
	// followed: what it names is left as it was.
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("keep\n"), 0o644)
	os.Remove(path)
	os.Symlink(victim, path)
	if err := WritePIDFile(path, os.Getpid()); err != nil {
		t.Errorf("PID file not written over a link: %v", err)
	}
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("PID file is not a regular file: %v %v", fi, err)
	}
	os.Symlink(victim, path+".new")
	if err := WritePIDFile(path, os.Getpid()); err == nil {
		t.Error("PID file written through a link")
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep\n" {
		t.Errorf("file behind the link now holds %q", b)
	}
	os.Remove(path)
	// Habitat's format, a pid alone, names no process: it may be reused.
	os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
	if _, _, ok := pidFile(path); ok {
		t.Error("pid without start time trusted")
	}
}

// A cgroup made by Group is known empty (its runner skips reading it); one
// that was there already, as a killed supervisor leaves it, is not.
func TestGroupMade(t *testing.T) {
	tr := newTracker(t, Auto)
	g, err := tr.Group("made")
	if err != nil {
		t.Fatal(err)
	}
	if !g.Made() {
		t.Error("new cgroup: Made false")
	}
	again, err := tr.Group("made")
	if err != nil {
		t.Fatal(err)
	}
	if again.Made() {
		t.Error("existing cgroup: Made true")
	}
	off, err := newTracker(t, Off).Group("made")
	if err != nil {
		t.Fatal(err)
	}
	if off.Made() {
		t.Error("/proc fallback: Made true")
	}
	if err := g.Remove(); err != nil {
		t.Error(err)
	}
}

// A supervisor SIGKILLed inside Kill, between its freeze and its thaw,
// leaves its service's cgroup frozen. Its successor thaws it when it
// finds it: a process started there would otherwise stop before its exec,
// its start (a vfork waiting for that exec) with it, and an adopted one
// would never run again.
func TestGroupLeftFrozenIsThawed(t *testing.T) {
	o := Options{Mode: Auto, MemberID: "frozen" + strconv.Itoa(os.Getpid()), StateDir: t.TempDir(), SvcDir: t.TempDir()}
	killed, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	if !killed.Cgroups() {
		t.Skipf("no writable cgroup2 here: %s", killed.Mechanism())
	}
	g, err := killed.Group("svc")
	if err != nil {
		t.Fatal(err)
	}
	freeze := filepath.Join(g.Dir(), "cgroup.freeze")
	if err := os.WriteFile(freeze, []byte("1"), 0); err != nil {
		t.Fatal(err)
	}
	next, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	g, err = next.Group("svc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.WriteFile(freeze, []byte("0"), 0)
		if err := g.Remove(); err != nil {
			t.Error(err)
		}
		if err := next.Close(); err != nil {
			t.Error(err)
		}
	})
	fd, err := syscall.Open(g.Dir(), syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	cmd := exec.Command("/bin/true")
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	ran := make(chan error, 1)
	go func() { ran <- cmd.Run() }()
	select {
	case err := <-ran:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		os.WriteFile(freeze, []byte("0"), 0) // lets the start return
		<-ran
		t.Fatal("a process started in the cgroup left frozen did not run within 10s")
	}
}

// newTracker opens a tracker on a fresh state directory and removes its
// subtree at cleanup.
func newTracker(t *testing.T, mode string) *Tracker {
	t.Helper()
	state := t.TempDir()
	tr, err := Open(Options{Mode: mode, MemberID: "test" + strconv.Itoa(os.Getpid()) + filepath.Base(state), StateDir: state, SvcDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if mode == Auto && !tr.Cgroups() {
		t.Skipf("no writable cgroup2 here: %s", tr.Mechanism())
	}
	t.Cleanup(func() {
		if err := tr.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return tr
}

// escapee starts, inside g (its cgroup, or marked for the /proc
// fallback), a shell whose child left its session, as a daemon does; it
// returns the shell and waits for the child to be in g.
func escapee(t *testing.T, g *Group, marker string) (shell *exec.Cmd) {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", "setsid sleep 1000 & exec sleep 1000")
	cmd.Env = []string{"PATH=/usr/bin:/bin", marker}
	startInGroup(t, g, cmd)
	waitMembers(t, g, 2)
	return cmd
}

// startInGroup starts cmd born in g's cgroup, as tend starts a service's
// processes; in the /proc fallback, as it is (its environment marks it).
func startInGroup(t *testing.T, g *Group, cmd *exec.Cmd) {
	t.Helper()
	if g.Dir() != "" {
		fd, err := syscall.Open(g.Dir(), syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer syscall.Close(fd)
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
}

func waitMembers(t *testing.T, g *Group, n int) []int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids, err := g.Members()
		if err != nil {
			t.Fatal(err)
		}
		if len(pids) == n {
			return pids
		}
		if time.Now().After(deadline) {
			t.Fatalf("members %v, want %d", pids, n)
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
}

// Every member, the one that left its session too, is found, signalled
// and killed, and the group can be used again afterwards.
func TestGroupStopsEveryMember(t *testing.T) {
	for _, mode := range []string{Auto, Off} {
		t.Run(mode, func(t *testing.T) {
			tr := newTracker(t, mode)
			g, err := tr.Group("svc")
			if err != nil {
				t.Fatal(err)
			}
			marker := tr.markerPrefix() + "svc.default"
			for round := range 2 {
				shell := escapee(t, g, marker)
				waited := make(chan error, 1)
				go func() { waited <- shell.Wait() }()
				if err := g.Signal(syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err := g.WaitEmpty(ctx)
				cancel()
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				<-waited
				if s, ok := g.Stats(); mode == Auto && (!ok || s.CPUSeconds <= 0) {
					t.Errorf("Stats = %+v, %v", s, ok)
				}
			}
			shell := escapee(t, g, marker)
			waited := make(chan error, 1)
			go func() { waited <- shell.Wait() }()
			if err := g.Kill(context.Background()); err != nil {
				t.Fatal(err)
			}
			<-waited
			if pids, _ := g.Members(); len(pids) != 0 {
				t.Fatalf("after Kill: %v", pids)
			}
			if err := g.Remove(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Sweep, by the successor of a supervisor killed with SIGKILL, kills what
// belongs to services not kept and leaves kept ones, in their cgroup, for
// their runner.
func TestSweep(t *testing.T) {
	for _, mode := range []string{Auto, Off} {
		t.Run(mode, func(t *testing.T) {
			old := newTracker(t, mode)
			tr, err := Open(old.o)
			if err != nil {
				t.Fatal(err)
			}
			gone, _ := tr.Group("gone")
			kept, _ := tr.Group("kept")
			var shells []*exec.Cmd
			shells = append(shells, escapee(t, gone, tr.markerPrefix()+"gone.default"))
			shells = append(shells, escapee(t, kept, tr.markerPrefix()+"kept.default"))
			waited := make(chan struct{})
			go func() {
				for _, c := range shells {
					c.Wait()
				}
				close(waited)
			}()
			tr.Sweep(context.Background(), func(name string) bool { return name == "kept" })
			if pids, _ := gone.Members(); len(pids) != 0 {
				t.Errorf("gone still runs %v", pids)
			}
			if mode == Auto && dirExists(gone.Dir()) {
				t.Errorf("gone's cgroup not removed")
			}
			pids := waitMembers(t, kept, 2)
			if !slices.Contains(pids, shells[1].Process.Pid) {
				t.Errorf("kept members %v lack %d", pids, shells[1].Process.Pid)
			}
			kept.Kill(context.Background())
			<-waited
			kept.Remove()
		})
	}
}

// The kill of a sweep says in its log line why the processes go: at the
// start, what a predecessor left of a service not loaded or desired down;
// at the stop, what a predecessor left that no runner took over (the
// supervisor told to stop during its start-up), not "killed supervisor"
// for both.
func TestSweepSaysWhyItKills(t *testing.T) {
	for _, c := range []struct {
		name      string
		sweep     func(*Tracker)
		want, not string
	}{
		{"start", func(tr *Tracker) { tr.Sweep(context.Background(), func(string) bool { return false }) },
			"not loaded or desired down", "stopped"},
		{"stop", func(tr *Tracker) { tr.SweepAtStop(context.Background()) },
			"not taken over before this one stopped", "desired down"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logs strings.Builder
			old := newTracker(t, Auto)
			o := old.o
			o.Log = slog.New(slog.NewTextHandler(&logs, nil))
			tr, err := Open(o)
			if err != nil {
				t.Fatal(err)
			}
			if c.name == "stop" {
				// The start-up sweep kept it for a runner that never came.
				tr.Sweep(context.Background(), func(string) bool { return true })
			}
			g, _ := tr.Group("left")
			shell := escapee(t, g, tr.markerPrefix()+"left.default")
			waited := make(chan struct{})
			go func() { shell.Wait(); close(waited) }()
			c.sweep(tr)
			<-waited
			if pids, _ := g.Members(); len(pids) != 0 {
				t.Fatalf("left still runs %v", pids)
			}
			var kills []string
			for l := range strings.SplitSeq(logs.String(), "\n") {
				if strings.Contains(l, "killing processes of a service") {
					kills = append(kills, l)
				}
			}
			if len(kills) != 1 || !strings.Contains(kills[0], c.want) || strings.Contains(kills[0], c.not) || strings.Contains(kills[0], "killed supervisor") {
				t.Fatalf("kill lines %q; want one saying %q", kills, c.want)
			}
		})
	}
}

// What the start-up sweep kept for a runner that never took it over (the
// supervisor stopped during its start-up) is killed by SweepAtStop: in
// the service's cgroup, and through /proc alike, where nothing but a new
// scan finds it once the start-up sweep is over.
func TestSweepAtStopKillsWhatTheStartKept(t *testing.T) {
	for _, mode := range []string{Auto, Off} {
		t.Run(mode, func(t *testing.T) {
			old := newTracker(t, mode)
			g, _ := old.Group("left")
			shell := escapee(t, g, old.markerPrefix()+"left.default")
			waited := make(chan struct{})
			go func() { shell.Wait(); close(waited) }()
			t.Cleanup(func() { g.Kill(context.Background()); <-waited })
			// The predecessor was SIGKILLed: its successor opens the
			// same state directory and keeps the service for its runner.
			tr, err := Open(old.o)
			if err != nil {
				t.Fatal(err)
			}
			tr.Sweep(context.Background(), func(string) bool { return true })
			if pids, _ := g.Members(); len(pids) != 2 {
				t.Fatalf("after the start-up sweep, members %v; want the 2 kept", pids)
			}
			// SweepAtStop returns once what it kills is gone.
			tr.SweepAtStop(context.Background())
			if pids, _ := g.Members(); len(pids) != 0 {
				t.Fatalf("after SweepAtStop, %v still run", pids)
			}
		})
	}
}

// A supervisor started from another cgroup (here: under another member
// id, so another subtree) finds its predecessor's subtree through the
// CGROUP file: kept services move into its own, the rest is killed, and
// the old subtree is removed.
func TestSweepPredecessorSubtree(t *testing.T) {
	state := t.TempDir()
	old, err := Open(Options{Mode: Auto, MemberID: "old" + strconv.Itoa(os.Getpid()), StateDir: state, SvcDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !old.Cgroups() {
		t.Skipf("no writable cgroup2 here: %s", old.Mechanism())
	}
	kept, _ := old.Group("kept")
	gone, _ := old.Group("gone")
	shells := []*exec.Cmd{escapee(t, kept, "X=1"), escapee(t, gone, "X=1")}
	waited := make(chan struct{})
	go func() {
		for _, c := range shells {
			c.Wait()
		}
		close(waited)
	}()
	tr, err := Open(Options{Mode: Auto, MemberID: "new" + strconv.Itoa(os.Getpid()), StateDir: state, SvcDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	tr.Sweep(context.Background(), func(name string) bool { return name == "kept" })
	if dirExists(old.base) {
		t.Errorf("predecessor's subtree %s not removed", old.base)
	}
	g, _ := tr.Group("kept")
	waitMembers(t, g, 2)
	if b, _ := os.ReadFile(filepath.Join(state, FileName)); string(b) != tr.base+"\n" {
		t.Errorf("CGROUP file %q, want %q", b, tr.base)
	}
	g.Kill(context.Background())
	<-waited
	g.Remove()
	if err := tr.Close(); err != nil {
		t.Error(err)
	}
	if b, err := os.ReadFile(filepath.Join(state, FileName)); err != nil || len(b) != 0 {
		t.Errorf("CGROUP file after Close: %q, %v; want it empty (nothing runs)", b, err)
	}
}

// /proc is searched for leftovers (the environment of every process on
// the host read) only when a predecessor may have left some that its
// cgroups do not name: it tracked through /proc and did not stop cleanly,
// or nothing says how it tracked and it left service directories.
func TestSweepScansProcOnlyWhenAPredecessorMayHaveLeftProcesses(t *testing.T) {
	for _, c := range []struct {
		name, file string // file: the CGROUP file's text; "-": none
		svcDirs    bool
		want       bool
	}{
		{"fresh root", "-", false, false},
		{"older tend, service directories", "-", true, true},
		{"cgroups, killed", "/sys/fs/cgroup/x/tend.gone\n", true, false},
		{"stopped cleanly", "", true, false},
		{"/proc, killed", "proc\n", true, true},
		{"cgroups, a /proc predecessor not yet swept", "/sys/fs/cgroup/x/tend.gone\nproc\n", true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			state, svc := t.TempDir(), t.TempDir()
			if c.file != "-" {
				os.WriteFile(filepath.Join(state, FileName), []byte(c.file), 0o644)
			}
			if c.svcDirs {
				os.Mkdir(filepath.Join(svc, "redis"), 0o755)
			}
			tr, err := Open(Options{Mode: Off, MemberID: "scan" + strconv.Itoa(os.Getpid()), StateDir: state, SvcDir: svc})
			if err != nil {
				t.Fatal(err)
			}
			if tr.scanProcs != c.want {
				t.Errorf("scan /proc %v, want %v", tr.scanProcs, c.want)
			}
			tr.Sweep(context.Background(), func(string) bool { return false })
			if b, _ := os.ReadFile(filepath.Join(state, FileName)); string(b) != "proc\n" {
				t.Errorf("CGROUP file of a /proc supervisor after its sweep %q, want %q", b, "proc\n")
			}
			tr.Close()
			if b, _ := os.ReadFile(filepath.Join(state, FileName)); len(b) != 0 {
				t.Errorf("CGROUP file after Close %q, want empty", b)
			}
		})
	}
}

// Without cgroups, a run process that cleared its environment (no marker)
// is still the service's when its PID file names it with its start time,
// and its descendants with it; a PID file whose start time is another
// process's names nothing.
func TestFallbackKnowsClearedEnvironmentByPIDFile(t *testing.T) {
	tr := newTracker(t, Off)
	cmd := exec.Command("/usr/bin/env", "-i", "/bin/sh", "-c", "sleep 1000 & exec sleep 1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan struct{})
	go func() { cmd.Wait(); close(waited) }()
	g, _ := tr.Group("bare")
	if pids, _ := g.Members(); len(pids) != 0 {
		t.Fatalf("members without a PID file: %v", pids)
	}
	os.MkdirAll(filepath.Join(tr.o.SvcDir, "bare"), 0o755)
	pidPath := filepath.Join(tr.o.SvcDir, "bare", "PID")
	os.WriteFile(pidPath, []byte(strconv.Itoa(cmd.Process.Pid)+"\n1\n"), 0o644)
	if pids, _ := g.Members(); len(pids) != 0 {
		t.Fatalf("members by a PID file with a wrong start time: %v", pids)
	}
	if err := WritePIDFile(pidPath, cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, g, 2)
	if err := g.Kill(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-waited
}

// pidWriterEnv makes TestPIDFileWriter a process that writes its own PID
// file in a loop until it is killed.
const pidWriterEnv = "TEND_TEST_PID_WRITER"

func TestPIDFileWriter(t *testing.T) {
	path := os.Getenv(pidWriterEnv)
	if path == "" {
		t.Skip("a helper process of TestPIDFileNeverTornBySIGKILL")
	}
	for {
		if err := WritePIDFile(path, os.Getpid()); err != nil {
			t.Fatal(err)
		}
	}
}

// A supervisor SIGKILLed while it writes a PID file leaves one its
// successor can read, never a torn one: a torn file makes the successor
// restart a run process it could have adopted. A writer rewriting its PID
// file in a loop is killed at a random point, 40 times; a file written in
// place is empty about a quarter of the time.
func TestPIDFileNeverTornBySIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 40 processes")
	}
	for i := range 40 {
		path := filepath.Join(t.TempDir(), "PID")
		cmd := exec.Command(os.Args[0], "-test.run=^TestPIDFileWriter$")
		cmd.Env = append(os.Environ(), pidWriterEnv+"="+path)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Killed at once after its first write: the loop is somewhere
		// in its next write by then, at no chosen point.
		deadline := time.Now().Add(30 * time.Second)
		for {
			if _, err := os.Stat(path); err == nil {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatal("the writer wrote no PID file in 30s")
			}
			time.Sleep(time.Millisecond) // polling interval
		}
		cmd.Process.Kill()
		cmd.Wait()
		if pid, _, ok := ReadPIDFile(path); !ok || pid != cmd.Process.Pid {
			b, _ := os.ReadFile(path)
			t.Fatalf("kill %d: PID file torn: %q (pid %d)", i+1, b, cmd.Process.Pid)
		}
	}
}
