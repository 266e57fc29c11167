package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/ctl"
	"github.com/tend-sh/tend/internal/events"
	"github.com/tend-sh/tend/internal/hook"
	"github.com/tend-sh/tend/internal/httpgw"
	"github.com/tend-sh/tend/internal/httpx"
	"github.com/tend-sh/tend/internal/logfile"
	"github.com/tend-sh/tend/internal/manager"
	"github.com/tend-sh/tend/internal/monitor"
	"github.com/tend-sh/tend/internal/process"
	"github.com/tend-sh/tend/internal/ring"
	"github.com/tend-sh/tend/internal/sdnotify"
	"github.com/tend-sh/tend/internal/service"
	"github.com/tend-sh/tend/internal/store"
	"github.com/tend-sh/tend/internal/supcfg"
	"github.com/tend-sh/tend/internal/supreg"
	"github.com/tend-sh/tend/internal/webui"
)

func supRunCmd(env *cliEnv) *cobra.Command {
	c := &cobra.Command{
		Use:   "run",
		Short: "run the supervisor in the foreground; it starts the services it already has",
		Args:  args(cobra.NoArgs),
	}
	flags := supcfg.Bind(c.Flags())
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := supcfg.Load(cmd.Flags(), flags, env.getenv)
		if err != nil {
			return usageError{err}
		}
		return supRun(cmd.Context(), cfg, env)
	}
	return c
}

// listener is one server the supervisor runs.
type listener struct {
	name string
	ln   net.Listener
	srv  *http.Server
	// conns counts its open connections, for a hand-over's drain.
	conns *connCount
}

