package service

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// directExec recognises a run hook whose only work is `exec PROGRAM ARGS`
// under /bin/sh or bash and returns what the shell would exec: the program,
// found as the shell finds it (the hook's own PATH), and argv (PROGRAM as
// written, then ARGS).
// Starting that directly skips one exec of the shell per start, which is
// most of what a restart costs (docs/BENCHMARKS.md); the process, its
// argv, environment, directory and credentials are exactly those the shell
// would have exec'd. Anything the shell could interpret differently
// (quotes, variables, globs, redirections, more than one command) is left
// to the shell: ok is false.
func directExec(script string, env []string, paths *PathCache) (path string, argv []string, ok bool) {
	lines := strings.Split(script, "\n")
	if !shellShebang(lines[0]) {
		return "", nil, false
	}
	var cmd string
	for _, l := range lines[1:] {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if cmd != "" {
			return "", nil, false
		}
		cmd = l
	}
	words := strings.Fields(cmd)
	if len(words) < 2 || words[0] != "exec" {
		return "", nil, false
	}
	words = words[1:]
	for _, w := range words {
		if !plainWord(w) {
			return "", nil, false
		}
	}
	prog := words[0]
	if strings.HasPrefix(prog, "-") || strings.Contains(prog, "=") {
		return "", nil, false
	}
	var p string
	var found bool
	switch {
	case filepath.IsAbs(prog):
		p, found = prog, executable(prog)
	case strings.Contains(prog, "/"):
		found = false // relative to the hook's directory: the shell's business
	default:
		p, found = paths.lookPath(prog, env)
	}
	if !found {
		return "", nil, false // let the shell say "not found" in the hook's log
	}
	return p, words, true
}

// shellShebang accepts the interpreters whose `exec` behaves as execve.
func shellShebang(line string) bool {
	line = strings.TrimSpace(strings.TrimPrefix(line, "#!"))
	switch strings.Join(strings.Fields(line), " ") {
	case "/bin/sh", "/usr/bin/sh", "/bin/bash", "/usr/bin/bash", "/usr/bin/env sh", "/usr/bin/env bash":
		return true
	}
	return false
}

// plainWord is a word the shell passes on unchanged: no quoting,
// expansion, globbing, redirection or operator characters.
func plainWord(w string) bool {
	for _, c := range w {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.ContainsRune("_-+=:,./@%", c):
		default:
			return false
		}
	}
	return true
}

// PathCache shares PATH searches between the services of one start-up:
// hundreds of run hooks exec the same few programs, and a search is a stat
// per PATH entry. Only searches made while the supervisor starts use it
// (a nil cache searches afresh): later, a program installed meanwhile is
// found as the shell would find it.
type PathCache struct {
	mu   sync.Mutex
	hits map[string]pathHit // by PATH + "\x00" + program
}

type pathHit struct {
	path  string
	found bool
}

// NewPathCache returns an empty cache.
func NewPathCache() *PathCache { return &PathCache{hits: map[string]pathHit{}} }

// lookPath searches the PATH of env, as the shell does before its exec.
func (c *PathCache) lookPath(prog string, env []string) (string, bool) {
	path, set := "", false
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path, set = v, true
		}
	}
	if !set {
		return "", false
	}
	if c == nil {
		return searchPath(prog, path)
	}
	key := path + "\x00" + prog
	c.mu.Lock()
	hit, ok := c.hits[key]
	c.mu.Unlock()
	if !ok {
		hit.path, hit.found = searchPath(prog, path)
		c.mu.Lock()
		c.hits[key] = hit
		c.mu.Unlock()
	}
	return hit.path, hit.found
}

func searchPath(prog, path string) (string, bool) {
	for _, dir := range filepath.SplitList(path) {
		if dir == "" || !filepath.IsAbs(dir) {
			return "", false // relative PATH entries depend on the shell's cwd rules
		}
		if p := filepath.Join(dir, prog); executable(p) {
			return p, true
		}
	}
	return "", false
}

func executable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
