package process

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// pipeSize is what a service's output FIFO holds: what the service writes
// while no supervisor reads it (between a SIGKILL of the supervisor and
// its successor's adoption) waits there; a service that fills it blocks
// on its next write, and no line is lost. Pages are only taken as they
// are written, so an idle service costs nothing for it. Best effort: an
// unprivileged supervisor past fs.pipe-user-pages-soft keeps the default.
const pipeSize = 1 << 20

// fifoPipe opens the FIFO at path, made on the service's first start
// (makeFIFO, before the reaper's lock) and kept (in the supervisor's own
// 0700 directory) for every later one, and returns its read end,
// non-blocking for the poller, and a read-write end for the child. The
// child holding both ends of its own output means it never gets SIGPIPE
// or EPIPE when the supervisor dies, and a successor finds the same pipe,
// with what was written meanwhile, by opening path.
//
// Kept rather than made anew at each start: a start follows the kill of
// everything the service left (nothing else holds the FIFO, so the kernel
// dropped what it held), and a create is what costs on a restart: on a
// journal-less ext4 each new inode pays for the ones freed in the last
// 30 s (docs/BENCHMARKS.md, session 7: a restart of 500 services took
// 1.09 s of CPU with FIFOs made anew, and a pipe leak since fixed, against
// 0.63 s with them kept).
// Anything at path that is not such a FIFO is replaced.
func fifoPipe(path string) (rd, wr int, err error) {
	if rd, err = openFIFO(path); err != nil {
		// Nothing there (a service's first start): nothing to unlink.
		if !errors.Is(err, unix.ENOENT) {
			if err := unix.Unlink(path); err != nil && !errors.Is(err, unix.ENOENT) {
				return 0, 0, fmt.Errorf("output fifo: %w", err)
			}
		}
		if err := unix.Mkfifo(path, 0o600); err != nil {
			return 0, 0, fmt.Errorf("output fifo: %w", err)
		}
		// The reader first: a FIFO opened for reading only, non-blocking,
		// needs no writer yet.
		if rd, err = openFIFO(path); err != nil {
			return 0, 0, err
		}
	}
	wr, err = unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		unix.Close(rd)
		return 0, 0, fmt.Errorf("output fifo: %w", err)
	}
	_, _ = unix.FcntlInt(uintptr(wr), unix.F_SETPIPE_SZ, pipeSize)
	return rd, wr, nil
}

// makeFIFO makes the output FIFO at path if nothing is there, so that
// fifoPipe, on the spawner's thread and under the reaper's lock, finds it
// and only opens it. Start calls it before it takes the lock: a create is
// the dear part of a service's first start (an inode, and on ext4 without
// a journal a walk past every inode freed in the last 30 s), and under
// the lock every other start waited for it: 500 first starts on a fresh
// root spent 90–170 ms there, one after another, on a machine busy with
// other work (docs/BENCHMARKS.md, session 10). Once made, this is a
// lookup that finds it (EEXIST). Best effort: fifoPipe replaces what is
// not a FIFO of ours and reports what fails.
func makeFIFO(path string) {
	_ = unix.Mkfifo(path, 0o600)
}

// openFIFO opens an existing output FIFO for reading, non-blocking, as an
// adopting supervisor does. It refuses anything but a FIFO of this
// supervisor's user that only it can open: the path is in the
// supervisor's own directory, but a regular file there would read as
// endless EOF.
func openFIFO(path string) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return -1, fmt.Errorf("output fifo: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO || st.Mode&0o077 != 0 || int(st.Uid) != unix.Geteuid() {
		unix.Close(fd)
		return -1, fmt.Errorf("output fifo: %s is not a fifo", path)
	}
	return fd, nil
}
