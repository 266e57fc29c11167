package process

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// pipeSize is what a service's output FIFO holds: what the service writes
// while no supervisor reads it (between a SIGKILL of the supervisor and
// its successor's adoption) waits there; a service that fills it blocks
// on its next write, and no line is lost. A quarter of a MiB, four times
// Linux's default: the kernel allocates a pipe's slot array when it is
// sized, whether or not anything is written, and at 1 MiB that was 15.6 MB
// of unreclaimable kernel memory for the 1,000 FIFOs of 500 services
// (4.2 MB at this size, 1.3 MB at the default; docs/BENCHMARKS.md,
// session 13). The pages themselves are only taken as they are written.
// Best effort: an unprivileged supervisor past fs.pipe-user-pages-soft
// keeps the default.
const pipeSize = 256 << 10

// fifoReader opens the output FIFO at path for reading, non-blocking for
// the poller, making it if nothing is there, and sizes its pipe. Start
// calls it on the supervisor's own table before the fork; the thread
// that forks only opens the write end (fifoWriter) for the child, and no descriptor has to be passed from the
// spawner's table. The child holding both ends of its own output means it
// never gets SIGPIPE or EPIPE when the supervisor dies, and a successor
// finds the same pipe, with what was written meanwhile, by opening path.
//
// Kept rather than made anew at each start, and only made when the open
// finds nothing: a start follows the kill of everything the service left
// (nothing else holds the FIFO, so the kernel dropped what it held), and
// a create is what costs on a restart: on a journal-less ext4 each new
// inode pays for the ones freed in the last 30 s (docs/BENCHMARKS.md,
// session 7). Anything at path that is not such a FIFO is replaced.
// mkfifo is the reaper's (unix.Mkfifo; tests count its calls), euid the
// supervisor's effective uid (openFIFO).
func fifoReader(path string, mkfifo func(string, uint32) error, euid int) (int, error) {
	rd, err := openFIFO(path, euid)
	if err != nil {
		// Nothing there (a service's first start): nothing to unlink.
		if !errors.Is(err, unix.ENOENT) {
			if err := unix.Unlink(path); err != nil && !errors.Is(err, unix.ENOENT) {
				return -1, fmt.Errorf("output fifo: %w", err)
			}
		}
		if err := mkfifo(path, 0o600); err != nil {
			return -1, fmt.Errorf("output fifo: %w", err)
		}
		if rd, err = openFIFO(path, euid); err != nil {
			return -1, err
		}
	}
	// On either end: the size is the pipe's, and a pipe no one held
	// open was dropped with its size.
	_, _ = unix.FcntlInt(uintptr(rd), unix.F_SETPIPE_SZ, pipeSize)
	return rd, nil
}

// fifoWriter opens the FIFO at path, whose read end the caller holds
// (fifoReader), read-write for the child: it holds both ends of its
// output.
func fifoWriter(path string) (int, error) {
	wr, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return -1, fmt.Errorf("output fifo: %w", err)
	}
	return wr, nil
}

// openFIFO opens an existing output FIFO for reading, non-blocking, as an
// adopting supervisor does. It refuses anything but a FIFO of this
// supervisor's user (euid) that only it can open: the path is in the
// supervisor's own directory, but a regular file there would read as
// endless EOF.
func openFIFO(path string, euid int) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return -1, fmt.Errorf("output fifo: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO || st.Mode&0o077 != 0 || int(st.Uid) != euid {
		unix.Close(fd)
		return -1, fmt.Errorf("output fifo: %s is not a fifo", path)
	}
	return fd, nil
}
