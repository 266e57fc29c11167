package sdnotify

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
)

// Listener receives a service's notifications on a datagram socket of
// its own.
type Listener struct {
	conn *net.UnixConn
	path string
}

// maxDatagram bounds one notification: systemd reads at most a page.
const maxDatagram = 4096

// Listen makes a datagram socket at path (a file left from a previous
// run is removed first) owned by uid and gid, mode 0600, so that the
// service's run process, which may run as another user, can write to it
// and nobody else can; -1 keeps the supervisor's. A path starting with
// '@' is an abstract name: no file, and no permission check.
func Listen(path string, uid, gid int) (*Listener, error) {
	if path[0] == '@' {
		conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
		if err != nil {
			return nil, fmt.Errorf("notify socket: %w", err)
		}
		return &Listener{conn: conn, path: path}, nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("notify socket: %w", err)
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("notify socket: %w", err)
	}
	if uid >= 0 && uid != os.Getuid() {
		if err := os.Chown(path, uid, gid); err != nil {
			conn.Close()
			return nil, fmt.Errorf("notify socket: %w", err)
		}
	}
	if err := os.Chmod(path, 0o600); err != nil {
		conn.Close()
		return nil, fmt.Errorf("notify socket: %w", err)
	}
	return &Listener{conn: conn, path: path}, nil
}

// Path is the socket's path, for the service's NOTIFY_SOCKET.
func (l *Listener) Path() string { return l.path }

// Receive blocks for the next notification and returns its assignments
// as KEY -> VALUE (a later one wins). It fails once the listener is
// closed.
func (l *Listener) Receive() (map[string]string, error) {
	buf := make([]byte, maxDatagram)
	n, err := l.conn.Read(buf)
	if err != nil {
		return nil, err
	}
	return Parse(buf[:n]), nil
}

// Parse reads newline-separated KEY=VALUE assignments; lines without '='
// are ignored, as systemd does.
func Parse(b []byte) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && k != "" {
			out[k] = v
		}
	}
	return out
}

// Close stops receiving and removes the socket file.
func (l *Listener) Close() error {
	err := l.conn.Close()
	if l.path[0] != '@' {
		os.Remove(l.path)
	}
	return err
}
