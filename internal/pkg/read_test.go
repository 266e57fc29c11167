package pkg

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/tend-sh/tend/internal/ident"
	"github.com/tend-sh/tend/internal/tmpl"
)

func TestReadEveryField(t *testing.T) {
	files := map[string]string{
		"IDENT":                          "# written by the build\ncore/app/1.2.3/20180608091922\n",
		"hooks/run":                      "#!/bin/sh\nexec app --port {{cfg.http.port}}\n",
		"hooks/init":                     "init",
		"hooks/post-run":                 "post-run",
		"hooks/health-check":             "health-check",
		"hooks/reconfigure":              "reconfigure",
		"hooks/suitability":              "suitability",
		"hooks/file-updated":             "file-updated",
		"hooks/post-stop":                "post-stop",
		"run":                            "the plain run file loses to hooks/run",
		"default.toml":                   "[http]\nport = 8080\n",
		"config/app.conf":                "port {{cfg.http.port}}\n",
		"config/nested/deep/x.yml":       "x: 1\n",
		"config/empty/":                  "",
		"EXPORTS":                        "port=http.port\r\n\n# comment\n  host = http.host\n",
		"BINDS":                          "database=port host\n",
		"BINDS_OPTIONAL":                 "cache=port\n",
		"EXPOSES":                        "8080 8443\n9000\n",
		"SVC_USER":                       "hab\n",
		"SVC_GROUP":                      "habgroup\n",
		"SHUTDOWN_SIGNAL":                "INT\n",
		"SHUTDOWN_TIMEOUT":               "30\n",
		"RUNTIME_ENVIRONMENT":            "PATH=/hab/pkgs/core/app/bin:/usr/bin\nJAVA_OPTS= -Xmx1g -Da=b \nEMPTY=\n",
		"DEPS":                           "core/glibc/2.27/20180608091922\n\ncore/openssl/1.0.2/20180608102213\n",
		"TEMPLATE_DIALECT":               "# written for a newer Supervisor\nhandlebars\n",
		"MANIFEST":                       "ignored",
		"TDEPS":                          "ignored",
		"bin/app":                        "ignored",
		"RUNTIME_ENVIRONMENT_PROVENANCE": "ignored",
	}
	dir := newPkg(t, files)
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := &Package{
		Ident: ident.MustParse("core/app/1.2.3/20180608091922"),
		Path:  dir,
		Hooks: map[string]string{
			"run":          files["hooks/run"],
			"init":         "init",
			"post-run":     "post-run",
			"health-check": "health-check",
			"reconfigure":  "reconfigure",
			"suitability":  "suitability",
			"file-updated": "file-updated",
			"post-stop":    "post-stop",
		},
		DefaultTOML: []byte(files["default.toml"]),
		ConfigTemplates: map[string]string{
			"app.conf":          files["config/app.conf"],
			"nested/deep/x.yml": "x: 1\n",
		},
		Exports:         map[string]string{"port": "http.port", "host": "http.host"},
		Binds:           map[string][]string{"database": {"port", "host"}},
		BindsOptional:   map[string][]string{"cache": {"port"}},
		Exposes:         []string{"8080", "8443", "9000"},
		SvcUser:         "hab",
		SvcGroup:        "habgroup",
		ShutdownSignal:  "INT",
		ShutdownTimeout: 30 * time.Second,
		TemplateDialect: tmpl.Handlebars,
		Env: []EnvVar{
			{"PATH", "/hab/pkgs/core/app/bin:/usr/bin"},
			{"JAVA_OPTS", " -Xmx1g -Da=b "},
			{"EMPTY", ""},
		},
		Deps: []ident.Ident{
			ident.MustParse("core/glibc/2.27/20180608091922"),
			ident.MustParse("core/openssl/1.0.2/20180608102213"),
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Read (-want +got):\n%s", diff)
	}
	if got.Signal() != syscall.SIGINT {
		t.Errorf("Signal() = %v", got.Signal())
	}
}

func TestReadDefaults(t *testing.T) {
	dir := newPkg(t, map[string]string{
		"IDENT": "core/app/1.0.0/20200101000000",
		"run":   "exec app",
	})
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := &Package{
		Ident:           ident.MustParse("core/app/1.0.0/20200101000000"),
		Path:            dir,
		Hooks:           map[string]string{"run": "exec app"},
		ShutdownSignal:  "TERM",
		ShutdownTimeout: 8 * time.Second,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Read (-want +got):\n%s", diff)
	}
	if got.Signal() != syscall.SIGTERM {
		t.Errorf("Signal() = %v", got.Signal())
	}
}

// A package Habitat built from a plan with hooks under their old names
// (health_check: core plans carry both spellings) reads as Habitat 1.6
// reads it: the old name stands in for a missing new one, and the new one
// wins when both are there.
func TestReadHabitatDeprecatedHookNames(t *testing.T) {
	got, err := Read(newPkg(t, with(minimal(), map[string]string{
		"hooks/health-check": "new", "hooks/health_check": "old",
		"hooks/post_run": "post-run", "hooks/file_updated": "file-updated", "hooks/post_stop": "post-stop",
	})))
	if err != nil {
		t.Fatal(err)
	}
	for hook, want := range map[string]string{
		"health-check": "new", "post-run": "post-run", "file-updated": "file-updated", "post-stop": "post-stop",
	} {
		if got.Hooks[hook] != want {
			t.Errorf("hook %s = %q; want %q", hook, got.Hooks[hook], want)
		}
	}
	for _, old := range []string{"health_check", "post_run", "file_updated", "post_stop"} {
		if _, ok := got.Hooks[old]; ok {
			t.Errorf("hook kept under its old name %s", old)
		}
	}
}

func TestReadRelativePath(t *testing.T) {
	dir := newPkg(t, minimal())
	t.Chdir(filepath.Dir(dir))
	got, err := Read(filepath.Base(dir))
	if err != nil {
		t.Fatal(err)
	}
	if got.Path != dir {
		t.Errorf("Path = %q, want %q", got.Path, dir)
	}
}

// Plans from core-plans ship Habitat's old hook spellings beside the
// current ones (postgresql has health_check and health-check): the current
// one wins, the old one stands in when it is alone.
func TestReadDeprecatedHookSpellings(t *testing.T) {
	got, err := Read(newPkg(t, with(minimal(), map[string]string{
		"hooks/health-check": "current",
		"hooks/health_check": "old, ignored",
		"hooks/post_stop":    "old, alone",
	})))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"run": minimal()["hooks/run"], "health-check": "current", "post-stop": "old, alone"}
	if diff := cmp.Diff(want, got.Hooks); diff != "" {
		t.Errorf("hooks (-want +got):\n%s", diff)
	}
}

