package pkg

import "strconv"

// Readiness protocols a package may choose, each in a file of its own:
//
//   - NOTIFICATION_FD holds a descriptor number, as s6's notification-fd
//     file: the run process finds a pipe's write end there and writes a
//     newline to it once it is ready.
//   - NOTIFY holds "sd_notify": the run process finds NOTIFY_SOCKET in its
//     environment and sends READY=1 there, as under systemd's Type=notify.
//
// Without either, a service is ready as soon as its run process is up.

// maxNotificationFD bounds NOTIFICATION_FD: the child's descriptor table
// is built up to it.
const maxNotificationFD = 1023

// NotifySD is the one value NOTIFY takes.
const NotifySD = "sd_notify"

// parseNotificationFD reads NOTIFICATION_FD: a descriptor from 3 up
// (0, 1 and 2 are stdin, stdout and stderr).
func parseNotificationFD(file string, data []byte) (int, error) {
	v, n, err := parseSingle(file, data)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, malformed(file, 0, "empty: expected a descriptor number from 3 to %d", maxNotificationFD)
	}
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 || fd > maxNotificationFD {
		return 0, malformed(file, n, "expected a descriptor number from 3 to %d, got %q", maxNotificationFD, v)
	}
	return fd, nil
}

// parseNotify reads NOTIFY: "sd_notify".
func parseNotify(file string, data []byte) (bool, error) {
	v, n, err := parseSingle(file, data)
	if err != nil {
		return false, err
	}
	if v != NotifySD {
		return false, malformed(file, n, "expected %q, got %q", NotifySD, v)
	}
	return true, nil
}
