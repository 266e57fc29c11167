package logfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"syscall"
)

// tailChunk is how much of a file Tail reads at a time, from its end.
const tailChunk = 64 << 10

// maxTailBackups bounds how many rotated files Tail looks through.
const maxTailBackups = 100

// Tail returns up to n lines of the log file name in dir and its rotated
// files (name.1, name.2 … as Rotator leaves them), skipping the newest
// skip lines: the lines written before those, oldest first. It reads
// from the end, a chunk at a time, so a large file costs what the lines
// asked for. Missing files are no lines; it never follows a link.
func Tail(dir, name string, skip, n int) ([]string, error) {
	var out []string // newest first
	for i := 0; i <= maxTailBackups && len(out) < n; i++ {
		file := name
		if i > 0 {
			file = backup(name, i)
		}
		lines, err := tailFile(filepath.Join(dir, file), skip+n-len(out))
		if errors.Is(err, os.ErrNotExist) {
			break // rotation leaves no gaps: nothing older
		}
		if err != nil {
			return nil, err
		}
		for _, l := range lines {
			if skip > 0 {
				skip--
				continue
			}
			if len(out) < n {
				out = append(out, l)
			}
		}
	}
	slices.Reverse(out)
	return out, nil
}

// tailFile returns up to n of path's last lines, newest first.
func tailFile(path string, n int) ([]string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, os.ErrNotExist
	}
	var out []string
	var rest []byte // the start of a line whose beginning is in an earlier chunk
	end := fi.Size()
	for end > 0 && len(out) < n {
		start := max(end-tailChunk, 0)
		chunk := make([]byte, end-start, int(end-start)+len(rest))
		if _, err := f.ReadAt(chunk, start); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		buf := append(chunk, rest...)
		if end == fi.Size() {
			buf = bytes.TrimSuffix(buf, []byte("\n")) // the last line's newline ends nothing
		}
		for len(out) < n {
			i := bytes.LastIndexByte(buf, '\n')
			if i < 0 {
				break
			}
			out = append(out, string(buf[i+1:]))
			buf = buf[:i]
		}
		rest = buf
		end = start
	}
	if end == 0 && len(out) < n && len(rest) > 0 {
		out = append(out, string(rest)) // the file's first line
	}
	return out, nil
}
