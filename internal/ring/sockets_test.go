package ring

import (
	"io"
	"log"
	"net"
	"testing"
	"time"
)

// SocketFiles finds a running member's gossip sockets; a member started
// on them (as after a hand-over) gets what peers sent while none read
// them, and joins as the same member.
func TestHandedOverSocketsKeepWhatWasSent(t *testing.T) {
	a := start(t, Config{MemberID: "a"})
	udpF, tcpF, err := a.SocketFiles()
	if err != nil {
		t.Fatal(err)
	}
	defer udpF.Close()
	defer tcpF.Close()
	pc, err := net.FilePacketConn(udpF)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.FileListener(tcpF)
	if err != nil {
		t.Fatal(err)
	}
	if pc.LocalAddr().String() != a.Addr() || ln.Addr().String() != a.Addr() {
		t.Fatalf("sockets on %s and %s, member on %s", pc.LocalAddr(), ln.Addr(), a.Addr())
	}
	a.kill(t) // its own descriptors close; the duplicates keep the sockets

	// Sent while no member reads the sockets.
	c, err := net.Dial("udp", a.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("held"))
	c.Close()
	tr := newSocketTransport(Sockets{UDP: pc.(*net.UDPConn), TCP: ln.(*net.TCPListener)}, log.New(io.Discard, "", 0))
	defer tr.Shutdown()
	select {
	case p := <-tr.PacketCh():
		if string(p.Buf) != "held" {
			t.Fatalf("packet %q", p.Buf)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the packet sent while no member read the socket was lost")
	}
	if tr.GetAutoBindPort() != ln.Addr().(*net.TCPAddr).Port {
		t.Fatalf("port %d", tr.GetAutoBindPort())
	}
}

// A member started on handed-over sockets, with its predecessor's
// incarnation, is the same member to its peers.
func TestMemberOnHandedOverSockets(t *testing.T) {
	a := start(t, Config{MemberID: "a"})
	b := start(t, Config{MemberID: "b", Peers: []string{a.Addr()}})
	waitFor(t, "b sees a", func() bool { return health(b.Ring, "a") == "alive" })
	udpF, tcpF, err := a.SocketFiles()
	if err != nil {
		t.Fatal(err)
	}
	pc, _ := net.FilePacketConn(udpF)
	ln, _ := net.FileListener(tcpF)
	udpF.Close()
	tcpF.Close()
	inc := a.Inc()
	a.kill(t)
	a2 := start(t, Config{MemberID: "a", Peers: []string{b.Addr()}, Inc: inc,
		Sockets: &Sockets{UDP: pc.(*net.UDPConn), TCP: ln.(*net.TCPListener)}})
	if a2.Addr() != a.Addr() {
		t.Fatalf("new member on %s, was %s", a2.Addr(), a.Addr())
	}
	waitFor(t, "a (new) sees b", func() bool { return health(a2.Ring, "b") == "alive" })
	if m, ok := member(b.Ring, "a"); !ok || m.Health != "alive" || m.Incarnation != inc {
		t.Fatalf("b sees a as %+v, want alive with incarnation %d", m, inc)
	}
}
