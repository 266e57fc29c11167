package pkg

import (
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseLines feeds the same bytes to every line-based metadata parser.
// None may panic; each either refuses the input with a one-line
// *MalformedError naming a line that exists, or accepts it, and then what
// it returned, written back out, reads back the same.
func FuzzParseLines(f *testing.F) {
	for _, s := range []string{
		"port=http.port\n# comment\n\nhost = http.host\r\n",
		"database=port host\ncache=port\n",
		"8080 8443\n9000\n",
		"PATH=/usr/bin:/bin\nJAVA_OPTS= -Xmx1g \nEMPTY=\n",
		"core/glibc/2.27/20180608091922\ncore/zlib/1.2/20180608091923\n",
		"core/app/1.0.0/20200101000000\n",
		"SIGTERM\n", "30\n", "hab\n",
		"a=b=c\n=x\nx=\n", "#only\n\n  \n", "\r\n\r", "K=v\r\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const file = "/pkg/FILE"
		lines := strings.Count(string(data), "\n") + 1
		checkErr := func(what string, err error) bool {
			t.Helper()
			if err == nil {
				return false
			}
			var me *MalformedError
			if !errors.As(err, &me) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("%s: %v is not a *MalformedError", what, err)
			}
			if me.File != file || me.Line < 0 || me.Line > lines {
				t.Fatalf("%s: %v names line %d of %d", what, err, me.Line, lines)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("%s: error is not one line: %q", what, err.Error())
			}
			return true
		}
		roundTrip := func(what string, got any, text string, parse func([]byte) (any, error)) {
			t.Helper()
			again, err := parse([]byte(text))
			if err != nil {
				t.Fatalf("%s: %#v written as %q does not read back: %v", what, got, text, err)
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Fatalf("%s: %q reads back differently (-first +again):\n%s", what, text, diff)
			}
		}

		if id, err := parseIdentFile(file, data); !checkErr("IDENT", err) {
			roundTrip("IDENT", id, id.String(), func(b []byte) (any, error) { return parseIdentFile(file, b) })
		}
		if m, err := parseExports(file, data); !checkErr("EXPORTS", err) {
			var b strings.Builder
			for _, k := range slices.Sorted(maps.Keys(m)) {
				b.WriteString(k + "=" + m[k] + "\n")
			}
			roundTrip("EXPORTS", m, b.String(), func(b []byte) (any, error) { return parseExports(file, b) })
		}
		if m, _, err := parseBinds(file, data); !checkErr("BINDS", err) {
			var b strings.Builder
			for _, k := range slices.Sorted(maps.Keys(m)) {
				b.WriteString(k + "=" + strings.Join(m[k], " ") + "\n")
			}
			roundTrip("BINDS", m, b.String(), func(b []byte) (any, error) {
				m, _, err := parseBinds(file, b)
				return m, err
			})
		}
		if ports, err := parseExposes(file, data); !checkErr("EXPOSES", err) {
			roundTrip("EXPOSES", ports, strings.Join(ports, " "), func(b []byte) (any, error) { return parseExposes(file, b) })
		}
		if env, err := parseEnv(file, data); !checkErr("RUNTIME_ENVIRONMENT", err) {
			var b strings.Builder
			for _, e := range env {
				// "\r\n": a value may itself end in '\r'.
				b.WriteString(e.Key + "=" + e.Value + "\r\n")
			}
			roundTrip("RUNTIME_ENVIRONMENT", env, b.String(), func(b []byte) (any, error) { return parseEnv(file, b) })
		}
		if deps, err := parseDeps(file, data); !checkErr("DEPS", err) {
			var b strings.Builder
			for _, d := range deps {
				b.WriteString(d.String() + "\n")
			}
			roundTrip("DEPS", deps, b.String(), func(b []byte) (any, error) { return parseDeps(file, b) })
		}
		if name, err := parseAccount(file, data); !checkErr("SVC_USER", err) {
			roundTrip("SVC_USER", name, name, func(b []byte) (any, error) { return parseAccount(file, b) })
		}
		if sig, err := parseSignal(file, data); !checkErr("SHUTDOWN_SIGNAL", err) {
			if _, _, ok := SignalByName(sig); !ok {
				t.Fatalf("SHUTDOWN_SIGNAL: %q is not a known signal", sig)
			}
			roundTrip("SHUTDOWN_SIGNAL", sig, sig, func(b []byte) (any, error) { return parseSignal(file, b) })
		}
		if d, err := parseTimeout(file, data); !checkErr("SHUTDOWN_TIMEOUT", err) {
			if d < 0 {
				t.Fatalf("SHUTDOWN_TIMEOUT: negative %v", d)
			}
			text := strconv.FormatInt(int64(d.Seconds()), 10)
			roundTrip("SHUTDOWN_TIMEOUT", d, text, func(b []byte) (any, error) { return parseTimeout(file, b) })
		}
	})
}