// supRun is the supervisor's life: take the state directory, open every
// listener, start the services, serve until SIGTERM/SIGINT or `sup term`,
// stop the services, close the listeners.
func supRun(ctx context.Context, cfg supcfg.Config, env *cliEnv) error {
	// First: the reads and the check below are start-up's first work,
	// and entered after them the policy came too late (a restart over 500
	// services collected once, at Go's default 4 MB goal, 33 ms in:
	// GODEBUG=gctrace=1). It only tunes this process's runtime, so a
	// refused start still changes nothing.
	startup := newStartupPolicy()
	stateDir := cfg.StateDir()
	var lock *store.Lock
	defer func() {
		if lock != nil {
			lock.Release()
		}
	}()
	// The state read ahead (readState), waited for before the lock is
	// dropped: deferred after the release, so it runs first.
	var reads sync.WaitGroup
	defer reads.Wait()
	var (
		rumors     *ring.Persisted
		rumorsRead = make(chan struct{})
		specs      *manager.Specs
		specsRead  = make(chan struct{})
	)
	readState := func() {
		reads.Go(func() { specs = manager.ReadSpecs(stateDir); close(specsRead) })
		// Started last, so it runs first: the ring, which waits for the
		// rumors, starts before the manager, which waits for the specs.
		reads.Go(func() { rumors = ring.ReadPersisted(filepath.Join(stateDir, "data")); close(rumorsRead) })
	}
	// On a restart (the state directory has its LOCK file) the start-up
	// file is checked while the persisted rumors and specs are read, not
	// before: the three are independent, each waits on the file system or
	// decodes, and a restart over 500 services spent a third of its time
	// before the first start doing them one after the other. The order
	// still keeps both promises. The state is read only once the lock is
	// held, so no other supervisor is writing it; and a refused start
	// changes nothing: Hold takes the existing LOCK file without writing to
	// it, the reads write nothing, and our pid goes into LOCK (Claim) and
	// anything is created only once the check has passed. When the lock is
	// held by another supervisor, a bad start-up file is still what is
	// reported, as before.
	lock, holdErr := store.Hold(filepath.Join(stateDir, "LOCK"))
	if holdErr == nil {
		readState()
	}
	found, err := checkStartup(cfg)
	if err != nil {
		return err
	}
	if holdErr != nil && !errors.Is(holdErr, os.ErrNotExist) {
		return holdErr
	}
	// Read before anything is started or written: a wrong file is bad
	// input, refused with nothing changed.
	ctlTLS, err := ctl.ServerTLS(cfg.CtlServerCertificate, cfg.CtlServerKey, cfg.CtlClientCACertificate)
	if err != nil {
		return err
	}
	for _, d := range []string{stateDir, filepath.Join(stateDir, "data"), filepath.Join(cfg.Root, "pkgs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	if lock != nil {
		if err := lock.Claim(); err != nil {
			return err
		}
	} else {
		if lock, err = store.Acquire(filepath.Join(stateDir, "LOCK")); err != nil {
			return err
		}
		readState() // a first start: there is nothing yet, or a LOCK-less state dir
	}
	memberID, err := store.MemberID(filepath.Join(stateDir, "MEMBER_ID"))
	if err != nil {
		return err
	}
	secret, err := ctl.EnsureSecret(stateDir)
	if err != nil {
		return err
	}
	log := newLogger(cfg.JSONLogging, env)
	reaper := process.NewReaper(log)
	// The binary `sup restart` re-executes as by default: the path this
	// one was started from, which may hold a newer tend by then.
	exe, _ := os.Executable()
	ho, err := takeHandoff(env.getenv, stateDir, log)
	if err != nil {
		return err
	}
	var carried map[string]*service.Carried
	var carriedEvents []events.Event
	var storeRecords, ringRecords []api.Record
	var gossipSockets *ring.Sockets
	var inc uint64
	if ho != nil {
		cfg.ListenGossip, inc = ho.Gossip, ho.Inc
		cfg.Peers = append(cfg.Peers, ho.Peers...)
		carried, carriedEvents = ho.Services, ho.Events
		storeRecords, ringRecords = ho.StoreRecords, ho.RingRecords
		reaper.SetHandedOver(ho.Partials)
		if gossipSockets, err = ho.gossipSockets(); err != nil {
			return err
		}
	}

	ctx, stopSignals := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stopSignals()
	mgrCtx, term := context.WithCancel(ctx)
	defer term()

	regDir := supreg.Dir(env.getenv, os.Geteuid())
	var raw *rawListeners
	if ho != nil {
		raw, err = ho.inherited()
	} else {
		raw, err = listen(cfg, regDir)
	}
	if err != nil {
		return err
	}
	sys := sysInfo(cfg, raw)
	rg, err := ring.New(ring.Config{
		MemberID: memberID, Bind: cfg.ListenGossip, Peers: cfg.Peers, Permanent: cfg.PermanentPeer,
		KeyFile: cfg.RingKey, DataDir: filepath.Join(stateDir, "data"), Persisted: waitFor(rumorsRead, &rumors), Log: log,
		Sockets: gossipSockets, Inc: inc,
		// Gossip every 500 ms, not memberlist's 200 ms: a ring of 50
		// learns a change in about a second and a half (bench/ring), and
		// an idle supervisor wakes up less (docs/BENCHMARKS.md). Probing
		// and suspicion keep memberlist's LAN values.
		Timing: ring.Timing{GossipInterval: 500 * time.Millisecond},
	})
	if err != nil {
		return err
	}
	ringCtx, stopRing := context.WithCancel(context.Background())
	defer stopRing()
	ringDone := make(chan error, 1)
	go func() { ringDone <- rg.Run(ringCtx) }()
	select {
	case <-rg.Ready():
	case err := <-ringDone:
		closeRaw(raw)
		return fmt.Errorf("gossip ring: %w", inUse(regDir, cfg.ListenGossip, err))
	}
	if h, p, err := net.SplitHostPort(rg.Addr()); err == nil {
		sys.GossipIP = h
		sys.GossipPort, _ = strconv.Atoi(p) // the port really bound, when asked for port 0
	}
	watchdog, _ := sdnotify.Watchdog(env.getenv, os.Getpid())
	heartbeat, stale := beatTiming(watchdog)
	ready := make(chan struct{})
	var mon *monitor.Monitor
	var mgr *manager.Manager
	var wg sync.WaitGroup
	srv := &servers{wg: &wg, log: log, term: term}
	hov := &handover{log: log, reaper: reaper, stateDir: stateDir, exe: exe, req: make(chan string, 1), serving: srv,
		flush:  func(ctx context.Context) error { return mgr.FlushOutput(ctx) },
		failed: func(err error) { mgr.HandoverFailed(err) }, ring: rg,
		status: func() *api.Snapshot { return mgr.Snapshot() }}
	mgr = manager.New(manager.Config{
		Root: cfg.Root, StateDir: stateDir, Org: cfg.Org, MemberID: memberID, Version: version,
		Sys:     sys,
		Backoff: service.Backoff{Min: cfg.MinBackoff, Max: cfg.MaxBackoff, Cooldown: cfg.Cooldown},
		Logs:    logfile.Limits{MaxBytes: int64(cfg.LogMaxBytes), Backups: int(cfg.LogBackups)},
		Specs:   func() *manager.Specs { return waitFor(specsRead, &specs) },
		Startup: cfg.Services, StartupFound: found, Env: serviceEnv(os.Environ()), Getenv: env.getenv,
		Log: log, Output: serviceOutput(cfg.JSONLogging, env), Reaper: hook.Reaper(reaper),
		Term:         term,
		Handover:     hov.request,
		Carried:      carried,
		StoreRecords: storeRecords, RingRecords: ringRecords,
		Events:  carriedEvents,
		Ring:    rg,
		Healthy: func() (bool, []string) { return mon.Healthy() },
		Settled: func() { startup.settled(); close(ready) },
		Cgroups: cfg.Cgroups, NewWatcher: manager.InotifyWatcher,
		Privileged:   os.Geteuid() == 0,
		Heartbeat:    heartbeat,
		UpdateSource: cfg.UpdateSource, UpdatePeriod: cfg.UpdatePeriod,
	})
	// The manager has the start-up file's entries; this frame lives as
	// long as the supervisor and reads them no more.
	cfg.Services, found = nil, nil
	reg := prometheus.NewRegistry()
	mon, err = monitor.New(monitor.Options{
		Snapshot:       mgr.Snapshot,
		Root:           cfg.Root,
		DiskFreeBytes:  monitor.Threshold{Lower: float64(cfg.Monitor.DiskFreeBytes.Lower), Upper: float64(cfg.Monitor.DiskFreeBytes.Upper)},
		DiskFreeInodes: monitor.Threshold{Lower: float64(cfg.Monitor.DiskFreeInodes.Lower), Upper: float64(cfg.Monitor.DiskFreeInodes.Upper)},
		ServicesDown:   monitor.Threshold{Lower: float64(cfg.Monitor.ServicesDown.Lower), Upper: float64(cfg.Monitor.ServicesDown.Upper)},
		Ready:          cfg.Monitor.ReadyEnabled,
		Healthy:        cfg.Monitor.HealthyEnabled,
		Status:         cfg.Monitor.StatusEnabled,
		Metrics:        cfg.Monitor.MetricsEnabled,
		Registry:       reg,
		Loops:          func() []monitor.Loop { return monitorLoops(mgr.Loops()) },
		LoopStale:      stale,
	})
	if err != nil {
		return err
	}

	hov.events = mgr.Events()
	srv.make = func(raw *rawListeners) ([]listener, error) {
		lns, err := serveListeners(cfg, raw, ctlTLS, secret, mgr, mon, log)
		for i := range lns {
			lns[i].conns = newConnCount()
			lns[i].srv.ConnState = lns[i].conns.track
		}
		return lns, err
	}
	lns, err := srv.make(raw)
	if err != nil {
		closeRaw(raw)
		return err
	}
	srv.raw, srv.lns = raw, lns
	attrs := []any{"member_id", memberID, "pid", os.Getpid(), "root", cfg.Root, "gossip", rg.Addr()}
	for _, l := range lns {
		attrs = append(attrs, l.name, l.ln.Addr().String())
	}
	switch {
	case ctlTLS != nil && ctlTLS.ClientCAs != nil:
		attrs = append(attrs, "ctl_tls", "client certificates required")
	case ctlTLS != nil:
		attrs = append(attrs, "ctl_tls", "on")
	}
	if ho != nil {
		attrs = append(attrs, "handed_over", true)
	}
	log.Info("tend supervisor starting", attrs...)
	if unregister, err := register(regDir, cfg, rg.Addr(), lns); err != nil {
		// Only the CLI's root discovery and the port-in-use message
		// miss it: not a reason to stop.
		log.Warn("not in the supervisor registry", "err", err)
	} else {
		defer unregister()
	}

	reapCtx, stopReaper := context.WithCancel(context.Background())
	wg.Go(func() { reaper.Run(reapCtx) })
	var hold <-chan struct{}
	if ho != nil {
		hold = ready
	}
	srv.serve(hold)
	// Ended once the manager returns, which it may do on its own (a set-up
	// failure) with mgrCtx never cancelled.
	hovCtx, stopHov := context.WithCancel(mgrCtx)
	wg.Go(func() { hov.loop(hovCtx) })
	notifyCtx, stopNotify := context.WithCancel(context.Background())
	if n, err := sdnotify.FromEnv(env.getenv); err == nil {
		defer n.Close()
		wg.Go(func() {
			sdnotify.Run(notifyCtx, n, sdnotify.Supervisor{
				Ready: ready, Stopping: mgrCtx.Done(),
				Status: mon.Summary, Live: mon.Live, Watchdog: watchdog,
				Errorf: func(f string, a ...any) { log.Warn("systemd notification not sent", "err", fmt.Sprintf(f, a...)) },
			})
		})
	} else if !errors.Is(err, sdnotify.ErrNoSocket) {
		log.Warn("systemd will not be notified", "err", err)
	}
	// The manager returns once every service has stopped; the listeners stay
	// open meanwhile so /healthy can say "shutting down".
	runErr := mgr.Run(mgrCtx)
	stopHov()
	log.Info("services stopped; leaving the ring and closing listeners")
	stopRing()
	if err := <-ringDone; err != nil {
		log.Error("gossip ring", "err", err)
	}
	srv.shutdown(5 * time.Second)
	stopReaper()
	stopNotify()
	wg.Wait()
	log.Info("tend supervisor stopped")
	return runErr
}

// beatTiming is how often the supervisor's loops are asked to answer, and
// how long one may go without answering before /livez fails: a second and
// five, or tighter under a systemd watchdog, which must stop being fed
// well within its interval once a loop is stuck.
func beatTiming(watchdog time.Duration) (heartbeat, stale time.Duration) {
	heartbeat, stale = time.Second, 5*time.Second
	if watchdog > 0 {
		heartbeat, stale = min(heartbeat, watchdog/4), min(stale, watchdog/2)
	}
	return heartbeat, stale
}

func monitorLoops(ls []manager.Loop) []monitor.Loop {
	out := make([]monitor.Loop, len(ls))
	for i, l := range ls {
		out[i] = monitor.Loop{Name: l.Name, Last: l.Last}
	}
	return out
}

// rawListeners are the sockets opened before anything else, so the
// supervisor reports (and templates see) the ports really bound.
type rawListeners struct{ ctl, http, monitor net.Listener }

// set makes ln the listener named name (ctl, http or monitor) and reports
// whether there is one of that name.
func (raw *rawListeners) set(name string, ln net.Listener) bool {
	switch name {
	case "ctl":
		raw.ctl = ln
	case "http":
		raw.http = ln
	case "monitor":
		raw.monitor = ln
	default:
		return false
	}
	return true
}

func listen(cfg supcfg.Config, regDir string) (*rawListeners, error) {
	raw := &rawListeners{}
	var err error
	if raw.ctl, err = net.Listen("tcp", cfg.ListenCtl); err != nil {
		return nil, fmt.Errorf("control gateway: %w", inUse(regDir, cfg.ListenCtl, err))
	}
	if cfg.Monitor.Listen != "" {
		if raw.monitor, err = net.Listen("tcp", cfg.Monitor.Listen); err != nil {
			closeRaw(raw)
			return nil, fmt.Errorf("monitor listener: %w", inUse(regDir, cfg.Monitor.Listen, err))
		}
	}
	if !cfg.HTTP.Disable {
		if raw.http, err = net.Listen("tcp", cfg.ListenHTTP); err != nil {
			closeRaw(raw)
			return nil, fmt.Errorf("http gateway: %w", inUse(regDir, cfg.ListenHTTP, err))
		}
	}
	return raw, nil
}

// inUse says who holds addr when err is "address already in use": a tend
// supervisor of the registry (its pid and root), else another process.
func inUse(regDir, addr string, err error) error {
	if !errors.Is(err, syscall.EADDRINUSE) {
		return err
	}
	if e, name, ok := supreg.Holding(regDir, addr); ok {
		return fmt.Errorf("%s is in use by tend pid %d (its %s listener), root %s: %w", addr, e.PID, name, e.Root, err)
	}
	return fmt.Errorf("%s is in use by another process (no tend supervisor of this user holds it): %w", addr, err)
}

// register puts this supervisor in the registry: its root and the
// addresses it bound.
func register(regDir string, cfg supcfg.Config, gossip string, lns []listener) (func(), error) {
	root, err := filepath.Abs(cfg.Root)
	if err != nil {
		return nil, err
	}
	e := supreg.Entry{Root: root, Name: cfg.OverrideName, Listen: map[string]string{"gossip": gossip}}
	for _, l := range lns {
		e.Listen[l.name] = l.ln.Addr().String()
	}
	return supreg.Register(regDir, e)
}

func closeRaw(raw *rawListeners) {
	for _, l := range []net.Listener{raw.ctl, raw.http, raw.monitor} {
		if l != nil {
			l.Close()
		}
	}
}

func serveListeners(cfg supcfg.Config, raw *rawListeners, ctlTLS *tls.Config, secret []byte, mgr *manager.Manager, mon *monitor.Monitor, log *slog.Logger) ([]listener, error) {
	ctlSrv := ctl.NewServer(ctl.NewHandler(mgr, secret, log))
	// Failed handshakes (a plain client, a wrong certificate) are the
	// server's own errors: into the log, not onto stderr bare.
	ctlSrv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	ctlLn := raw.ctl
	if ctlTLS != nil {
		// TLS replaces plain TCP on the same port, as in Habitat. The
		// server bounds each handshake by its ReadHeaderTimeout.
		ctlSrv.TLSConfig = ctlTLS
		ctlLn = tls.NewListener(raw.ctl, ctlTLS)
	}
	lns := []listener{{name: "ctl", ln: ctlLn, srv: ctlSrv}}
	monRoutes := mon.Routes()
	// The web page goes where the monitoring endpoints go. It is served
	// before auth (it holds no data; a browser cannot add a header to a
	// navigation) and asks for the token the requests it makes need.
	var page http.Handler
	if cfg.Monitor.UIEnabled {
		page = webui.Handler()
		monRoutes[webui.Pattern] = page
	}
	if raw.monitor != nil {
		h := httpx.Instrument(mon.ObserveHTTP, webui.Public(page, httpx.Auth(cfg.Monitor.APIKeys, monitorMux(monRoutes, page != nil, mgr, log))))
		lns = append(lns, listener{name: "monitor", ln: raw.monitor, srv: httpx.NewServer(h, log)})
		monRoutes, page = nil, nil
	}
	if raw.http != nil {
		tlsCfg, err := httpx.TLSConfig(cfg.HTTP.Key, cfg.HTTP.Certs, cfg.HTTP.CACerts)
		if err != nil {
			return nil, err
		}
		mux := httpgw.New(httpgw.Options{Snapshot: mgr.Snapshot, Redact: cfg.HTTP.Redact, Extra: monRoutes, Log: log,
			Events: mgr.Events(), Logs: mgr})
		srv := httpx.NewServer(httpx.Instrument(mon.ObserveHTTP, webui.Public(page, httpx.Auth(cfg.HTTP.Tokens, mux))), log)
		ln, name := raw.http, "http"
		if tlsCfg != nil {
			srv.TLSConfig = tlsCfg
			ln, name = tls.NewListener(ln, tlsCfg), "https"
		}
		lns = append(lns, listener{name: name, ln: ln, srv: srv})
	}
	return lns, nil
}

// monitorMux routes the monitoring listener of its own. With the web page,
// which reads the services and the ring from its own origin, it answers the
// gateway's read routes too, always redacted: a monitoring key does not open
// services' configurations or output.
func monitorMux(routes map[string]http.Handler, withPage bool, mgr *manager.Manager, log *slog.Logger) http.Handler {
	if withPage {
		return httpgw.New(httpgw.Options{Snapshot: mgr.Snapshot, Redact: true, Extra: routes, Log: log,
			Events: mgr.Events(), Logs: mgr})
	}
	mux := http.NewServeMux()
	for pattern, h := range routes {
		mux.Handle(pattern, h)
	}
	return mux
}

// serviceEnv is the supervisor's environment without its secrets: hooks
// inherit it, and a service has no business with our tokens.
func serviceEnv(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "NOTIFY_SOCKET", k == "WATCHDOG_USEC", k == "WATCHDOG_PID",
			strings.HasSuffix(k, "_SECRET"), strings.HasSuffix(k, "_TOKEN"),
			strings.Contains(k, "API_KEY"), strings.HasPrefix(k, "TEND_MONITOR_"),
			k == "TEND_HTTP_AUTH_TOKENS":
			continue
		}
		out = append(out, kv)
	}
	return out
}

func sysInfo(cfg supcfg.Config, raw *rawListeners) (s api.Sys) {
	host, _ := os.Hostname()
	ip := cfg.SysIPAddress
	if ip == "" {
		ip = detectIP()
	}
	split := func(addr string) (string, int) {
		h, p, _ := net.SplitHostPort(addr)
		n, _ := strconv.Atoi(p)
		return h, n
	}
	s.IP, s.Hostname = ip, host
	s.GossipIP, s.GossipPort = split(cfg.ListenGossip)
	s.HTTPGatewayIP, s.HTTPGatewayPort = split(cfg.ListenHTTP)
	if raw.http != nil {
		s.HTTPGatewayIP, s.HTTPGatewayPort = split(raw.http.Addr().String())
	}
	s.CtlGatewayIP, s.CtlGatewayPort = split(raw.ctl.Addr().String())
	s.Permanent = cfg.PermanentPeer
	return s
}

// detectIP picks the first non-loopback IPv4 address, else 127.0.0.1.
func detectIP() string {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

// waitFor returns *v once done is closed: what a goroutine set before it
// closed done.
func waitFor[T any](done <-chan struct{}, v *T) T {
	<-done
	return *v
}
