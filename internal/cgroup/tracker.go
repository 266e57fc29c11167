package cgroup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Modes of Options.Mode.
const (
	Auto = "auto" // a cgroup v2 subtree where one can be made, else /proc
	Off  = "off"  // /proc only
)

// FileName is the file in the supervisor's state directory that names its
// subtree, so that a successor started from another cgroup still finds it.
// A line "proc" says processes may have been tracked through /proc (see
// Tracker.scanProcs). The file is left empty by a supervisor that stopped
// every service: nothing it started runs.
const FileName = "CGROUP"

// procLine is the CGROUP file's line for tracking through /proc.
const procLine = "proc"

// Options configure Open.
type Options struct {
	Mode     string // Auto or Off ("" = Auto)
	MemberID string
	// StateDir holds the CGROUP file (ROOT/sup/NAME).
	StateDir string
	// SvcDir holds each service's PID file, SvcDir/NAME/PID.
	SvcDir string
	Log    *slog.Logger
}

// Tracker finds the processes of every service of one supervisor.
type Tracker struct {
	o    Options
	base string // tend.MEMBER_ID under the supervisor's cgroup; "" = /proc
	mnt  string // the cgroup2 mount base is under
	// prev are subtrees a predecessor named in the CGROUP file other than
	// base, to be swept.
	prev []string
	// scanProcs: a predecessor may have left processes that only a scan
	// of /proc finds: it tracked through /proc (the CGROUP file says
	// "proc"), or it is unknown how it tracked (no CGROUP file, beside
	// service directories a supervisor of an older tend left). A
	// predecessor that used cgroups left every process in its subtree,
	// so a restart does not read the environment of every process on the
	// host (~45 µs each) to find what the cgroups already name.
	scanProcs bool
	// keptProcs: the start-up sweep, through /proc with no cgroup to
	// hold them, left a predecessor's processes for runners to adopt.
	// Only another scan finds them again, so SweepAtStop scans when a
	// runner may not have taken them over (the supervisor stopped
	// during its start-up).
	keptProcs bool
	closed    bool   // Close ran: every service stopped
	why       string // why /proc is used
}

// Open chooses how processes are tracked: in a cgroup v2 subtree made now
// (Mode Auto, when one can be), else through /proc. It fails only when the
// CGROUP file cannot be written: a successor would then not find what runs.
func Open(o Options) (*Tracker, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	t := &Tracker{o: o}
	var present bool
	t.prev, t.scanProcs, present = t.listed()
	if !present {
		ents, _ := os.ReadDir(o.SvcDir)
		t.scanProcs = len(ents) > 0
	}
	switch o.Mode {
	case Off:
		t.why = "cgroups turned off"
	case Auto, "":
		mnt, base, err := makeSubtree(o.MemberID)
		if err != nil {
			t.why = err.Error()
		} else {
			t.mnt, t.base = mnt, base
		}
	default:
		return nil, fmt.Errorf("cgroup: mode %q: want %s or %s", o.Mode, Auto, Off)
	}
	if t.base != "" {
		t.prev = removeString(t.prev, t.base)
	}
	if err := t.writeFile(); err != nil {
		return nil, err
	}
	return t, nil
}

