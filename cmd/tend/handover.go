package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/events"
	"github.com/tend-sh/tend/internal/process"
	"github.com/tend-sh/tend/internal/ring"
	"github.com/tend-sh/tend/internal/service"
	"golang.org/x/sys/unix"
)

// handoverVersion is the version of the hand-over state this tend writes
// and reads. A binary asked to take over checks it first
// (`sup handover-check`), so a new binary that cannot read this one's
// state refuses before anything is stopped.
const handoverVersion = 1

// handoverEnv names, in the new process's environment, the file holding
// the hand-over state.
const handoverEnv = "TEND_HANDOVER"

// handoff is what a supervisor hands to the binary it re-executes as:
// the listening sockets (inherited descriptors), the address its ring
// was bound to (rebound there, so a port picked at random stays), and the
// unfinished output lines. The services themselves need nothing here:
// they are still the process's children, each named with its start time
// by its PID file, and are adopted as after a SIGKILL, their output
// FIFOs reopened.
type handoff struct {
	Version int `json:"version"`
	// Listeners are inherited descriptors by listener (ctl, http, monitor).
	Listeners map[string]int `json:"listeners"`
	Gossip    string         `json:"gossip"`
	// GossipUDP and GossipTCP are the ring's sockets (0: not handed
	// over, bound again at Gossip), Inc its incarnation.
	GossipUDP int    `json:"gossip_udp,omitempty"`
	GossipTCP int    `json:"gossip_tcp,omitempty"`
	Inc       uint64 `json:"inc,omitempty"`
	// Peers are the other members alive at the hand-over (host:port),
	// joined at once so the new member's view is whole from the start.
	Peers []string `json:"peers,omitempty"`
	// Events are the latest events, with their ids, oldest first.
	Events []events.Event `json:"events,omitempty"`
	// Services are the running services' status to carry on, by name.
	Services map[string]*service.Carried `json:"services,omitempty"`
	// StoreRecords and RingRecords are the supervisor's own /status
	// records (spec store, ring), oldest first.
	StoreRecords []api.Record `json:"store_records,omitempty"`
	RingRecords  []api.Record `json:"ring_records,omitempty"`
	// Partials are the unfinished lines read from output FIFOs, by path.
	Partials map[string][]byte `json:"partials,omitempty"`
}

// handoverCheckCmd is run by a supervisor on the binary it is asked to
// re-execute as: exit 0 means this binary reads that state version.
func handoverCheckCmd() *cobra.Command {
	var v int
	c := &cobra.Command{Use: "handover-check", Hidden: true, Args: args(cobra.NoArgs),
		Short: "check that this binary can take over from a running supervisor"}
	c.Flags().IntVar(&v, "state-version", 0, "the hand-over state version of the running supervisor")
	c.RunE = func(*cobra.Command, []string) error {
		if v != handoverVersion {
			return fmt.Errorf("hand-over state version %d not supported (this tend reads version %d)", v, handoverVersion)
		}
		return nil
	}
	return c
}

// handoverFile is the hand-over state's name in the state directory: the
// only file a successor reads as one.
const handoverFile = "HANDOVER"

// takeHandoff reads and removes the hand-over state a predecessor left
// in this process (nil: a plain start). Only the file its predecessor
// writes is read: HANDOVER in this supervisor's own state directory, a
// regular file of mode 0600 owned by this user, opened without following
// a symbolic link. The variable could otherwise name any file for a root
// supervisor to read (and remove), or one someone else wrote to hand it
// descriptors and peers. Anything else is logged in one line and the
// supervisor starts afresh. An accepted file that cannot be read is an
// error: the sockets it names would be left unused.
func takeHandoff(getenv func(string) string, stateDir string, log *slog.Logger) (*handoff, error) {
	path := getenv(handoverEnv)
	if path == "" {
		return nil, nil
	}
	os.Unsetenv(handoverEnv) // not for the services' hooks
	want := filepath.Join(stateDir, handoverFile)
	if filepath.Clean(path) != want {
		log.Warn("hand-over state ignored; starting afresh", "err", fmt.Sprintf("%s=%s is not %s", handoverEnv, path, want))
		return nil, nil
	}
	b, err := readOwnFile(want)
	os.Remove(want) // a link or a stale file in our own directory: never its target
	if err != nil {
		log.Warn("hand-over state ignored; starting afresh", "err", err)
		return nil, nil
	}
	var h handoff
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("hand-over state %s: %w", path, err)
	}
	if h.Version != handoverVersion {
		return nil, fmt.Errorf("hand-over state %s: version %d, want %d", path, h.Version, handoverVersion)
	}
	return &h, nil
}

