package service

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestDirectExec(t *testing.T) {
	bin := t.TempDir()
	prog := filepath.Join(bin, "daemon")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "notexec"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=/root", "PATH=/nonexistent:" + bin}
	cases := []struct {
		name, script string
		env          []string
		path         string
		args         []string
	}{
		{"plain", "#!/bin/sh\nexec daemon --port=8080 -v\n", env, prog, []string{"daemon", "--port=8080", "-v"}},
		{"comments and blanks", "#!/bin/bash\n# start it\n\n  exec daemon a,b x@y 50%\n", env, prog, []string{"daemon", "a,b", "x@y", "50%"}},
		{"env shebang", "#!/usr/bin/env sh\nexec daemon\n", env, prog, []string{"daemon"}},
		{"absolute program", "#!/bin/sh\nexec " + prog + " run\n", env, prog, []string{prog, "run"}},
		{"absolute missing", "#!/bin/sh\nexec /nonexistent/srv run\n", env, "", nil},
		{"relative program", "#!/bin/sh\nexec ./bin/srv\n", env, "", nil},
		{"variable", "#!/bin/sh\nexec daemon $PORT\n", env, "", nil},
		{"quoted", "#!/bin/sh\nexec daemon 'a b'\n", env, "", nil},
		{"redirect", "#!/bin/sh\nexec daemon 2>&1\n", env, "", nil},
		{"glob", "#!/bin/sh\nexec daemon *.conf\n", env, "", nil},
		{"tilde", "#!/bin/sh\nexec daemon ~/x\n", env, "", nil},
		{"two commands", "#!/bin/sh\nexport A=1\nexec daemon\n", env, "", nil},
		{"no exec", "#!/bin/sh\ndaemon\n", env, "", nil},
		{"exec alone", "#!/bin/sh\nexec\n", env, "", nil},
		{"exec option", "#!/bin/bash\nexec -a name daemon\n", env, "", nil},
		{"assignment", "#!/bin/sh\nexec A=1 daemon\n", env, "", nil},
		{"other interpreter", "#!/usr/bin/python3\nexec daemon\n", env, "", nil},
		{"no shebang", "exec daemon\n", env, "", nil},
		{"not found", "#!/bin/sh\nexec nosuch\n", env, "", nil},
		{"not executable", "#!/bin/sh\nexec notexec\n", env, "", nil},
		{"no PATH", "#!/bin/sh\nexec daemon\n", []string{"HOME=/"}, "", nil},
		{"relative PATH entry", "#!/bin/sh\nexec daemon\n", []string{"PATH=bin:" + bin}, "", nil},
		{"semicolon", "#!/bin/sh\nexec daemon; echo\n", env, "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path, argv, ok := directExec(c.script, c.env, nil)
			if ok != (c.path != "") || path != c.path || (ok && !slices.Equal(argv, c.args)) {
				t.Fatalf("directExec = %q %q %v; want %q %q", path, argv, ok, c.path, c.args)
			}
		})
	}
}

// A PathCache answers a search it has made without looking again (the
// program found is the one of the first search); without one every
// search looks afresh.
func TestPathCacheSharesSearches(t *testing.T) {
	first, second := t.TempDir(), t.TempDir()
	for _, d := range []string{first, second} {
		if err := os.WriteFile(filepath.Join(d, "daemon"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"PATH=" + first + ":" + second}
	c := NewPathCache()
	if p, ok := c.lookPath("daemon", env); !ok || p != filepath.Join(first, "daemon") {
		t.Fatalf("first search: %q %v", p, ok)
	}
	os.Remove(filepath.Join(first, "daemon"))
	if p, _ := c.lookPath("daemon", env); p != filepath.Join(first, "daemon") {
		t.Fatalf("cached search: %q; want the first answer", p)
	}
	var none *PathCache
	if p, _ := none.lookPath("daemon", env); p != filepath.Join(second, "daemon") {
		t.Fatalf("uncached search: %q; want %s", p, filepath.Join(second, "daemon"))
	}
	if _, ok := c.lookPath("daemon", []string{"PATH=" + t.TempDir()}); ok {
		t.Fatal("another PATH shared the answer")
	}
}
