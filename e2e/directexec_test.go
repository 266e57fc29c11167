package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRunHookExecIsTheShellsExec: a run hook that only execs a program
// (which tend starts without the shell) and one the shell must interpret
// give the same process: argv as written, the hook's environment with the
// service marker, the service directory as working directory.
func TestRunHookExecIsTheShellsExec(t *testing.T) {
	s := startSup(t, t.TempDir())
	tag := uniqueTag()
	hooks := map[string]string{
		"plain": "#!/bin/sh\n# comment\nexec sleep 1000" + tag + "1\n",
		"shell": "#!/bin/sh\nN=1000" + tag + "2\nexec sleep $N\n",
	}
	for name, run := range hooks {
		s.mustTend("svc", "load", pkgDir(t, map[string]string{
			"IDENT":     "test/" + name + "/1.0.0/20260101000000",
			"hooks/run": run,
		}))
	}
	for name, arg := range map[string]string{"plain": "1000" + tag + "1", "shell": "1000" + tag + "2"} {
		var pid int
		waitFor(t, 10*time.Second, name+" up", func() bool {
			st := s.status()[name+".default"]
			pid = st.PID
			return st.State == "up" && pid != 0
		})
		proc := filepath.Join("/proc", strconv.Itoa(pid))
		cmdline := readFile(filepath.Join(proc, "cmdline"))
		if want := "sleep\x00" + arg + "\x00"; cmdline != want {
			t.Errorf("%s: cmdline %q, want %q", name, cmdline, want)
		}
		cwd, err := os.Readlink(filepath.Join(proc, "cwd"))
		if want := filepath.Join(s.root, "svc", name); err != nil || cwd != want {
			t.Errorf("%s: cwd %q (%v), want %q", name, cwd, err, want)
		}
		if env := readFile(filepath.Join(proc, "environ")); !strings.Contains(env, "TEND_SERVICE_GROUP="+name+".default\x00") {
			t.Errorf("%s: environment lacks the service's variables: %q", name, env)
		}
		// The rendered hook is on disk either way, as Habitat's layout has it.
		if got := readFile(filepath.Join(s.root, "svc", name, "hooks", "run")); got != hooks[name] {
			t.Errorf("%s: hooks/run %q, want %q", name, got, hooks[name])
		}
	}
}