// Text is any UTF-8 without NUL, and a file without mustaches is never
// lexed, so only one with mustaches has a size limit.
func TestReadTextTemplates(t *testing.T) {
	big := strings.Repeat("text/plain txt;\n", tmpl.MaxSource/16+1)
	files := with(minimal(), map[string]string{
		"hooks/run":         "#!/bin/sh\n# café ✓ \ufeff \ufffd \x1b[0m\t\r\nexec app {{cfg.x}}\n",
		"config/mime.types": big,
		"config/at-limit":   "{{cfg.x}}" + strings.Repeat("y", tmpl.MaxSource-9),
	})
	got, err := Read(newPkg(t, files))
	if err != nil {
		t.Fatal(err)
	}
	if got.Hooks["run"] != files["hooks/run"] || got.ConfigTemplates["mime.types"] != big || len(got.ConfigTemplates["at-limit"]) != tmpl.MaxSource {
		t.Fatal("text templates changed on reading")
	}
}

func TestReadOptionalFilesMayBeEmpty(t *testing.T) {
	files := with(minimal(), map[string]string{})
	for _, name := range []string{"EXPORTS", "BINDS", "BINDS_OPTIONAL", "EXPOSES", "SVC_USER", "SVC_GROUP",
		"SHUTDOWN_SIGNAL", "SHUTDOWN_TIMEOUT", "RUNTIME_ENVIRONMENT", "DEPS", "TEMPLATE_DIALECT"} {
		files[name] = "# nothing here\n\n"
	}
	files["config/"] = ""
	files["hooks/init"] = "\n"
	got, err := Read(newPkg(t, files))
	if err != nil {
		t.Fatal(err)
	}
	if got.ShutdownSignal != "TERM" || got.ShutdownTimeout != 8*time.Second || got.TemplateDialect != tmpl.Habitat1 {
		t.Errorf("defaults lost: %q %v", got.ShutdownSignal, got.ShutdownTimeout)
	}
	if got.Exports != nil || got.Binds != nil || got.BindsOptional != nil || got.Exposes != nil ||
		got.Env != nil || got.Deps != nil || got.ConfigTemplates != nil || got.SvcUser != "" {
		t.Errorf("empty files gave values: %+v", got)
	}
}

