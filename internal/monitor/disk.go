package monitor

import (
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// diskTTL is how long one statfs sample answers probes. statfs is a syscall
// that can stall on a sick filesystem; load balancers probe several times a
// second, and free space does not change meaningfully faster than this.
const diskTTL = time.Second

// statfs is the default Options.Statfs: free bytes for unprivileged users
// (Bavail, what services actually get, not root's reserve) and free inodes
// (Linux has no f_favail, so Ffree).
func statfs(path string) (freeBytes, freeInodes uint64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	return st.Bavail * uint64(st.Bsize), st.Ffree, nil
}

// diskSample is one immutable statfs result with the verdicts it led to.
type diskSample struct {
	at                  time.Time
	bytes, inodes       uint64
	err                 error
	lowBytes, lowInodes bool // hysteresis verdicts after this sample
}

// enabled reports whether /healthy looks at the disk at all.
func (d *diskWatch) enabled() bool { return d.bytes.onBelow() || d.inodes.onBelow() }

// diskWatch caches statfs results of root and keeps the hysteresis state of
// the two disk thresholds. Probes read the current sample with one atomic
// load; at most one of them refreshes it when it is stale, the others keep
// answering from the stale one meanwhile.
type diskWatch struct {
	root          string
	statfs        func(string) (uint64, uint64, error)
	bytes, inodes Threshold

	cur        atomic.Pointer[diskSample]
	refreshing atomic.Bool
}

// newDiskWatch takes a first sample. A failing root is an error only when a
// threshold depends on it (a misconfiguration better refused at start-up than
// reported by the first probe); for the metrics alone it is not fatal.
func newDiskWatch(root string, fn func(string) (uint64, uint64, error), bytes, inodes Threshold, now time.Time) (*diskWatch, error) {
	d := &diskWatch{root: root, statfs: fn, bytes: bytes, inodes: inodes}
	s := d.next(nil, now)
	if s.err != nil && d.enabled() {
		return nil, fmt.Errorf("checking free space of root: %w", s.err)
	}
	d.cur.Store(s)
	return d, nil
}

// sample returns a sample no older than diskTTL (unless another caller is
// busy refreshing).
func (d *diskWatch) sample(now time.Time) *diskSample {
	s := d.cur.Load()
	if age := now.Sub(s.at); age >= 0 && age < diskTTL {
		return s
	}
	if !d.refreshing.CompareAndSwap(false, true) {
		return s
	}
	defer d.refreshing.Store(false)
	// Re-read: the sample may have been replaced since the first load, and
	// the hysteresis step must start from the latest verdict.
	s = d.cur.Load()
	n := d.next(s, now)
	d.cur.Store(n)
	return n
}

// next takes a new statfs sample and steps the hysteresis from prev. A failed
// statfs keeps the previous verdicts: the error is a reason of its own.
func (d *diskWatch) next(prev *diskSample, now time.Time) *diskSample {
	var lowB, lowI bool
	if prev != nil {
		lowB, lowI = prev.lowBytes, prev.lowInodes
	}
	b, i, err := d.statfs(d.root)
	n := &diskSample{at: now, bytes: b, inodes: i, err: err, lowBytes: lowB, lowInodes: lowI}
	if err != nil {
		return n
	}
	if d.bytes.onBelow() {
		n.lowBytes = d.bytes.stepBelow(lowB, float64(b))
	}
	if d.inodes.onBelow() {
		n.lowInodes = d.inodes.stepBelow(lowI, float64(i))
	}
	return n
}

// ok reports whether s carries no disk reason.
func (s *diskSample) ok() bool { return s.err == nil && !s.lowBytes && !s.lowInodes }

// reasons appends the human-readable disk reasons of s.
func (d *diskWatch) reasons(s *diskSample, out []string) []string {
	if s.err != nil {
		out = append(out, fmt.Sprintf("cannot read free space of %s: %v", d.root, s.err))
	}
	if s.lowBytes {
		out = append(out, fmt.Sprintf("low disk space on %s: %d bytes free (unhealthy below %.0f, healthy again above %.0f)",
			d.root, s.bytes, d.bytes.Lower, d.bytes.Upper))
	}
	if s.lowInodes {
		out = append(out, fmt.Sprintf("low free inodes on %s: %d inodes free (unhealthy below %.0f, healthy again above %.0f)",
			d.root, s.inodes, d.inodes.Lower, d.inodes.Upper))
	}
	return out
}
