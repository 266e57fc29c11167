package pkg

import (
	"strings"
	"syscall"
)

// signals are the SHUTDOWN_SIGNAL names a package may give: the signals
// every Unix tend runs on defines (no SIGPWR or SIGSTKFLT, which macOS
// lacks).
var signals = map[string]syscall.Signal{
	"ABRT":   syscall.SIGABRT,
	"ALRM":   syscall.SIGALRM,
	"BUS":    syscall.SIGBUS,
	"CHLD":   syscall.SIGCHLD,
	"CONT":   syscall.SIGCONT,
	"FPE":    syscall.SIGFPE,
	"HUP":    syscall.SIGHUP,
	"ILL":    syscall.SIGILL,
	"INT":    syscall.SIGINT,
	"IO":     syscall.SIGIO,
	"KILL":   syscall.SIGKILL,
	"PIPE":   syscall.SIGPIPE,
	"PROF":   syscall.SIGPROF,
	"QUIT":   syscall.SIGQUIT,
	"SEGV":   syscall.SIGSEGV,
	"STOP":   syscall.SIGSTOP,
	"SYS":    syscall.SIGSYS,
	"TERM":   syscall.SIGTERM,
	"TRAP":   syscall.SIGTRAP,
	"TSTP":   syscall.SIGTSTP,
	"TTIN":   syscall.SIGTTIN,
	"TTOU":   syscall.SIGTTOU,
	"URG":    syscall.SIGURG,
	"USR1":   syscall.SIGUSR1,
	"USR2":   syscall.SIGUSR2,
	"VTALRM": syscall.SIGVTALRM,
	"WINCH":  syscall.SIGWINCH,
	"XCPU":   syscall.SIGXCPU,
	"XFSZ":   syscall.SIGXFSZ,
}

// SignalByName maps a signal name ("TERM", "SIGTERM", "term") to its
// signal and canonical name ("TERM").
func SignalByName(name string) (sig syscall.Signal, canonical string, ok bool) {
	canonical = strings.TrimPrefix(strings.ToUpper(name), "SIG")
	sig, ok = signals[canonical]
	if !ok {
		return 0, "", false
	}
	return sig, canonical, true
}

// Signal is the package's shutdown signal.
func (p *Package) Signal() syscall.Signal {
	if sig, _, ok := SignalByName(p.ShutdownSignal); ok {
		return sig
	}
	// Only a Package built by hand can get here; Read validates the name.
	return syscall.SIGTERM
}
