// Package supreg is the registry of the supervisors running on this host
// for this user: one small file per supervisor in a private runtime
// directory, naming its pid, root and listeners. The CLI uses it to find
// the root (and so the control secret) of the supervisor at --remote-sup
// when no root is given, and `sup run` to say which supervisor holds a
// port it cannot bind.
package supreg

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Entry is one running supervisor.
type Entry struct {
	PID   int    `json:"pid"`
	Start uint64 `json:"start"` // field 22 of /proc/PID/stat: a recycled pid is not it
	Root  string `json:"root"`
	Name  string `json:"name"` // --override-name
	// Listen holds the addresses really bound, by listener: ctl, http,
	// https, monitor, gossip.
	Listen map[string]string `json:"listen"`
}

// Dir is the registry's directory: $XDG_RUNTIME_DIR/tend when set (the
// user's private runtime directory), else /run/tend for root, else
// /tmp/tend-UID.
func Dir(getenv func(string) string, euid int) string {
	if d := getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "tend")
	}
	if euid == 0 {
		return "/run/tend"
	}
	return filepath.Join(os.TempDir(), "tend-"+strconv.Itoa(euid))
}

// private makes dir (0700) if needed and checks it is a directory of ours
// that no one else can write: entries name the root whose secret the CLI
// then reads, so another user must not be able to plant one.
func private(dir string, create bool) error {
	if create {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("supervisor registry: %w", err)
		}
	}
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return fmt.Errorf("supervisor registry: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || int(st.Uid) != os.Geteuid() || st.Mode&0o022 != 0 {
		return fmt.Errorf("supervisor registry %s: not a directory of uid %d that only it can write", dir, os.Geteuid())
	}
	return nil
}

// Register writes e (with this process's pid and start time) and returns
// the function that removes it, for the supervisor's exit. A supervisor
// that dies without removing it leaves a file the readers ignore (its pid
// is gone or is another process) and remove.
func Register(dir string, e Entry) (func(), error) {
	if err := private(dir, true); err != nil {
		return nil, err
	}
	e.PID = os.Getpid()
	start, err := startTime(e.PID)
	if err != nil {
		return nil, err
	}
	e.Start = start
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("supervisor registry: %w", err)
	}
	path := filepath.Join(dir, "sup."+strconv.Itoa(e.PID)+".json")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return nil, fmt.Errorf("supervisor registry: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("supervisor registry: %w", err)
	}
	return func() { os.Remove(path) }, nil
}

// Running lists the live supervisors registered in dir, removing the
// entries of those that are gone.
func Running(dir string) []Entry {
	if private(dir, false) != nil {
		return nil
	}
	names, _ := filepath.Glob(filepath.Join(dir, "sup.*.json"))
	var out []Entry
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			continue
		}
		var e Entry
		if json.Unmarshal(b, &e) != nil || e.PID <= 0 {
			continue
		}
		if st, err := startTime(e.PID); err != nil || st != e.Start {
			os.Remove(n) // its supervisor is gone
			continue
		}
		out = append(out, e)
	}
	return out
}

// Holding returns the live supervisor listening on addr (host:port), by
// any of its listeners.
func Holding(dir, addr string) (Entry, string, bool) {
	for _, e := range Running(dir) {
		for name, a := range e.Listen {
			if SameAddr(a, addr) {
				return e, name, true
			}
		}
	}
	return Entry{}, "", false
}

// ControlRoot returns the supervisor whose control gateway is at addr.
func ControlRoot(dir, addr string) (Entry, bool) {
	for _, e := range Running(dir) {
		if SameAddr(e.Listen["ctl"], addr) {
			return e, true
		}
	}
	return Entry{}, false
}

// SameAddr reports whether a socket bound at a is the one a connection
// to (or a bind of) b meets: the same port, and the same host, or either
// host unspecified (0.0.0.0, ::, ""), or both loopback ("localhost" is).
func SameAddr(a, b string) bool {
	ha, pa, err1 := net.SplitHostPort(a)
	hb, pb, err2 := net.SplitHostPort(b)
	if err1 != nil || err2 != nil || pa != pb {
		return false
	}
	ia, ib := hostIP(ha), hostIP(hb)
	switch {
	case ha == hb:
		return true
	case ia == nil || ib == nil:
		return false
	case ia.IsUnspecified() || ib.IsUnspecified():
		return true
	case ia.IsLoopback() && ib.IsLoopback():
		return true
	}
	return ia.Equal(ib)
}

func hostIP(h string) net.IP {
	switch h {
	case "":
		return net.IPv4zero
	case "localhost":
		return net.IPv4(127, 0, 0, 1)
	}
	return net.ParseIP(h)
}

// startTime is field 22 of /proc/PID/stat (after the command, which may
// hold spaces and parentheses: it ends at the last ')').
func startTime(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, errors.New("supervisor registry: malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, errors.New("supervisor registry: short /proc stat")
	}
	return strconv.ParseUint(f[19], 10, 64)
}