func removeString(s []string, v string) []string {
	out := s[:0]
	for _, x := range s {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

// makeSubtree makes tend.MEMBER_ID in the cgroup this process runs in and
// checks that a service cgroup can be made in it.
func makeSubtree(member string) (mnt, base string, err error) {
	if !kernelAtLeast(5, 7) {
		return "", "", errors.New("kernel older than 5.7 (no clone3 into a cgroup)")
	}
	// Children are born in their cgroup through clone3, which a container's
	// seccomp profile may refuse (ENOSYS or EPERM). Called with no
	// arguments it fails with EINVAL where it is allowed, forking nothing.
	if _, _, errno := unix.RawSyscall(unix.SYS_CLONE3, 0, 0, 0); errno != unix.EINVAL {
		return "", "", fmt.Errorf("clone3 unavailable: %w", errno)
	}
	mnt, own, err := locate()
	if err != nil {
		return "", "", err
	}
	base = filepath.Join(own, "tend."+member)
	if err := os.Mkdir(base, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return "", "", fmt.Errorf("cgroup: %w", err)
	}
	probe := filepath.Join(base, ".probe")
	if err := os.Mkdir(probe, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return "", "", fmt.Errorf("cgroup: %w", err)
	}
	fd, err := unix.Open(probe, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
		err = unix.Access(filepath.Join(probe, "cgroup.procs"), unix.W_OK)
	}
	unix.Rmdir(probe)
	if err != nil {
		unix.Rmdir(base) // only if empty: a predecessor's services stay
		return "", "", fmt.Errorf("cgroup: %s: %w", probe, err)
	}
	// Memory and CPU figures per service, and a pids limit an operator
	// may set, where the parent delegates them; best effort: a cgroup
	// that holds processes (a non-root supervisor's) cannot pass them on.
	for _, c := range []string{"+memory", "+cpu", "+pids"} {
		_ = os.WriteFile(filepath.Join(base, "cgroup.subtree_control"), []byte(c), 0)
	}
	return mnt, base, nil
}

func kernelAtLeast(major, minor int) bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	var ma, mi int
	fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &ma, &mi)
	return ma > major || ma == major && mi >= minor
}

// listed reads the subtrees the CGROUP file names, whether it says
// "proc", and whether it exists.
func (t *Tracker) listed() (trees []string, procs, present bool) {
	b, err := os.ReadFile(filepath.Join(t.o.StateDir, FileName))
	if err != nil {
		return nil, false, false
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimSpace(line)
		// Only tend's own subtrees: the file must never make a supervisor
		// kill a cgroup it did not make.
		if filepath.IsAbs(line) && strings.HasPrefix(filepath.Base(line), "tend.") {
			trees = append(trees, filepath.Clean(line))
		}
		procs = procs || line == procLine
	}
	return trees, procs, true
}

// writeFile records base first, then the predecessors' subtrees still to
// be swept and "proc" while /proc is used or still to be swept, so a
// supervisor killed during the sweep leaves them named.
func (t *Tracker) writeFile() error {
	lines := t.prev
	if t.base != "" {
		lines = append([]string{t.base}, lines...)
	}
	if (t.base == "" && !t.closed) || t.scanProcs {
		lines = append(lines, procLine)
	}
	path := filepath.Join(t.o.StateDir, FileName)
	text := strings.Join(lines, "\n")
	if text != "" {
		text += "\n"
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return fmt.Errorf("cgroup: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("cgroup: %w", err)
	}
	return nil
}

// Mechanism says how processes are tracked, for /status and the log.
func (t *Tracker) Mechanism() string {
	if t.base != "" {
		return "cgroup v2 " + t.base
	}
	return "subreaper and /proc (" + t.why + ")"
}

// Cgroups reports whether services have cgroups.
func (t *Tracker) Cgroups() bool { return t.base != "" }

// Group returns the service's group, making its cgroup if need be.
func (t *Tracker) Group(name string) (*Group, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	g := &Group{t: t, name: name}
	if t.base == "" {
		return g, nil
	}
	g.dir = filepath.Join(t.base, name)
	err := os.Mkdir(g.dir, 0o755)
	if err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	g.made = err == nil
	if !g.made {
		g.thaw()
	}
	return g, nil
}

func checkName(name string) error {
	if name == "" || strings.ContainsAny(name, "/.\n") {
		return fmt.Errorf("cgroup: bad service name %q", name)
	}
	return nil
}

// markerPrefix starts the marker of every service of this supervisor.
func (t *Tracker) markerPrefix() string { return "TEND_SERVICE_ID=" + t.o.MemberID + "/" }

// fallbackMembers finds the service's processes in all: those that carry
// its marker (TEND_SERVICE_ID=MEMBER/NAME.GROUP[@ORG]) or are the process
// its PID file names, and their descendants.
func (t *Tracker) fallbackMembers(all []proc, name string) []proc {
	return t.membersMarked(all, t.marks(all), name)
}

// marks reads the marker of every process in all once: the service
// each belongs to, by pid (absent: none of this supervisor's).
func (t *Tracker) marks(all []proc) map[int]string {
	out := map[int]string{}
	prefix := t.markerPrefix()
	for _, p := range all {
		if sg := markerOf(p.pid, prefix); sg != "" {
			out[p.pid] = serviceOf(sg)
		}
	}
	return out
}

// membersMarked is fallbackMembers with the markers already read.
func (t *Tracker) membersMarked(all []proc, marks map[int]string, name string) []proc {
	roots := map[int]bool{}
	for pid, n := range marks {
		if n == name {
			roots[pid] = true
		}
	}
	if pid, start, ok := pidFile(filepath.Join(t.o.SvcDir, name, "PID")); ok {
		for _, p := range all {
			if p.pid == pid && p.start == start {
				roots[pid] = true
			}
		}
	}
	if len(roots) == 0 {
		return nil
	}
	return descendants(all, roots)
}

// serviceOf is the service name of a service group "NAME.GROUP[@ORG]".
func serviceOf(sg string) string {
	name, _, _ := strings.Cut(sg, ".")
	return name
}

// Close removes the supervisor's subtree once every service cgroup in it
// is gone, and the CGROUP file with it; a subtree still holding a service
// stays named for the next supervisor.
func (t *Tracker) Close() error {
	if t.base != "" {
		if err := unix.Rmdir(t.base); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("cgroup: remove %s: %w", t.base, err)
		}
		t.base = ""
	}
	t.closed = true
	return t.writeFile()
}

