package sdnotify

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Notifier sends state changes to the socket systemd (or any service
// manager) named. It is safe for concurrent use.
type Notifier struct {
	conn *net.UnixConn
}

// ErrNoSocket means $NOTIFY_SOCKET is not set: nobody listens.
var ErrNoSocket = errors.New("NOTIFY_SOCKET is not set")

// FromEnv returns a Notifier for $NOTIFY_SOCKET, or ErrNoSocket.
func FromEnv(getenv func(string) string) (*Notifier, error) {
	name := getenv("NOTIFY_SOCKET")
	if name == "" {
		return nil, ErrNoSocket
	}
	return Dial(name)
}

// Dial opens a Notifier on the datagram socket name: a path, or '@' and
// an abstract name.
func Dial(name string) (*Notifier, error) {
	if name[0] != '/' && name[0] != '@' {
		return nil, fmt.Errorf("NOTIFY_SOCKET %q: neither an absolute path nor an abstract name (@...)", name)
	}
	// Go's sockaddr conversion turns a leading '@' into the NUL of an
	// abstract address and sends the name's length without a trailing
	// NUL, as sd_notify does.
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("NOTIFY_SOCKET %s: %w", name, err)
	}
	return &Notifier{conn: conn}, nil
}

// Send sends assignments as one datagram, newline-separated. A newline
// inside one would start another assignment: it is replaced by a space.
func (n *Notifier) Send(assignments ...string) error {
	for i, a := range assignments {
		assignments[i] = strings.ReplaceAll(a, "\n", " ")
	}
	_, err := n.conn.Write([]byte(strings.Join(assignments, "\n")))
	if err != nil {
		return fmt.Errorf("sd_notify: %w", err)
	}
	return nil
}

// Close closes the socket.
func (n *Notifier) Close() error { return n.conn.Close() }

// Watchdog is the interval systemd's watchdog expects a WATCHDOG=1
// within ($WATCHDOG_USEC), when it is meant for this process: systemd
// sets $WATCHDOG_PID too, and another process's watchdog is not ours.
func Watchdog(getenv func(string) string, pid int) (time.Duration, bool) {
	usec, err := strconv.ParseUint(getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec == 0 {
		return 0, false
	}
	if p := getenv("WATCHDOG_PID"); p != "" && p != strconv.Itoa(pid) {
		return 0, false
	}
	return time.Duration(usec) * time.Microsecond, true
}
