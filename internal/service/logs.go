package service

import (
	"os"
	"path/filepath"
	"sync"
)

// logPair is the run hook's logs/run.stdout.log and run.stderr.log. Files
// are opened on the first line, so a silent service costs no descriptors.
type logPair struct{ out, err *lazyFile }

func newLogPair(dir, name string, uid, gid int) *logPair {
	return &logPair{
		out: &lazyFile{path: filepath.Join(dir, name+".stdout.log"), uid: uid, gid: gid},
		err: &lazyFile{path: filepath.Join(dir, name+".stderr.log"), uid: uid, gid: gid},
	}
}

func (l *logPair) close() {
	l.out.close()
	l.err.close()
}

type lazyFile struct {
	mu       sync.Mutex
	path     string
	uid, gid int
	f        *os.File
	failed   bool
}

func (l *lazyFile) write(line []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil && !l.failed {
		f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
		if os.IsNotExist(err) { // logs/ is made on first use
			if os.Mkdir(filepath.Dir(l.path), 0o755) == nil && l.uid >= 0 {
				os.Chown(filepath.Dir(l.path), l.uid, l.gid)
			}
			f, err = os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
		}
		if err != nil {
			l.failed = true // the supervisor log still has every line
			return
		}
		if l.uid >= 0 {
			f.Chown(l.uid, l.gid)
		}
		l.f = f
	}
	if l.f != nil {
		buf := make([]byte, 0, len(line)+1)
		l.f.Write(append(append(buf, line...), '\n'))
	}
}

func (l *lazyFile) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
}
