package process

import "golang.org/x/sys/unix"

// userHZ is the unit of a process's start time in /proc/PID/stat (field
// 22): USER_HZ, which sysconf(_SC_CLK_TCK) reports. It is part of Linux's
// user-space ABI, 100 on every architecture Go supports Linux on but
// alpha.
const userHZ = 100

// bootTicks reads CLOCK_BOOTTIME in USER_HZ ticks, the clock and the unit
// of /proc/PID/stat's start time: the kernel stamps a child in clone with
// ktime_get_boottime_ns, the function clock_gettime(CLOCK_BOOTTIME) reads,
// and reports it as nsec_to_clock_t (a division that rounds down), both
// shifted by the reader's time namespace. It returns 0 if the clock cannot
// be read.
func bootTicks() uint64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0
	}
	return uint64(ts.Nano()) / (1e9 / userHZ)
}

// startBetween is the start time of a child forked after before and
// before after were read (bootTicks): exact when both fell in the same
// tick, unknown (0) when a tick ended in between.
func startBetween(before, after uint64) uint64 {
	if before == 0 || before != after {
		return 0
	}
	return before
}
