package hook

import (
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/tend-sh/tend/internal/logfile"
	"github.com/tend-sh/tend/internal/safefs"
)

// excerptSize is how much of the latest output a Result keeps.
const excerptSize = 1 << 10

// output takes a hook's lines: to its log files, to Spec.Log, and into the
// excerpt. stdout and stderr call in from two goroutines (the poller's, for
// every service), so the files are written through queues that never wait
// for the disk.
type output struct {
	log           func(stream byte, line []byte)
	stdoutW, errW *logfile.Writer // nil: no log files
	mu            sync.Mutex
	tail          []byte // the latest output, trimmed to excerptSize now and then
}

func newOutput(s Spec) (*output, error) {
	o := &output{log: s.Log}
	if s.LogDir == "" {
		return o, nil
	}
	var err error
	if o.stdoutW, err = openLog(s, s.Name+".stdout.log"); err != nil {
		return nil, err
	}
	if o.errW, err = openLog(s, s.Name+".stderr.log"); err != nil {
		o.stdoutW.Close()
		return nil, err
	}
	return o, nil
}

// logPerm is the mode of a hook's log files; they are the supervisor's,
// readable by everyone as Habitat's are.
const logPerm = 0o644

// openLog empties the file now: a log file holds the latest run only, a
// run that prints nothing included. It never follows a link (logfile).
func openLog(s Spec, name string) (*logfile.Writer, error) {
	r := logfile.NewRotator(logfile.Options{Dir: s.LogDir, Name: name, Perm: logPerm,
		Owner: safefs.Self, Limits: s.LogLimits, Truncate: true})
	if err := r.Open(); err != nil {
		return nil, fmt.Errorf("hook: open log: %w", err)
	}
	return logfile.NewWriter(r, 0), nil
}

func (o *output) stdout(line []byte) { o.line('O', line, o.stdoutW) }
func (o *output) stderr(line []byte) { o.line('E', line, o.errW) }

func (o *output) line(stream byte, line []byte, w *logfile.Writer) {
	if w != nil {
		// Queued, not buffered: the file shows a long-running hook's
		// progress, and a slow disk holds up no other service's output.
		w.WriteLine(line)
	}
	if o.log != nil {
		o.log(stream, line)
	}
	o.mu.Lock()
	o.tail = append(append(o.tail, line...), '\n')
	if len(o.tail) > 4*excerptSize {
		o.tail = append(o.tail[:0], o.tail[len(o.tail)-excerptSize:]...)
	}
	o.mu.Unlock()
}

// excerpt returns at most the last excerptSize bytes, without the final
// newline and starting at a whole UTF-8 character.
func (o *output) excerpt() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.tail
	if len(t) > 0 && t[len(t)-1] == '\n' {
		t = t[:len(t)-1]
	}
	if len(t) > excerptSize {
		t = t[len(t)-excerptSize:]
		for len(t) > 0 && !utf8.RuneStart(t[0]) {
			t = t[1:]
		}
	}
	return string(t)
}

// close writes out what is queued and closes the log files. A failed write
// is no reason to fail a finished hook.
func (o *output) close() {
	for _, w := range []*logfile.Writer{o.stdoutW, o.errW} {
		if w != nil {
			w.Close()
		}
	}
}