// sweepWait bounds the wait for killed processes to be gone.
const sweepWait = 10 * time.Second

// Sweep deals with what earlier supervisors of this state directory left
// running, before any service starts. Processes of a service keep reports
// true for (loaded, desired up) are left in, or moved into, its cgroup
// here, for its runner to stop with its shutdown signal and timeout
// before it starts it; everything else, the cgroup of a service unloaded
// or stopped when the supervisor was killed, is killed and removed.
func (t *Tracker) Sweep(ctx context.Context, keep func(name string) bool) {
	t.sweep(ctx, keep, "left by a previous supervisor, not loaded or desired down")
}

// SweepAtStop kills what is still tracked once every runner has stopped
// its service: what a predecessor left that no runner took over, the
// supervisor having been told to stop during its start-up.
func (t *Tracker) SweepAtStop(ctx context.Context) {
	t.scanProcs = t.scanProcs || t.keptProcs
	t.keptProcs = false
	t.sweep(ctx, func(string) bool { return false }, "left by a previous supervisor, not taken over before this one stopped")
}

// sweep is Sweep and SweepAtStop; why says, in the kill's log line, whose
// processes they are and why they go.
func (t *Tracker) sweep(ctx context.Context, keep func(name string) bool, why string) {
	// keep reads a spec and a package: asked once per service, though a
	// service may be found in its cgroup and again by its PID file.
	kept := map[string]bool{}
	keep = func(f func(string) bool) func(string) bool {
		return func(name string) bool {
			k, ok := kept[name]
			if !ok {
				k = f(name)
				kept[name] = k
			}
			return k
		}
	}(keep)
	var trees []string
	trees = append(trees, t.prev...)
	if t.base != "" {
		trees = append(trees, t.base)
	}
	for _, tree := range trees {
		t.sweepTree(ctx, tree, keep, tree == t.base, why)
	}
	if t.scanProcs {
		t.sweepProcs(ctx, keep, why)
	}
	if len(t.prev) > 0 || t.scanProcs {
		t.prev, t.scanProcs = nil, false
		if err := t.writeFile(); err != nil {
			t.o.Log.Warn("CGROUP file not updated", "err", err)
		}
	}
}

// sweepTree sweeps the service cgroups of one subtree. In another
// supervisor's subtree (own false), kept services are moved into this
// one's, and the subtree is removed.
func (t *Tracker) sweepTree(ctx context.Context, tree string, keep func(string) bool, own bool, why string) {
	ents, err := os.ReadDir(tree)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		t.o.Log.Warn("cannot sweep a cgroup subtree", "cgroup", tree, "err", err)
		return
	}
	for _, e := range ents {
		name := e.Name()
		if !e.IsDir() || checkName(name) != nil {
			if e.IsDir() && name == ".probe" {
				unix.Rmdir(filepath.Join(tree, name))
			}
			continue
		}
		old := &Group{t: t, name: name, dir: filepath.Join(tree, name)}
		if keep(name) {
			if own {
				continue
			}
			if g, err := t.Group(name); err == nil && g.dir != "" {
				t.move(old, g)
			}
		}
		t.kill(ctx, old, why)
		if err := old.Remove(); err != nil {
			t.o.Log.Warn("cgroup not removed", "err", err)
		}
	}
	if !own {
		if err := unix.Rmdir(tree); err != nil && !errors.Is(err, unix.ENOENT) {
			t.o.Log.Warn("cgroup subtree not removed", "cgroup", tree, "err", err)
		}
	}
}

