package process

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

// The point of the poller: a silent child costs no goroutine, so 500
// services do not mean 1000 parked goroutines.
func TestIdleChildrenAddNoGoroutines(t *testing.T) {
	const n = 200
	r := startReaper(t)
	discard := func([]byte) {}
	// The first piped start may bring up the poller goroutine.
	warm := start(t, r, Spec{Path: "/bin/sleep", Args: []string{"1000"}, Stdout: discard, Stderr: discard})
	procs := []*Proc{warm}
	defer func() {
		for _, p := range procs {
			p.Stop(context.Background(), syscall.SIGKILL, 0)
		}
	}()
	before := runtime.NumGoroutine()
	for range n {
		procs = append(procs, start(t, r, Spec{Path: "/bin/sleep", Args: []string{"1000"}, Stdout: discard, Stderr: discard}))
	}
	after := runtime.NumGoroutine()
	t.Logf("goroutines: %d before, %d after starting %d piped children", before, after, n)
	if after-before > 4 {
		t.Errorf("%d goroutines more for %d idle children, want at most 4", after-before, n)
	}
}

// Many processes writing at once through one poller: every pipe gets all its
// lines, in order, none mixed with another pipe's.
func TestManyProcessesOutputInterleaved(t *testing.T) {
	const procs, n = 30, 2000
	r := startReaper(t)
	type pair struct {
		p        *Proc
		out, err *lines
	}
	var all []pair
	for i := range procs {
		// Lines of different lengths, so that reads end mid-line.
		s := sh(fmt.Sprintf(`i=0; while [ $i -lt %d ]; do echo "%d out $i"; echo "%d err $i ...... $i" >&2; i=$((i+1)); done; printf '%d end'`, n, i, i, i))
		out, errs := newLines(), newLines()
		s.Stdout, s.Stderr = out.add, errs.add
		all = append(all, pair{start(t, r, s), out, errs})
	}
	for i, pr := range all {
		waitDone(t, pr.p)
		want := make([]string, 0, n+1)
		for j := range n {
			want = append(want, fmt.Sprintf("%d out %d", i, j))
		}
		want = append(want, fmt.Sprintf("%d end", i))
		if got := pr.out.all(); !slices.Equal(got, want) {
			t.Errorf("process %d: stdout has %d lines, want %d; first difference at %d", i, len(got), len(want), firstDiff(got, want))
		}
		want = want[:0]
		for j := range n {
			want = append(want, fmt.Sprintf("%d err %d ...... %d", i, j, j))
		}
		if got := pr.err.all(); !slices.Equal(got, want) {
			t.Errorf("process %d: stderr has %d lines, want %d; first difference at %d", i, len(got), len(want), firstDiff(got, want))
		}
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// A process that left the group keeps the leader's stdout open, idle or
// flooding it: Done still closes about the drain grace after the exit, with
// everything the leader wrote before it.
func TestEscapedGrandchildDoneWithinGrace(t *testing.T) {
	const grace = 200 * time.Millisecond
	for _, tc := range []struct {
		name, escapee string
		partial       bool // the leader's last line is unterminated
	}{
		{"idle", "exec sleep 1000", true},
		{"flooding", "exec yes", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startReaper(t)
			r.drainGrace = grace
			var (
				mu      sync.Mutex
				leader  []string
				pidLine = make(chan string, 1)
			)
			emit := func(b []byte) {
				switch {
				case string(b) == "y":
				case bytes.HasPrefix(b, []byte("pid ")):
					pidLine <- string(b[4:])
				default:
					mu.Lock()
					leader = append(leader, string(b))
					mu.Unlock()
				}
			}
			last := `echo bye`
			if tc.partial {
				last = `printf "bye\ntail"`
			}
			s := sh(`trap '` + last + `; exit 0' USR1; i=0; while [ $i -lt 1000 ]; do echo "line $i"; i=$((i+1)); done; ` +
				`setsid sh -c 'echo pid $$; ` + tc.escapee + `' & while :; do wait; done`)
			s.Stdout = emit
			p := start(t, r, s)
			var pid int
			select {
			case l := <-pidLine:
				pid, _ = strconv.Atoi(l)
			case <-time.After(testTimeout):
				t.Fatal("no pid line from the escaped process")
			}
			t.Cleanup(func() {
				_ = unix.Kill(pid, unix.SIGKILL)
				waitGone(t, pid)
			})
			if err := unix.Kill(p.PID(), unix.SIGUSR1); err != nil {
				t.Fatal(err)
			}
			begin := time.Now()
			waitDone(t, p)
			took := time.Since(begin)
			t.Logf("Done %v after the signal (grace %v)", took, grace)
			if took > grace+2*time.Second {
				t.Errorf("Done %v after the exit, want about the grace of %v", took, grace)
			}
			want := make([]string, 0, 1002)
			for i := range 1000 {
				want = append(want, "line "+strconv.Itoa(i))
			}
			want = append(want, "bye")
			if tc.partial {
				want = append(want, "tail")
			}
			mu.Lock()
			got := leader
			mu.Unlock()
			if !slices.Equal(got, want) {
				t.Errorf("leader's output: %d lines, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
			}
			if tc.partial && !alive(pid) {
				t.Errorf("escaped process %d gone: the test proves nothing", pid)
			}
		})
	}
}

// One pipe that is always ready must not keep the poller from the others.
func TestFloodDoesNotStarveOtherPipes(t *testing.T) {
	r := startReaper(t)
	var flooded atomic.Int64
	flooding := make(chan struct{})
	var once sync.Once
	s := Spec{Path: "/usr/bin/yes", Stdout: func([]byte) {
		if flooded.Add(1) == 100000 {
			once.Do(func() { close(flooding) })
		}
	}}
	flood := start(t, r, s)
	defer flood.Stop(context.Background(), syscall.SIGKILL, 0)
	select {
	case <-flooding:
	case <-time.After(testTimeout):
		t.Fatal("the flood did not start")
	}

	const n = 20
	out := newLines()
	quiet := sh(`i=0; while [ $i -lt ` + strconv.Itoa(n) + ` ]; do echo $i; sleep 0.01; i=$((i+1)); done`)
	quiet.Stdout = out.add
	at := flooded.Load()
	waitDone(t, start(t, r, quiet)) // times out if starved
	got := out.all()
	if len(got) != n {
		t.Fatalf("got %d lines, want %d", len(got), n)
	}
	for i, l := range got {
		if l != strconv.Itoa(i) {
			t.Fatalf("line %d is %q", i, l)
		}
	}
	select {
	case <-flood.Done():
		t.Fatal("the flood ended: the test proves nothing")
	default:
	}
	if flooded.Load() == at {
		t.Error("the flood was not read meanwhile")
	}
}

// Run's shutdown with pipes still open, one held by an escaped process:
// every Done closes, the output is delivered, and no goroutine or fd is left.
func TestShutdownWithOpenPipesLeaksNothing(t *testing.T) {
	// Go's own poller, if not up yet, must not count as a leak.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	pr.Close()
	pw.Close()
	fdsBefore := openFDs(t)
	ignore := goleak.IgnoreCurrent()

	r := NewReaper(nil)
	r.drainGrace = 100 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- r.Run(ctx) }()

	var procs []*Proc
	var outs []*lines
	for i := range 10 {
		out := newLines()
		s := sh(fmt.Sprintf(`printf 'first %d\npartial %d'; exec sleep 1000`, i, i))
		s.Stdout, s.Stderr = out.add, func([]byte) {}
		procs = append(procs, start(t, r, s))
		outs = append(outs, out)
		out.wait(t, 1)
	}
	esc := newLines()
	s := sh(`setsid sh -c 'echo $$; exec sleep 1000' & exec sleep 1000`)
	s.Stdout = esc.add
	procs = append(procs, start(t, r, s))
	pid, _ := strconv.Atoi(esc.wait(t, 1)[0])
	t.Cleanup(func() {
		_ = unix.Kill(pid, unix.SIGKILL)
		// It was re-parented to the stopped reaper: another one reaps it.
		startReaper(t)
		waitGone(t, pid)
	})

	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	for i, p := range procs {
		select {
		case <-p.Done():
		default:
			t.Errorf("process %d not done when Run returned", i)
		}
	}
	for i, out := range outs {
		want := []string{fmt.Sprintf("first %d", i), fmt.Sprintf("partial %d", i)}
		if got := out.all(); !slices.Equal(got, want) {
			t.Errorf("process %d: output %q, want %q", i, got, want)
		}
	}
	if !alive(pid) {
		t.Errorf("escaped process %d gone: the test proves nothing", pid)
	}
	goleak.VerifyNone(t, ignore)
	if after := openFDs(t); !slices.Equal(after, fdsBefore) {
		t.Errorf("open fds %v after shutdown, %v before", after, fdsBefore)
	}
}

// openFDs lists what this process's fds point to, sorted.
func openFDs(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var fds []string
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue // the fd ReadDir itself used
		}
		fds = append(fds, e.Name()+" "+target)
	}
	slices.Sort(fds)
	return slices.DeleteFunc(fds, func(s string) bool { return strings.Contains(s, "/proc/") })
}
