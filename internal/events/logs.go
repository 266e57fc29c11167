package events

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/tend-sh/tend/internal/api"
)

// DefaultTail is how many lines /logs and `svc logs` show without ?tail.
const DefaultTail = 100

// LogQuery is what a logs request asks for.
type LogQuery struct {
	Tail    int
	Follow  bool
	Streams map[string]bool // nil: every stream
}

// ParseLogQuery reads tail, follow and stream (repeatable, or
// comma-separated) from q.
func ParseLogQuery(q map[string][]string) (LogQuery, error) {
	lq := LogQuery{Tail: DefaultTail}
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if v := get("tail"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return lq, errors.New("tail must be a whole number of lines, 0 or more")
		}
		lq.Tail = n
	}
	switch get("follow") {
	case "", "0", "false":
	case "1", "true":
		lq.Follow = true
	default:
		return lq, errors.New("follow must be 1 or 0")
	}
	for _, v := range q["stream"] {
		for s := range strings.SplitSeq(v, ",") {
			switch s {
			case api.StreamStdout, api.StreamStderr, api.StreamHooks:
				if lq.Streams == nil {
					lq.Streams = map[string]bool{}
				}
				lq.Streams[s] = true
			default:
				return lq, errors.New("stream must be stdout, stderr or hooks, not " + strconv.Quote(s))
			}
		}
	}
	return lq, nil
}

// Wants reports whether q asks for l's stream.
func (q LogQuery) Wants(l *api.LogLine) bool { return q.Streams == nil || q.Streams[l.Stream] }

// Output is a service's output as svc logs and /logs read it: the lines
// kept in memory, and the older ones in its log files.
type Output struct {
	Recent *Broadcaster[api.LogLine]
	// Older returns up to n lines of stream (stdout or stderr) from the
	// service's log files, written before the newest skip of them, oldest
	// first. The files record no time: the lines have none. nil: no files.
	Older func(stream string, skip, n int) []api.LogLine
}

// FollowLogs calls emit with the last q.Tail lines of out that q wants,
// then, with q.Follow, with every such line as it comes, until done is
// closed, out is closed (the service went) or emit fails. A caller that
// falls more than the buffer behind gets the lines that are left after a
// note line of stream "tend" saying some were skipped. wait is called
// when there is nothing to send, with the channel to wait for and the
// reader it came from: wait calls the reader's Leave before it does
// anything else that may block, and may move it on (SkipTo) past lines
// it had written some other way; it returns false to stop.
func FollowLogs(o Output, q LogQuery, emit func([]api.LogLine) error, wait func(ch <-chan struct{}, rd *Reader[api.LogLine]) bool) error {
	out := o.Recent
	var rd *Reader[api.LogLine]
	defer func() { rd.Leave() }() // the last reader: it may wait still
	var lines []api.LogLine
	var err error
	for {
		// A service writing flat out may overwrite the oldest line kept
		// between Tail and Take: then take what is kept now.
		rd = out.Tail(-1)
		lines, _, err = rd.Take(lines[:0], 0)
		if !errors.Is(err, ErrDropped) {
			break
		}
	}
	rd.Leave() // emit may block: the reader is not waiting
	if err != nil && !errors.Is(err, ErrClosed) {
		return err
	}
	var kept []api.LogLine
	for i := range lines {
		if q.Wants(&lines[i]) {
			kept = append(kept, lines[i])
		}
	}
	if len(kept) > q.Tail {
		kept = kept[len(kept)-q.Tail:]
	} else if need := q.Tail - len(kept); need > 0 && o.Older != nil {
		kept = append(older(o, q, lines, need), kept...)
	}
	if err := emit(kept); err != nil || !q.Follow {
		return err
	}
	buf := make([]api.LogLine, 0, logBatch)
	for {
		var ch <-chan struct{}
		buf, ch, err = rd.Take(buf[:0], logBatch)
		switch {
		case errors.Is(err, ErrDropped):
			// Behind by more than the buffer: say so and go on from the
			// oldest line kept. The log files have what was skipped.
			note := api.LogLine{At: time.Now(), Stream: "tend", Text: "[tend: lines skipped: this client read too slowly; the log files have them]"}
			if err := emit([]api.LogLine{note}); err != nil {
				return err
			}
			rd = out.Tail(-1)
			continue
		case err != nil:
			return nil // closed: the service was unloaded or replaced
		}
		kept := buf[:0]
		for i := range buf {
			if q.Wants(&buf[i]) {
				kept = append(kept, buf[i])
			}
		}
		if len(kept) > 0 {
			if err := emit(kept); err != nil {
				return err
			}
		}
		if ch != nil && !wait(ch, rd) {
			return nil
		}
	}
}

// older is up to need lines of the files from before the lines kept in
// memory: stdout's, then stderr's (the files do not say how the two
// interleave).
func older(o Output, q LogQuery, recent []api.LogLine, need int) []api.LogLine {
	var out []api.LogLine
	for _, s := range []string{api.StreamStdout, api.StreamStderr} {
		if q.Streams != nil && !q.Streams[s] {
			continue
		}
		inMemory := 0
		for i := range recent {
			if recent[i].Stream == s {
				inMemory++
			}
		}
		out = append(out, o.Older(s, inMemory, need)...)
	}
	if len(out) > need {
		out = out[len(out)-need:]
	}
	return out
}

// logBatch bounds the lines one emit gets while following.
const logBatch = 256
