package ring

import (
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-sockaddr"
	"github.com/hashicorp/memberlist"
	"golang.org/x/sys/unix"
)

// Sockets are the gossip sockets a member serves on when they were handed
// to it (a supervisor that re-executed itself keeps its own): bound, and
// whatever peers sent meanwhile waiting in them.
type Sockets struct {
	UDP *net.UDPConn
	TCP *net.TCPListener
}

// socketTransport is memberlist's transport on given sockets: what
// NetTransport does once it has bound its own (which it cannot be given).
type socketTransport struct {
	s        Sockets
	logger   *log.Logger
	packetCh chan *memberlist.Packet
	streamCh chan net.Conn
	stop     chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
}

var _ memberlist.NodeAwareTransport = (*socketTransport)(nil)

func newSocketTransport(s Sockets, logger *log.Logger) *socketTransport {
	t := &socketTransport{s: s, logger: logger, packetCh: make(chan *memberlist.Packet),
		streamCh: make(chan net.Conn), stop: make(chan struct{})}
	t.wg.Go(t.readPackets)
	t.wg.Go(t.acceptStreams)
	return t
}

func (t *socketTransport) stopped() bool {
	select {
	case <-t.stop:
		return true
	default:
		return false
	}
}

func (t *socketTransport) readPackets() {
	buf := make([]byte, 65536)
	for {
		n, addr, err := t.s.UDP.ReadFrom(buf)
		ts := time.Now()
		if err != nil {
			if t.stopped() || errors.Is(err, net.ErrClosed) {
				return
			}
			t.logger.Printf("[ERR] ring: UDP read: %v", err)
			continue
		}
		if n < 1 {
			continue
		}
		select {
		case t.packetCh <- &memberlist.Packet{Buf: append([]byte(nil), buf[:n]...), From: addr, Timestamp: ts}:
		case <-t.stop:
			return
		}
	}
}

func (t *socketTransport) acceptStreams() {
	for {
		c, err := t.s.TCP.AcceptTCP()
		if err != nil {
			if t.stopped() || errors.Is(err, net.ErrClosed) {
				return
			}
			t.logger.Printf("[ERR] ring: TCP accept: %v", err)
			select {
			case <-t.stop:
				return
			case <-time.After(5 * time.Millisecond): // as NetTransport backs off
			}
			continue
		}
		select {
		case t.streamCh <- c:
		case <-t.stop:
			c.Close()
			return
		}
	}
}

// FinalAdvertiseAddr is NetTransport's: ip when given, else the bound
// address, else (bound to every address) the host's private address.
func (t *socketTransport) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	if ip != "" {
		a := net.ParseIP(ip)
		if a == nil {
			return nil, 0, fmt.Errorf("failed to parse advertise address %q", ip)
		}
		if v4 := a.To4(); v4 != nil {
			a = v4
		}
		return a, port, nil
	}
	bound := t.s.TCP.Addr().(*net.TCPAddr)
	if !bound.IP.IsUnspecified() {
		return bound.IP, port, nil
	}
	s, err := sockaddr.GetPrivateIP()
	if err != nil || s == "" {
		return nil, 0, fmt.Errorf("no private IP address to advertise: %v", err)
	}
	return net.ParseIP(s), port, nil
}

func (t *socketTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

func (t *socketTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	ua, err := net.ResolveUDPAddr("udp", a.Addr)
	if err != nil {
		return time.Time{}, err
	}
	_, err = t.s.UDP.WriteTo(b, ua)
	return time.Now(), err
}

func (t *socketTransport) PacketCh() <-chan *memberlist.Packet { return t.packetCh }

func (t *socketTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return net.DialTimeout("tcp", addr, timeout)
}

func (t *socketTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	return t.DialTimeout(a.Addr, timeout)
}

func (t *socketTransport) StreamCh() <-chan net.Conn { return t.streamCh }

// GetAutoBindPort is the port bound.
func (t *socketTransport) GetAutoBindPort() int { return t.s.TCP.Addr().(*net.TCPAddr).Port }

func (t *socketTransport) Shutdown() error {
	t.once.Do(func() {
		close(t.stop)
		t.s.UDP.Close()
		t.s.TCP.Close()
		t.wg.Wait()
	})
	return nil
}

// SocketFiles returns duplicates of the member's gossip sockets, UDP and
// listening TCP, found by their address among this process's descriptors
// (NetTransport does not give them out), for a hand-over: they stay open,
// and what peers send waits in them, until a successor serves them.
func (r *Ring) SocketFiles() (udp, tcp *os.File, err error) {
	_, p, err := net.SplitHostPort(r.Addr())
	if err != nil {
		return nil, nil, fmt.Errorf("ring: no address: %w", err)
	}
	port, _ := strconv.Atoi(p)
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, nil, err
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// A duplicate first: fd may be closed and reused meanwhile, the
		// duplicate is checked and kept.
		dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			continue
		}
		kind := gossipSocket(dup, port)
		switch {
		case kind == unix.SOCK_DGRAM && udp == nil:
			udp = os.NewFile(uintptr(dup), "gossip-udp")
		case kind == unix.SOCK_STREAM && tcp == nil:
			tcp = os.NewFile(uintptr(dup), "gossip-tcp")
		default:
			unix.Close(dup)
		}
	}
	if udp == nil || tcp == nil {
		if udp != nil {
			udp.Close()
		}
		if tcp != nil {
			tcp.Close()
		}
		return nil, nil, fmt.Errorf("ring: gossip sockets on port %d not found", port)
	}
	return udp, tcp, nil
}

// gossipSocket is the type of fd when it is a socket bound to port (a
// listening one for TCP: accepted connections share the port), else 0.
func gossipSocket(fd, port int) int {
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return 0
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return 0
	}
	var p int
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		p = a.Port
	case *unix.SockaddrInet6:
		p = a.Port
	default:
		return 0
	}
	if p != port {
		return 0
	}
	if typ == unix.SOCK_STREAM {
		if l, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || l != 1 {
			return 0
		}
	}
	return typ
}
