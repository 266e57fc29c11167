// Package sdnotify speaks systemd's readiness protocol (sd_notify(3)):
// newline-separated KEY=VALUE assignments ("READY=1", "STATUS=...",
// "WATCHDOG=1", "STOPPING=1"), one datagram each, over an AF_UNIX
// datagram socket named by $NOTIFY_SOCKET. A name starting with '@' is
// an abstract socket: its first byte is NUL on the wire.
//
// It is both sides: the supervisor tells systemd (Notifier, Run), and
// a service tells the supervisor (Listen), on a socket tend makes for it.
// It is written here rather than taken from a library: the protocol is a
// single sendmsg, and a dependency would bring more than that.
package sdnotify