// readOwnFile reads path if it is a regular file (not a symbolic link),
// of mode 0600, owned by this process's user. O_NONBLOCK: a FIFO planted
// there must not hang the start.
func readOwnFile(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("%s is a symbolic link", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return nil, fmt.Errorf("%s is not a regular file", path)
	case st.Mode&0o7777 != 0o600:
		return nil, fmt.Errorf("%s has mode %#o, not 0600", path, st.Mode&0o7777)
	case int(st.Uid) != os.Geteuid():
		return nil, fmt.Errorf("%s belongs to uid %d, not the supervisor's (%d)", path, st.Uid, os.Geteuid())
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// writeOwnFile writes b to a new path of mode 0600 (a file left there is
// removed first, so neither its mode nor a link is kept).
func writeOwnFile(path string, b []byte) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	err = f.Chmod(0o600) // whatever the umask
	if err == nil {
		_, err = f.Write(b)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// inherited makes the listeners of a hand-over from their descriptors.
func (h *handoff) inherited() (*rawListeners, error) {
	raw := &rawListeners{}
	for name, fd := range h.Listeners {
		f := os.NewFile(uintptr(fd), name)
		ln, err := net.FileListener(f) // a dup: f is closed either way
		f.Close()
		if err != nil {
			closeRaw(raw)
			return nil, fmt.Errorf("hand-over: %s listener (fd %d): %w", name, fd, err)
		}
		if !raw.set(name, ln) {
			ln.Close()
		}
	}
	if raw.ctl == nil {
		closeRaw(raw)
		return nil, errors.New("hand-over: no control listener")
	}
	return raw, nil
}

// gossipSockets are the ring's sockets a predecessor handed over, or nil.
func (h *handoff) gossipSockets() (*ring.Sockets, error) {
	if h.GossipUDP == 0 || h.GossipTCP == 0 {
		return nil, nil
	}
	uf, tf := os.NewFile(uintptr(h.GossipUDP), "gossip-udp"), os.NewFile(uintptr(h.GossipTCP), "gossip-tcp")
	defer uf.Close() // FilePacketConn and FileListener keep duplicates
	defer tf.Close()
	pc, err := net.FilePacketConn(uf)
	if err != nil {
		return nil, fmt.Errorf("hand-over: gossip UDP socket: %w", err)
	}
	ln, err := net.FileListener(tf)
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("hand-over: gossip TCP socket: %w", err)
	}
	udp, ok1 := pc.(*net.UDPConn)
	tcp, ok2 := ln.(*net.TCPListener)
	if !ok1 || !ok2 {
		pc.Close()
		ln.Close()
		return nil, errors.New("hand-over: gossip sockets of the wrong kind")
	}
	return &ring.Sockets{UDP: udp, TCP: tcp}, nil
}

// checkOwner refuses a binary someone else could have written: the
// supervisor would run it with its own rights (root, often).
func checkOwner(binary string) error {
	fi, err := os.Stat(binary)
	if err != nil {
		return fmt.Errorf("cannot run %s: %w", binary, errors.Unwrap(err))
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file", binary)
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("%s is writable by other users (mode %s)", binary, fi.Mode().Perm())
	case ok && int(st.Uid) != os.Geteuid() && st.Uid != 0:
		return fmt.Errorf("%s belongs to uid %d, neither root nor the supervisor's user", binary, st.Uid)
	}
	return nil
}

// checkBinary runs `BINARY sup handover-check`: a binary that is missing,
// broken or cannot read this supervisor's hand-over state fails here,
// before anything is stopped. It runs through the reaper, which collects
// every child of the supervisor.
func checkBinary(ctx context.Context, reaper *process.Reaper, binary string) error {
	var mu sync.Mutex
	var out []string
	collect := func(b []byte) {
		mu.Lock()
		defer mu.Unlock()
		if len(out) < 5 {
			out = append(out, string(b))
		}
	}
	p, err := reaper.Start(process.Spec{Path: binary,
		Args: []string{"sup", "handover-check", "--state-version", strconv.Itoa(handoverVersion)},
		Env:  []string{"PATH=/usr/bin:/bin"}, Stdout: collect, Stderr: collect})
	if err != nil {
		return fmt.Errorf("cannot run %s: %w", binary, errors.Unwrap(err))
	}
	select {
	case <-p.Done():
	case <-ctx.Done():
		p.Stop(context.Background(), unix.SIGKILL, 0)
		return fmt.Errorf("%s did not answer its hand-over check: %w", binary, ctx.Err())
	}
	if e := p.Exit(); e.Code != 0 || e.Signal != 0 {
		mu.Lock()
		defer mu.Unlock()
		why := e.String()
		if len(out) > 0 {
			why = strings.TrimSpace(strings.Join(out, "; "))
		}
		return fmt.Errorf("%s cannot take over: %s", binary, why)
	}
	return nil
}

// handoverTimeout bounds the check of a new binary.
const handoverCheckTimeout = 30 * time.Second

// drainTimeout bounds how long the listeners wait for requests in flight
// (a followed stream never ends: it is cut after this).
const drainTimeout = 3 * time.Second

// handover is the supervisor's side of `sup restart`.
type handover struct {
	log      *slog.Logger
	reaper   *process.Reaper
	stateDir string
	exe      string // the binary this supervisor was started as
	req      chan string
	// serving holds the listeners being served; a failed hand-over
	// serves them again (restart).
	serving *servers
	flush   func(context.Context) error
	status  func() *api.Snapshot
	events  *events.Stream
	failed  func(error)
	ring    *ring.Ring
}

// request checks binary and queues the hand-over; the control gateway
// answers the CLI, then the hand-over runs (begin).
func (h *handover) request(ctx context.Context, binary string, progress func(string)) error {
	if binary == "" {
		binary = h.exe
	}
	if !filepath.IsAbs(binary) {
		return api.Errorf(api.BadRequest, "binary %q: not an absolute path", binary)
	}
	if err := checkOwner(binary); err != nil {
		return api.Errorf(api.BadRequest, "%v", err)
	}
	cctx, cancel := context.WithTimeout(ctx, handoverCheckTimeout)
	defer cancel()
	if err := checkBinary(cctx, h.reaper, binary); err != nil {
		return api.Errorf(api.BadRequest, "%v", err)
	}
	select {
	case h.req <- binary:
	default:
		return api.Errorf(api.Conflict, "a hand-over is already under way")
	}
	progress(fmt.Sprintf("%s passed its check; handing over (pid %d)", binary, os.Getpid()))
	return nil
}

// loop runs the hand-overs asked for until ctx ends.
func (h *handover) loop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case bin := <-h.req:
			err := h.begin(bin)
			h.log.Error("hand-over failed; this supervisor carries on", "binary", bin, "err", err)
			h.failed(err)
		}
	}
}