// move puts every member of from into to. Whatever forks meanwhile lands
// in from, so it looks again, a few times; what is left is killed by the
// caller.
func (t *Tracker) move(from, to *Group) {
	for range 10 {
		pids, _ := readProcs(from.dir)
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			_ = os.WriteFile(filepath.Join(to.dir, "cgroup.procs"), []byte(fmt.Sprint(pid)), 0)
		}
	}
}

// sweepProcs deals with processes outside any service cgroup that carry
// this supervisor's marker or that a PID file names: those of a
// predecessor that tracked them through /proc. With cgroups, kept ones
// are moved into their service's cgroup.
func (t *Tracker) sweepProcs(ctx context.Context, keep func(string) bool, why string) {
	all, err := allProcs()
	if err != nil {
		t.o.Log.Warn("cannot look for processes left by a previous supervisor", "err", err)
		return
	}
	// One read of every process's environment, not one per service: this
	// runs at every start after a SIGKILL and every hand-over.
	marks := t.marks(all)
	names := map[string]bool{}
	for _, n := range marks {
		if checkName(n) == nil {
			names[n] = true
		}
	}
	if ents, err := os.ReadDir(t.o.SvcDir); err == nil {
		for _, e := range ents {
			if _, _, ok := pidFile(filepath.Join(t.o.SvcDir, e.Name(), "PID")); ok && checkName(e.Name()) == nil {
				names[e.Name()] = true
			}
		}
	}
	for name := range names {
		fb := &Group{t: t, name: name}
		ms := t.membersMarked(all, marks, name)
		if len(ms) == 0 {
			continue
		}
		pids := pidsOf(ms)
		if keep(name) {
			if t.base == "" {
				t.keptProcs = true
				continue // its runner stops them, or SweepAtStop
			}
			// Most are in their cgroup already (a hand-over, or a
			// predecessor with cgroups): only the others are moved, a
			// write to cgroup.procs being a migration even when it moves
			// nothing, and slow.
			out := t.outside(pids)
			if len(out) == 0 {
				continue
			}
			g, err := t.Group(name)
			if err != nil {
				continue
			}
			for _, pid := range out {
				_ = os.WriteFile(filepath.Join(g.dir, "cgroup.procs"), []byte(fmt.Sprint(pid)), 0)
			}
			if left, _ := fb.outside(); len(left) == 0 {
				continue
			}
		}
		t.kill(ctx, fb, why)
	}
}

// outside lists the members of a /proc group that are in no cgroup of
// this supervisor's subtree.
func (g *Group) outside() ([]int, error) {
	pids, err := g.Members()
	if err != nil || g.t.base == "" {
		return pids, err
	}
	return g.t.outside(pids), nil
}

// outside lists those of pids in no cgroup of this supervisor's subtree.
func (t *Tracker) outside(pids []int) []int {
	if t.base == "" {
		return pids
	}
	var out []int
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ESRCH) {
			// Gone since the scan (a short-lived child): not outside, and
			// counting it so would kill a service that is to be adopted.
			continue
		}
		own, err := ownCgroup(b)
		if err != nil || !strings.HasPrefix(filepath.Join(t.mnt, own)+"/", t.base+"/") {
			out = append(out, pid)
		}
	}
	return out
}

func (t *Tracker) kill(ctx context.Context, g *Group, why string) {
	pids, _ := g.Members()
	if len(pids) == 0 {
		return
	}
	t.o.Log.Warn("killing processes of a service", "service", g.name, "pids", pids, "why", why)
	kctx, cancel := context.WithTimeout(ctx, sweepWait)
	defer cancel()
	if err := g.Kill(kctx); err != nil {
		t.o.Log.Error("processes left running", "service", g.name, "err", err)
	}
}
