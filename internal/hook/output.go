package hook

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"unicode/utf8"
)

// excerptSize is how much of the latest output a Result keeps.
const excerptSize = 1 << 10

// output takes a hook's lines: to its log files, to Spec.Log, and into the
// excerpt. stdout and stderr call in from two goroutines.
type output struct {
	log           func(stream byte, line []byte)
	stdoutF, errF *os.File
	stdoutB, errB []byte // per-stream scratch: line plus newline, one write
	mu            sync.Mutex
	tail          []byte // the latest output, trimmed to excerptSize now and then
}

func newOutput(s Spec) (*output, error) {
	o := &output{log: s.Log}
	if s.LogDir == "" {
		return o, nil
	}
	var err error
	if o.stdoutF, err = openLog(s.LogDir, s.Name+".stdout.log"); err != nil {
		return nil, err
	}
	if o.errF, err = openLog(s.LogDir, s.Name+".stderr.log"); err != nil {
		o.stdoutF.Close()
		return nil, err
	}
	return o, nil
}

// openLog truncates: a log file holds the latest run only.
func openLog(dir, name string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("hook: open log: %w", err)
	}
	return f, nil
}

func (o *output) stdout(line []byte) { o.line('O', line, o.stdoutF, &o.stdoutB) }
func (o *output) stderr(line []byte) { o.line('E', line, o.errF, &o.errB) }

func (o *output) line(stream byte, line []byte, f *os.File, scratch *[]byte) {
	if f != nil {
		// Unbuffered, so the file shows a long-running hook's progress.
		// A failed write (disk full) must not stop the hook; it is lost.
		*scratch = append(append((*scratch)[:0], line...), '\n')
		_, _ = f.Write(*scratch)
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

// close closes the log files. Writes were unbuffered, so there is nothing to
// flush and no error worth failing a finished hook for.
func (o *output) close() {
	for _, f := range []*os.File{o.stdoutF, o.errF} {
		if f != nil {
			f.Close()
		}
	}
}
