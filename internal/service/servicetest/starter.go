// Package servicetest fakes the processes a service runs (its run
// process and hooks), for the unit tests of service and manager: nothing
// is forked, and each process lives as the test says, on the clock of a
// testing/synctest bubble when it runs in one.
package servicetest

import (
	"context"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/tend-sh/tend/internal/hook"
	"github.com/tend-sh/tend/internal/process"
)

// Life is what a fake process does: exit with Code after D (D < 0: run
// until stopped), and whether it ignores the shutdown signal (then only
// the SIGKILL at the end of a stop's timeout ends it).
type Life struct {
	D          time.Duration
	Code       int
	IgnoreTerm bool
}

// Forever runs until stopped.
var Forever = Life{D: -1}

// Exits exits at once with code.
func Exits(code int) Life { return Life{Code: code} }

// firstPID is above any pid the kernel hands out (pid_max is at most
// 2^22), so a fake pid written to a PID file never names a real process
// that a supervisor's /proc tracking would then kill.
const firstPID = 1 << 30

// Starter is a hook.Starter whose processes are fakes.
type Starter struct {
	mu     sync.Mutex
	behave map[string]func(n int) Life // by hook name, "run" for the run process
	starts map[string]int
	procs  map[string][]*Proc
	pid    int
	err    error // Start fails with it when set
}

// NewStarter is a Starter whose processes all run until stopped.
func NewStarter() *Starter {
	return &Starter{behave: map[string]func(int) Life{}, starts: map[string]int{}, procs: map[string][]*Proc{}, pid: firstPID}
}

// Behave says how the process named name (a hook's name, or "run") lives
// at its nth start (n from 0).
func (f *Starter) Behave(name string, life func(n int) Life) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.behave[name] = life
}

// Fail makes every Start fail with err; nil starts processes again.
func (f *Starter) Fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// NameOf tells a hook from the run process by the rendered file it runs.
func NameOf(s process.Spec) string {
	if filepath.Base(filepath.Dir(s.Path)) == "hooks" {
		return filepath.Base(s.Path)
	}
	return "run"
}

// Start starts a fake process; it writes a line to each output stream.
func (f *Starter) Start(s process.Spec) (hook.Process, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	name := NameOf(s)
	n := f.starts[name]
	f.starts[name]++
	l := Forever
	if b := f.behave[name]; b != nil {
		l = b(n)
	}
	f.pid++
	p := &Proc{pid: f.pid, done: make(chan struct{}), kill: make(chan syscall.Signal, 1), ignoreTerm: l.IgnoreTerm, ready: s.Ready, env: s.Env}
	f.procs[name] = append(f.procs[name], p)
	if s.Stdout != nil {
		s.Stdout([]byte(name + " says hello"))
	}
	if s.Stderr != nil {
		s.Stderr([]byte(name + " complains"))
	}
	go p.live(l)
	return p, nil
}

// Count is how many times the process named name was started.
func (f *Starter) Count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.starts[name]
}

// Procs lists the processes named name, oldest first.
func (f *Starter) Procs(name string) []*Proc {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*Proc(nil), f.procs[name]...)
}

// Last is the latest process named name, or nil.
func (f *Starter) Last(name string) *Proc {
	ps := f.Procs(name)
	if len(ps) == 0 {
		return nil
	}
	return ps[len(ps)-1]
}

// Alive counts the processes that have not exited.
func (f *Starter) Alive() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, ps := range f.procs {
		for _, p := range ps {
			select {
			case <-p.done:
			default:
				n++
			}
		}
	}
	return n
}

// Proc is a fake process: a goroutine that lives as its Life says.
type Proc struct {
	pid        int
	done       chan struct{}
	kill       chan syscall.Signal
	exit       process.Exit // written before done is closed
	ignoreTerm bool
	ready      func() // process.Spec.Ready
	env        []string
}

// Notify writes the newline to the process's notification fd: it calls
// the Spec's Ready, as the reaper would. It reports whether the Spec had
// one.
func (p *Proc) Notify() bool {
	if p.ready == nil {
		return false
	}
	p.ready()
	return true
}

// Env is the environment the process was started with.
func (p *Proc) Env() []string { return p.env }

func (p *Proc) live(l Life) {
	var t <-chan time.Time
	if l.D >= 0 {
		t = time.After(l.D)
	}
	select {
	case <-t:
		p.exit = process.Exit{Code: l.Code, At: time.Now()}
	case sig := <-p.kill:
		p.exit = process.Exit{Code: -1, Signal: sig, At: time.Now()}
	}
	close(p.done)
}

// Signal delivers sig, which ends the process (the first one only).
func (p *Proc) Signal(sig syscall.Signal) {
	select {
	case p.kill <- sig:
	default:
	}
}

// Crash ends the process on its own, by SIGSEGV.
func (p *Proc) Crash() { p.Signal(syscall.SIGSEGV) }

// SignalLeader is Signal: a fake process has no group of its own.
func (p *Proc) SignalLeader(sig syscall.Signal) error {
	p.Signal(sig)
	return nil
}

func (p *Proc) PID() int              { return p.pid }
func (p *Proc) Done() <-chan struct{} { return p.done }
func (p *Proc) Exit() process.Exit    { return p.exit }

// Stop sends sig (unless the process ignores it), waits up to timeout,
// then kills it, as process.Proc does.
func (p *Proc) Stop(_ context.Context, sig syscall.Signal, timeout time.Duration) process.Exit {
	if !p.ignoreTerm {
		p.Signal(sig)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		return p.exit
	case <-t.C:
	}
	p.Signal(syscall.SIGKILL)
	<-p.done
	return p.exit
}
