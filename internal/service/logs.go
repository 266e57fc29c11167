package service

import (
	"time"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/events"
	"github.com/tend-sh/tend/internal/logfile"
	"github.com/tend-sh/tend/internal/safefs"
)

// What each service keeps of its output in memory, for svc logs and the
// gateway's /logs: its last OutputLines lines, or fewer when they come to
// more than OutputBytes (a line costs its length and lineOverhead). The
// buffer's slots grow as lines come, up to OutputLines of them (72 bytes
// each), so a quiet service holds nothing and a chatty one at most about
// 136 KiB; the whole output stays in the log files under svc/NAME/logs/.
const (
	OutputLines  = 1000
	OutputBytes  = 64 << 10
	lineOverhead = 64
)

func newOutput() *events.Broadcaster[api.LogLine] {
	return events.New(events.Limits{Keep: OutputLines, MaxBytes: OutputBytes},
		func(l api.LogLine) int { return len(l.Text) + len(l.Hook) + lineOverhead }, nil)
}

// Output is the service's output: the recent lines (the run hook's stdout
// and stderr and every other hook's lines, in the order they came) and
// the run hook's older ones, from its log files.
func (r *Runner) Output() events.Output {
	dir := r.st.paths.logs // set by New, never changed
	return events.Output{Recent: r.output, Older: func(stream string, skip, n int) []api.LogLine {
		lines, err := logfile.Tail(dir, "run."+stream+".log", skip, n)
		if err != nil {
			r.d.Log.Warn("svc logs: log file not read", "service", r.sg, "stream", stream, "err", err)
		}
		out := make([]api.LogLine, len(lines))
		for i, l := range lines {
			out[i] = api.LogLine{Stream: stream, Text: l}
		}
		return out
	}}
}

// outputLine keeps one line of output. It never blocks: it runs on the
// goroutine that delivers every service's output.
func (r *Runner) outputLine(stream, hook string, line []byte) {
	r.output.Publish(api.LogLine{At: time.Now(), Stream: stream, Hook: hook, Text: string(line)})
}

// logPair is the run hook's logs/run.stdout.log and run.stderr.log, each
// rotated by size and fed through a queue of its own: the poller that
// delivers every service's output hands a line over and moves on, and a
// service writing faster than the disk loses lines of its own log only.
// Files are opened on the first line, so a silent service costs no
// descriptors.
type logPair struct{ out, err logStream }

// logStream is one of the pair's files.
type logStream struct{ w *logfile.Writer }

// write queues line; it never waits for the disk.
func (s logStream) write(line []byte) { s.w.WriteLine(line) }

func newLogPair(dir, name string, gid int, lim logfile.Limits) *logPair {
	w := func(stream string) logStream {
		r := logfile.NewRotator(logfile.Options{Dir: dir, Name: name + "." + stream + ".log",
			Perm: logPerm, Owner: logOwner(gid), Limits: lim, MakeDir: true})
		return logStream{logfile.NewWriter(r, 0)}
	}
	return &logPair{out: w("stdout"), err: w("stderr")}
}

// close writes what is queued, waits for the writers and closes the files.
func (l *logPair) close() {
	l.out.w.Close()
	l.err.w.Close()
}

// flush writes what is queued, and keeps the files open.
func (l *logPair) flush() {
	l.out.w.Flush()
	l.err.w.Flush()
}

// logPerm is the mode of the run hook's log files: the service's group
// may read them, the service user may not change them.
const logPerm = 0o640

// logOwner is the supervisor's user and the service's group.
func logOwner(gid int) safefs.Owner { return safefs.Owner{UID: -1, GID: gid} }

// logLimits are the service's own limits where its spec sets them, else
// the supervisor's.
func (r *Runner) logLimits(st *state) logfile.Limits {
	lim := r.d.Logs
	if st.spec.LogMaxBytes != nil {
		lim.MaxBytes = int64(*st.spec.LogMaxBytes)
	}
	if st.spec.LogBackups != nil {
		lim.Backups = *st.spec.LogBackups
	}
	return lim
}