func TestReadSignalNames(t *testing.T) {
	tests := map[string]struct {
		name string
		sig  syscall.Signal
	}{
		"TERM\n":    {"TERM", syscall.SIGTERM},
		"SIGQUIT\n": {"QUIT", syscall.SIGQUIT},
		"hup":       {"HUP", syscall.SIGHUP},
		" USR2 \n":  {"USR2", syscall.SIGUSR2},
		"KILL":      {"KILL", syscall.SIGKILL},
	}
	for in, want := range tests {
		p, err := Read(newPkg(t, with(minimal(), map[string]string{"SHUTDOWN_SIGNAL": in})))
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if p.ShutdownSignal != want.name || p.Signal() != want.sig {
			t.Errorf("%q: got %q (%v), want %q", in, p.ShutdownSignal, p.Signal(), want.name)
		}
	}
}

func TestReadFollowsSymlinksInsideThePackage(t *testing.T) {
	dir := newPkg(t, map[string]string{
		"real/IDENT":     "core/app/1.0.0/20200101000000\n",
		"real/hooks/run": "exec app\n",
		"real/app.conf":  "conf\n",
	})
	for _, l := range [][2]string{
		{"real/IDENT", "IDENT"},
		{"real/hooks", "hooks"},
		{"../real/app.conf", "config/app.conf"},
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, l[1])), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(l[0], filepath.Join(dir, l[1])); err != nil {
			t.Fatal(err)
		}
	}
	p, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.Hooks["run"] != "exec app\n" || p.ConfigTemplates["app.conf"] != "conf\n" {
		t.Errorf("got %+v", p)
	}
}

func TestReadRefusesSymlinksLeavingThePackage(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"hooks/init", "config/x", "EXPORTS"} {
		dir := newPkg(t, with(minimal(), map[string]string{"config/": ""}))
		if err := os.Symlink(outside, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		_, err := Read(dir)
		want := filepath.Join(dir, name) + ": is a symlink that does not lead to a file inside the package ("
		if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.Is(err, ErrMalformed) {
			t.Errorf("%s linking outside:\n got %v\nwant %s", name, err, want)
		}
	}
}