// begin hands over to bin and returns only if that failed, with the
// supervisor serving again. It stops accepting on every listener without
// closing its socket (a duplicate is kept: connections wait in the
// backlog), lets requests in flight finish, stops reading output at a line
// boundary and flushes the log files, writes the state, and re-executes.
func (h *handover) begin(bin string) error {
	files, err := h.serving.dupListeners()
	if err != nil {
		return err
	}
	h.log.Info("handing over", "binary", bin)
	h.serving.drain(drainTimeout)
	restore := func(err error) error {
		h.reaper.Resume()
		if rerr := h.serving.restart(files); rerr != nil {
			return fmt.Errorf("%w; listeners not restored: %w", err, rerr)
		}
		return err
	}
	st := handoff{Version: handoverVersion, Listeners: map[string]int{}, Gossip: h.ring.Addr(), Inc: h.ring.Inc()}
	self := h.ring.Addr()
	for _, m := range h.ring.Members() {
		if a := net.JoinHostPort(m.Address, strconv.Itoa(m.Port)); m.Health == "alive" && a != self {
			st.Peers = append(st.Peers, a)
		}
	}
	st.Partials = h.reaper.Pause()
	fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err = h.flush(fctx)
	cancel()
	if err != nil {
		return restore(fmt.Errorf("flush output: %w", err))
	}
	for name, f := range files {
		// Inherited across the exec: the only descriptors that are.
		fd, err := setCloexec(f, false)
		if err != nil {
			return restore(fmt.Errorf("hand over %s listener: %w", name, err))
		}
		st.Listeners[name] = fd
	}
	// The ring's sockets last: its member answers its peers until the
	// exec, and what they send after waits in the sockets for the
	// successor. Without them it binds the address again.
	if udp, tcp, err := h.ring.SocketFiles(); err != nil {
		h.log.Warn("gossip sockets not handed over; the ring rebinds its address", "err", err)
	} else {
		files["gossip-udp"], files["gossip-tcp"] = udp, tcp
		if st.GossipUDP, err = setCloexec(udp, false); err == nil {
			st.GossipTCP, err = setCloexec(tcp, false)
		}
		if err != nil {
			return restore(fmt.Errorf("hand over the gossip sockets: %w", err))
		}
	}
	st.Services = map[string]*service.Carried{}
	st.Events, _, _ = h.events.Tail(events.Keep).Take(nil, 0)
	snap := h.status()
	st.StoreRecords = snap.StoreRecords
	if snap.Ring != nil {
		st.RingRecords = snap.Ring.Records
	}
	for i := range snap.Services {
		s := snap.Services[i]
		if c := service.CarriedOf(s); c != nil {
			st.Services[s.Name] = c
		}
	}
	path := filepath.Join(h.stateDir, handoverFile)
	b, _ := json.Marshal(st)
	if err := writeOwnFile(path, b); err != nil {
		return restore(fmt.Errorf("write hand-over state: %w", err))
	}
	env := []string{handoverEnv + "=" + path}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, handoverEnv+"=") {
			env = append(env, kv)
		}
	}
	argv := append([]string{bin}, os.Args[1:]...)
	err = syscall.Exec(bin, argv, env)
	// Still here: the exec failed, and this supervisor carries on.
	os.Remove(path)
	for _, f := range files {
		setCloexec(f, true)
	}
	return restore(fmt.Errorf("exec %s: %w", bin, err))
}

// setCloexec sets or clears FD_CLOEXEC on f and returns its descriptor.
// Not through f.Fd, which would make the socket blocking, for the
// listener that shares it too: its accept would then block where the
// server's shutdown cannot end it.
func setCloexec(f *os.File, on bool) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	var fd int
	var serr error
	flag := 0
	if on {
		flag = unix.FD_CLOEXEC
	}
	err = rc.Control(func(u uintptr) {
		fd = int(u)
		_, serr = unix.FcntlInt(u, unix.F_SETFD, flag)
	})
	return fd, cmp.Or(err, serr)
}
