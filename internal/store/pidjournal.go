package store

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"sync"
)

// PIDJournal is one append-only file of "NAME PID" lines: the run processes
// a supervisor started during its start-up, before their svc/NAME/PID
// files exist. A PID file is a new inode, and while hundreds of services
// start on a busy ext4 those cost more than the spawns; one file serves them
// all until start-up is over and the PID files are written. A supervisor
// killed before then leaves the journal behind, and the next one checks
// what it names as leftovers, as it checks PID files.
//
// Lines are not synced: they only have to outlive the supervisor's
// process, not the machine, whose crash takes the services with it.
type PIDJournal struct {
	path string
	prev map[string]int // read at open; never changed

	mu sync.Mutex
	f  *os.File // nil once removed
}

// OpenPIDJournal reads what an earlier supervisor recorded at path and
// opens it for appending, keeping those lines until Remove: if this
// supervisor is killed too, the next one still finds them.
func OpenPIDJournal(path string) (*PIDJournal, error) {
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("pid journal: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pid journal: %w", err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		// End the torn line a killed supervisor left, so the next line
		// starts clean.
		if _, err := f.Write([]byte{'\n'}); err != nil {
			f.Close()
			return nil, fmt.Errorf("pid journal: %w", err)
		}
	}
	return &PIDJournal{path: path, prev: parsePIDJournal(b), f: f}, nil
}

// parsePIDJournal returns the last pid recorded for each name. Only whole
// lines count: a torn one (a supervisor killed mid-write) could hold part
// of a pid.
func parsePIDJournal(b []byte) map[string]int {
	prev := map[string]int{}
	for len(b) > 0 {
		line, rest, whole := bytes.Cut(b, []byte{'\n'})
		b = rest
		name, pidText, ok := bytes.Cut(line, []byte{' '})
		pid, err := strconv.Atoi(string(pidText))
		if whole && ok && err == nil && pid > 1 && len(name) > 0 {
			prev[string(name)] = pid
		}
	}
	return prev
}

// Previous is the last pid an earlier supervisor recorded for name, or 0.
func (j *PIDJournal) Previous(name string) int { return j.prev[name] }

// Add records that name's run process is pid. It fails once the journal
// is removed: the caller writes the PID file instead.
func (j *PIDJournal) Add(name string, pid int) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return errors.New("pid journal: removed")
	}
	// One write per line, so a line is never interleaved with another.
	if _, err := j.f.Write([]byte(name + " " + strconv.Itoa(pid) + "\n")); err != nil {
		return fmt.Errorf("pid journal: %w", err)
	}
	return nil
}

// Remove closes and deletes the journal, once every pid in it is in a PID
// file (or its service is gone).
func (j *PIDJournal) Remove() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	j.f.Close()
	j.f = nil
	if err := os.Remove(j.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("pid journal: %w", err)
	}
	return nil
}
