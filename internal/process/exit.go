package process

import (
	"fmt"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Exit is how a process ended.
type Exit struct {
	Code   int            // exit code, -1 when killed by a signal
	Signal syscall.Signal // the signal that killed it, 0 when it exited
	At     time.Time      // when the reaper collected it
	// Unknown: the process was adopted, not this supervisor's child, and
	// only its parent learnt how it ended (Code -1, Signal 0).
	Unknown bool
}

func exitFromStatus(ws unix.WaitStatus, at time.Time) Exit {
	if ws.Signaled() {
		return Exit{Code: -1, Signal: ws.Signal(), At: at}
	}
	return Exit{Code: ws.ExitStatus(), At: at}
}

// String reads "exited with code 1" or "killed by signal SIGKILL".
func (e Exit) String() string {
	if e.Unknown {
		return "exited (status unknown: adopted, not a child of this supervisor)"
	}
	if e.Signal != 0 {
		return "killed by signal " + signalName(e.Signal)
	}
	return fmt.Sprintf("exited with code %d", e.Code)
}

func signalName(sig syscall.Signal) string {
	if n := unix.SignalName(sig); n != "" {
		return n
	}
	return fmt.Sprintf("signal %d", int(sig))
}
