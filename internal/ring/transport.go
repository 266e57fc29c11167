package ring

import (
	"context"
	"fmt"
	"log"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// countingTransport is memberlist's NetTransport with every byte on the
// gossip port counted under the "wire" kind: UDP packets (one message each)
// and TCP streams (one message each way a stream carries bytes), both
// directions, after encryption.
//
// Incoming packets and streams pass through two forwarding goroutines that
// the transport owns; Shutdown (called by memberlist's Shutdown) stops them.
// Its dials end when the context given to newCountingTransport ends, so an
// unreachable peer cannot hold a join past the ring's shutdown.
type countingTransport struct {
	nt    baseTransport
	c     *counters
	dialC context.Context
	stopD context.CancelFunc

	packetCh chan *memberlist.Packet
	streamCh chan net.Conn
	closing  chan struct{} // Shutdown began: drop what memberlist does not take
	stop     chan struct{} // listeners down: forwarders return
	wg       sync.WaitGroup
	once     sync.Once
}

var _ memberlist.NodeAwareTransport = (*countingTransport)(nil)

// baseTransport is what countingTransport counts: NetTransport, or
// socketTransport on sockets handed over.
type baseTransport interface {
	memberlist.NodeAwareTransport
	GetAutoBindPort() int
}

// newCountingTransport listens on host:port, UDP and TCP; port 0 picks a
// free port (retried a few times, as memberlist does, since UDP and TCP
// must get the same one). Port returns the port bound.
func newCountingTransport(ctx context.Context, host string, port int, logger *log.Logger, c *counters, given *Sockets) (*countingTransport, error) {
	var nt baseTransport
	if given != nil {
		nt = newSocketTransport(*given, logger)
	} else {
		nc := &memberlist.NetTransportConfig{BindAddrs: []string{host}, BindPort: port, Logger: logger}
		tries := 1
		if port == 0 {
			tries = 10
		}
		var err error
		var n *memberlist.NetTransport
		for range tries {
			if n, err = memberlist.NewNetTransport(nc); err == nil || !strings.Contains(err.Error(), "address already in use") {
				break
			}
		}
		if err != nil {
			return nil, err
		}
		nt = n
	}
	t := &countingTransport{
		nt:       nt,
		c:        c,
		packetCh: make(chan *memberlist.Packet),
		streamCh: make(chan net.Conn),
		closing:  make(chan struct{}),
		stop:     make(chan struct{}),
	}
	t.dialC, t.stopD = context.WithCancel(ctx)
	t.wg.Go(t.forwardPackets)
	t.wg.Go(t.forwardStreams)
	return t, nil
}

// Port is the port bound.
func (t *countingTransport) Port() int { return t.nt.GetAutoBindPort() }

func (t *countingTransport) forwardPackets() {
	in := t.nt.PacketCh()
	for {
		select {
		case <-t.stop:
			return
		case p := <-in:
			t.c.msgsRecv.Add(1)
			t.c.bytesRecv.Add(uint64(len(p.Buf)))
			select {
			case t.packetCh <- p:
			case <-t.closing:
			}
		}
	}
}

func (t *countingTransport) forwardStreams() {
	in := t.nt.StreamCh()
	for {
		select {
		case <-t.stop:
			return
		case conn := <-in:
			select {
			case t.streamCh <- &countingConn{Conn: conn, c: t.c}:
			case <-t.closing:
				_ = conn.Close()
			}
		}
	}
}

func (t *countingTransport) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	return t.nt.FinalAdvertiseAddr(ip, port)
}

func (t *countingTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

func (t *countingTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	ts, err := t.nt.WriteToAddress(b, a)
	if err == nil {
		t.c.msgsSent.Add(1)
		t.c.bytesSent.Add(uint64(len(b)))
	}
	return ts, err
}

func (t *countingTransport) PacketCh() <-chan *memberlist.Packet { return t.packetCh }

func (t *countingTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

// DialAddressTimeout dials as NetTransport does, but gives up when the
// transport's context ends, and the stream ends timeout after the dial
// unless memberlist sets another deadline: memberlist sets none on a user
// message (a delta, a big rumor), and a peer that stopped reading would
// hold the sender, and the ring's shutdown that waits for it, forever.
func (t *countingTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(t.dialC, "tcp", a.Addr)
	if err != nil {
		return nil, err
	}
	if timeout > 0 {
		if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
			_ = conn.Close()
			return nil, err
		}
	}
	return &countingConn{Conn: conn, c: t.c}, nil
}

func (t *countingTransport) StreamCh() <-chan net.Conn { return t.streamCh }

// Shutdown closes the listeners, then stops the forwarders. It may be
// called more than once.
func (t *countingTransport) Shutdown() error {
	var err error
	t.once.Do(func() {
		t.stopD()
		// NetTransport's listeners may be blocked handing a packet or a
		// stream over: the forwarders keep taking them until it is down,
		// and drop them if memberlist no longer reads (or never did, when
		// memberlist.Create failed).
		close(t.closing)
		if e := t.nt.Shutdown(); e != nil {
			err = fmt.Errorf("ring transport: %w", e)
		}
		close(t.stop)
		t.wg.Wait()
	})
	return err
}

// countingConn counts a TCP stream's bytes, and the stream as one message
// in each direction it carries bytes.
type countingConn struct {
	net.Conn
	c                 *counters
	readOne, wroteOne atomic.Bool
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		if c.readOne.CompareAndSwap(false, true) {
			c.c.msgsRecv.Add(1)
		}
		c.c.bytesRecv.Add(uint64(n))
	}
	return n, err
}

func (c *countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if n > 0 {
		if c.wroteOne.CompareAndSwap(false, true) {
			c.c.msgsSent.Add(1)
		}
		c.c.bytesSent.Add(uint64(n))
	}
	return n, err
}