func TestReadMissingDirectory(t *testing.T) {
	_, err := Read(filepath.Join(t.TempDir(), "nope"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v, want not exist", err)
	}
	if errors.Is(err, ErrMalformed) {
		t.Errorf("a missing directory is not a malformed package: %v", err)
	}
}

// TestMalformed checks that every broken package is refused by Read and by
// Install with one line naming the file and line, and that Install then
// leaves the root untouched.
func TestMalformed(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string // changes to minimal()
		setup func(t *testing.T, dir string)
		file  string // expected file, relative to the package
		line  int
		msg   string // expected message after "FILE:LINE: "; a prefix if it ends in "..."
	}{
		{name: "no IDENT", files: map[string]string{"IDENT": ""},
			file: "IDENT", msg: "missing: a package needs an IDENT file holding origin/name/version/release"},
		{name: "empty IDENT", files: map[string]string{"IDENT": "# nothing\n\n"},
			file: "IDENT", msg: "empty: expected one line origin/name/version/release"},
		{name: "fuzzy IDENT", files: map[string]string{"IDENT": "core/x\n"},
			file: "IDENT", line: 1, msg: `ident "core/x" is not fully qualified`},
		{name: "IDENT after comment", files: map[string]string{"IDENT": "# c\ncore/x/1.0\n"},
			file: "IDENT", line: 2, msg: `ident "core/x/1.0" is not fully qualified`},
		{name: "IDENT two lines", files: map[string]string{"IDENT": "core/x/1/2\ncore/y/1/2\n"},
			file: "IDENT", line: 2, msg: "expected a single line, found another after line 1"},
		{name: "IDENT bad origin", files: map[string]string{"IDENT": "co re/x/1/2\n"},
			file: "IDENT", line: 1, msg: `invalid ident "co re/x/1/2": origin "co re" may only hold A-Z, a-z, 0-9, '_' and '-'`},
		{name: "IDENT traversal", files: map[string]string{"IDENT": "core/x/../2\n"},
			file: "IDENT", line: 1, msg: `invalid ident "core/x/../2": version may not be ".."`},
		{name: "IDENT is a directory", files: map[string]string{"IDENT": "", "IDENT/": ""},
			file: "IDENT", msg: "is a directory, expected a file"},
		{name: "no run hook", files: map[string]string{"hooks/run": "", "hooks/init": "x"},
			file: "hooks/run", msg: "missing: a service needs a run hook (hooks/run, or a plain run file)"},
		{name: "empty run hook", files: map[string]string{"hooks/run": " \n\n"},
			file: "hooks/run", msg: "run hook is empty"},
		{name: "empty plain run", files: map[string]string{"hooks/run": "", "run": "\n"},
			file: "run", msg: "run hook is empty"},
		{name: "unknown hook", files: map[string]string{"hooks/reload": "x"},
			file: "hooks/reload", msg: `unknown hook "reload" (known hooks: run, init, post-run, health-check, reconfigure, suitability, file-updated, post-stop)`},
		{name: "underscore in a dashless hook", files: map[string]string{"hooks/run": "x", "hooks/re_configure": "x"},
			file: "hooks/re_configure", msg: `unknown hook "re_configure"...`},
		{name: "underscore hook", files: map[string]string{"hooks/reconfigure_hook": "x"},
			file: "hooks/reconfigure_hook", msg: `unknown hook "reconfigure_hook"...`},
		// A program copied in where a template belongs is refused on
		// reading, before anything lexes it (tmpl.CheckSource).
		{name: "run hook is a program", files: map[string]string{"hooks/run": "\x7fELF\x02\x01\x01\x00\x00{{\xfc\xffH\x8b x}}"},
			file: "hooks/run", line: 1, msg: "not a text template (NUL byte at offset 7): it is an ELF executable..."},
		{name: "plain run is a program", files: map[string]string{"hooks/run": "", "run": "\x7fELF\x02\x01\x01\x00"},
			file: "run", line: 1, msg: "not a text template (NUL byte at offset 7)..."},
		{name: "hook not UTF-8", files: map[string]string{"hooks/init": "#!/bin/sh\necho caf\xe9\n"},
			file: "hooks/init", line: 2, msg: "not a text template (invalid UTF-8 at offset 18)"},
		{name: "config file not text", files: map[string]string{"config/tls/store.p12": "0\x82\x0a\x00"},
			file: "config/tls/store.p12", line: 1, msg: "not a text template (invalid UTF-8 at offset 1)"},
		{name: "config template too large", files: map[string]string{"config/big.conf": "{{cfg.x}}" + strings.Repeat("x", tmpl.MaxSource-8)},
			file: "config/big.conf", msg: "262145 bytes with mustaches, over the limit of 262144 for a template"},
		{name: "hook is a directory", files: map[string]string{"hooks/init/": ""},
			file: "hooks/init", msg: "is a directory, expected a file"},
		{name: "plain run is a directory", files: map[string]string{"hooks/run": "", "run/": ""},
			file: "run", msg: "is a directory, expected a file"},
		{name: "hooks is a file", files: map[string]string{"hooks/run": "", "run": "x", "hooks": "x"},
			file: "hooks", msg: "expected a directory"},
		{name: "config is a file", files: map[string]string{"config": "x"},
			file: "config", msg: "expected a directory"},
		{name: "bad default.toml", files: map[string]string{"default.toml": "a = 1\n\n[b]\nc = = 2\n"},
			file: "default.toml", line: 4, msg: "toml: ..."},
		{name: "duplicate key in default.toml", files: map[string]string{"default.toml": "a = 1\na = 2\n"},
			file: "default.toml", line: 2, msg: "toml: ..."},
		{name: "EXPORTS without =", files: map[string]string{"EXPORTS": "a=b.c\n\nport\n"},
			file: "EXPORTS", line: 3, msg: `expected key=cfg.path, got "port"`},
		{name: "EXPORTS empty path", files: map[string]string{"EXPORTS": "port=\n"},
			file: "EXPORTS", line: 1, msg: `expected key=cfg.path, got "port="`},
		{name: "EXPORTS space in path", files: map[string]string{"EXPORTS": "port=http port\n"},
			file: "EXPORTS", line: 1, msg: `expected key=cfg.path, got "port=http port"`},
		{name: "EXPORTS empty part", files: map[string]string{"EXPORTS": "port=http..port\n"},
			file: "EXPORTS", line: 1, msg: `cfg path "http..port" has an empty part`},
		{name: "EXPORTS duplicate", files: map[string]string{"EXPORTS": "port=a\nport=b\n"},
			file: "EXPORTS", line: 2, msg: `export "port" given twice (first on line 1)`},
		{name: "BINDS without =", files: map[string]string{"BINDS": "database\n"},
			file: "BINDS", line: 1, msg: `expected name=export export ..., got "database"`},
		{name: "BINDS no exports", files: map[string]string{"BINDS": "database= \n"},
			file: "BINDS", line: 1, msg: `bind "database" names no exports`},
		{name: "BINDS duplicate", files: map[string]string{"BINDS": "db=port\ndb=host\n"},
			file: "BINDS", line: 2, msg: `bind "db" given twice (first on line 1)`},
		{name: "BINDS_OPTIONAL repeats BINDS", files: map[string]string{"BINDS": "x=a\ndb=port\n", "BINDS_OPTIONAL": "cache=port\ndb=port\n"},
			file: "BINDS_OPTIONAL", line: 2, msg: `bind "db" is also required in BINDS (line 2)`},
		{name: "EXPOSES not a number", files: map[string]string{"EXPOSES": "8080 http\n"},
			file: "EXPOSES", line: 1, msg: `port "http" is not a number from 1 to 65535`},
		{name: "EXPOSES zero", files: map[string]string{"EXPOSES": "\n0\n"},
			file: "EXPOSES", line: 2, msg: `port "0" is not a number from 1 to 65535`},
		{name: "EXPOSES too big", files: map[string]string{"EXPOSES": "65536"},
			file: "EXPOSES", line: 1, msg: `port "65536" is not a number from 1 to 65535`},
		{name: "SVC_USER two words", files: map[string]string{"SVC_USER": "hab user\n"},
			file: "SVC_USER", line: 1, msg: `expected one user or group name, got "hab user"`},
		{name: "SVC_GROUP two lines", files: map[string]string{"SVC_GROUP": "hab\nroot\n"},
			file: "SVC_GROUP", line: 2, msg: "expected a single line, found another after line 1"},
		{name: "unknown signal", files: map[string]string{"SHUTDOWN_SIGNAL": "FOO\n"},
			file: "SHUTDOWN_SIGNAL", line: 1, msg: `unknown signal "FOO" (expected a name such as TERM, INT, QUIT or HUP)`},
		{name: "numeric signal", files: map[string]string{"SHUTDOWN_SIGNAL": "15"},
			file: "SHUTDOWN_SIGNAL", line: 1, msg: `unknown signal "15"...`},
		{name: "negative timeout", files: map[string]string{"SHUTDOWN_TIMEOUT": "-1\n"},
			file: "SHUTDOWN_TIMEOUT", line: 1, msg: `expected whole seconds from 0 to 4294967295, got "-1"`},
		{name: "timeout with unit", files: map[string]string{"SHUTDOWN_TIMEOUT": "# c\n8s\n"},
			file: "SHUTDOWN_TIMEOUT", line: 2, msg: `expected whole seconds from 0 to 4294967295, got "8s"`},
		{name: "timeout too big", files: map[string]string{"SHUTDOWN_TIMEOUT": "4294967296"},
			file: "SHUTDOWN_TIMEOUT", line: 1, msg: `expected whole seconds...`},
		{name: "unknown template dialect", files: map[string]string{"TEMPLATE_DIALECT": "# c\nhandlebars4\n"},
			file: "TEMPLATE_DIALECT", line: 2, msg: `unknown template dialect "handlebars4": expected habitat1 or handlebars`},
		{name: "template dialect two lines", files: map[string]string{"TEMPLATE_DIALECT": "habitat1\nhandlebars\n"},
			file: "TEMPLATE_DIALECT", line: 2, msg: "expected a single line, found another after line 1"},
		{name: "env without =", files: map[string]string{"RUNTIME_ENVIRONMENT": "A=1\nPATH\n"},
			file: "RUNTIME_ENVIRONMENT", line: 2, msg: `expected KEY=VALUE with KEY made of A-Z, a-z, 0-9 and '_', got "PATH"`},
		{name: "env bad key", files: map[string]string{"RUNTIME_ENVIRONMENT": "1A=1\n"},
			file: "RUNTIME_ENVIRONMENT", line: 1, msg: `expected KEY=VALUE...`},
		{name: "env duplicate", files: map[string]string{"RUNTIME_ENVIRONMENT": "A=1\nA=2\n"},
			file: "RUNTIME_ENVIRONMENT", line: 2, msg: "A set twice (first on line 1)"},
		{name: "env NUL", files: map[string]string{"RUNTIME_ENVIRONMENT": "A=1\x002\n"},
			file: "RUNTIME_ENVIRONMENT", line: 1, msg: "value of A contains a NUL byte"},
		{name: "fuzzy dep", files: map[string]string{"DEPS": "core/glibc/2.27/1\ncore/zlib\n"},
			file: "DEPS", line: 2, msg: `dependency "core/zlib" is not fully qualified`},
		{name: "bad dep", files: map[string]string{"DEPS": "core/glibc/2.27/1/x\n"},
			file: "DEPS", line: 1, msg: `invalid ident "core/glibc/2.27/1/x": want origin/name[/version[/release]], got 5 parts`},
		{name: "FIFO", setup: func(t *testing.T, dir string) {
			if err := syscall.Mkfifo(filepath.Join(dir, "EXPORTS"), 0o644); err != nil {
				t.Skip("no FIFOs here:", err)
			}
		}, file: "EXPORTS", msg: "is not a regular file"},
		{name: "config links a directory", setup: func(t *testing.T, dir string) {
			if err := os.MkdirAll(filepath.Join(dir, "config", "real"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("real", filepath.Join(dir, "config", "link")); err != nil {
				t.Fatal(err)
			}
		}, file: "config/link", msg: "is a symlink to a directory; config/ may only link files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := newPkg(t, with(minimal(), tt.files))
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			before := listTree(t, dir)
			prefix := filepath.Join(dir, filepath.FromSlash(tt.file)) + ":"
			if tt.line > 0 {
				prefix += strconv.Itoa(tt.line) + ":"
			}
			check := func(what string, err error) {
				t.Helper()
				if err == nil {
					t.Fatalf("%s succeeded", what)
				}
				if !errors.Is(err, ErrMalformed) {
					t.Errorf("%s: %v does not match ErrMalformed", what, err)
				}
				var me *MalformedError
				if !errors.As(err, &me) || me.Line != tt.line {
					t.Errorf("%s: %#v, want line %d", what, err, tt.line)
				}
				msg := err.Error()
				t.Logf("%s: %s", what, msg)
				if strings.Contains(msg, "\n") {
					t.Errorf("%s: error is more than one line: %q", what, msg)
				}
				want := prefix + " " + tt.msg
				if p, ok := strings.CutSuffix(want, "..."); ok {
					if !strings.HasPrefix(msg, p) {
						t.Errorf("%s:\n got %s\nwant %s...", what, msg, p)
					}
				} else if msg != want {
					t.Errorf("%s:\n got %s\nwant %s", what, msg, want)
				}
			}
			_, err := Read(dir)
			check("Read", err)

			root := t.TempDir()
			_, err = Install(root, dir)
			check("Install", err)
			if got := listTree(t, root); len(got) != 0 {
				t.Errorf("Install wrote %q under the root", got)
			}
			if got := listTree(t, dir); !cmp.Equal(got, before) {
				t.Errorf("Install changed the source: %q, was %q", got, before)
			}
		})
	}
}

// BenchmarkReadMinimal reads the smallest package, IDENT and hooks/run:
// what a restart reads for each start-up service of a plain root.
func BenchmarkReadMinimal(b *testing.B) {
	dir := newPkg(b, minimal())
	for b.Loop() {
		if _, err := Read(dir); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	files := with(minimal(), map[string]string{
		"hooks/init":          "init",
		"hooks/health-check":  "check",
		"default.toml":        "[http]\nport = 8080\nhost = \"0.0.0.0\"\n",
		"config/app.conf":     "port {{cfg.http.port}}\n",
		"EXPORTS":             "port=http.port\n",
		"BINDS":               "database=port host\n",
		"EXPOSES":             "8080\n",
		"SVC_USER":            "hab\n",
		"RUNTIME_ENVIRONMENT": "PATH=/usr/bin\n",
		"DEPS":                "core/glibc/2.27/20180608091922\n",
		"bin/app":             "x",
		"MANIFEST":            "x",
	})
	dir := newPkg(b, files)
	for b.Loop() {
		if _, err := Read(dir); err != nil {
			b.Fatal(err)
		}
	}
}

// TestReadFast checks that an ordinary package is read through bare
// descriptors, into what os.Root reads, and that what needs os.Root's
// checks (symlinks, FIFOs, a directory where a file belongs) is left to
// it.
func TestReadFast(t *testing.T) {
	rich := with(minimal(), map[string]string{
		"hooks/init":         "init",
		"default.toml":       "[http]\nport = 8080\n",
		"config/app.conf":    "port {{cfg.http.port}}\n",
		"config/sub/x.conf":  "x\n",
		"config/sub/deeper/": "",
		"EXPORTS":            "port=http.port\n",
		"BINDS":              "database=port host\n",
		"SHUTDOWN_SIGNAL":    "INT\n",
		"bin/app":            "x",
	})
	for name, files := range map[string]map[string]string{"minimal": minimal(), "rich": rich} {
		dir := newPkg(t, files)
		fast, _, err := readOnceFast(dir)
		if err != nil {
			t.Fatalf("%s: fast read: %v", name, err)
		}
		slow, _, err := readOnceRoot(dir)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(slow, fast); diff != "" {
			t.Errorf("%s: fast read differs from os.Root's (-os.Root +fast):\n%s", name, diff)
		}
	}

	odd := map[string]func(t *testing.T, dir string){
		"symlinked IDENT": func(t *testing.T, dir string) { relink(t, dir, "IDENT") },
		"symlinked hook":  func(t *testing.T, dir string) { relink(t, dir, "hooks/run") },
		"symlinked hooks": func(t *testing.T, dir string) { relink(t, dir, "hooks") },
		"symlinked config file": func(t *testing.T, dir string) {
			writeTree(t, dir, map[string]string{"config/a": "a"})
			relink(t, dir, "config/a")
		},
		"FIFO": func(t *testing.T, dir string) {
			if err := mkfifo(filepath.Join(dir, "EXPORTS")); err != nil {
				t.Skip("no FIFOs here:", err)
			}
		},
		"directory as file": func(t *testing.T, dir string) { writeTree(t, dir, map[string]string{"EXPORTS/": ""}) },
		"file as directory": func(t *testing.T, dir string) { writeTree(t, dir, map[string]string{"config": "x"}) },
	}
	for name, setup := range odd {
		dir := newPkg(t, minimal())
		setup(t, dir)
		if _, _, err := readOnceFast(dir); err != errSlow {
			t.Errorf("%s: fast read returned %v, want it left to os.Root", name, err)
		}
	}
}

// relink moves the entry at rel (slash-separated) in dir aside and puts a
// symlink to it in its place.
func relink(t *testing.T, dir, rel string) {
	t.Helper()
	at := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.Rename(at, at+".real"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Base(at)+".real", at); err != nil {
		t.Fatal(err)
	}
}

// TestFastReadAllWrongSize checks that a file is read whole when its size
// changed after the fstat that sized the buffer.
func TestFastReadAllWrongSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	want := strings.Repeat("0123456789", 100)
	if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int64{0, 1, 999, 1000, 1001, 5000} {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := fastReadAll(fd, size)
		unix.Close(fd)
		if err != nil || string(got) != want {
			t.Errorf("size %d: read %d bytes, %v; want %d", size, len(got), err, len(want))
		}
	}
}
