package tmpl

import (
	"errors"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestNotTextRefused(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"#!/bin/sh\necho a\x00b\n", "hooks/run:2: not a text template (NUL byte at offset 16)"},
		{"\x7fELF\x02\x01\x01\x00\x00\x00{{x}}", "hooks/run:1: not a text template (NUL byte at offset 7): it is an ELF executable; put it in the package and exec it from a script hook"},
		{"port = {{cfg.port}}\nname = caf\xe9\n", "hooks/run:2: not a text template (invalid UTF-8 at offset 30)"},
		{"\xff\x00", "hooks/run:1: not a text template (invalid UTF-8 at offset 0)"},
		{"a\x00\xff", "hooks/run:1: not a text template (NUL byte at offset 1)"},
		{"ok \xe2\x82", "hooks/run:1: not a text template (invalid UTF-8 at offset 3)"},
		{"{{x}} \xed\xa0\x80", "hooks/run:1: not a text template (invalid UTF-8 at offset 6)"}, // a surrogate
	} {
		_, err := Parse("hooks/run", tc.src)
		var te *Error
		if err == nil || err.Error() != tc.want || !errors.Is(err, ErrNotText) || !errors.As(err, &te) {
			t.Errorf("Parse(%q):\n got %v\nwant *Error %q wrapping ErrNotText", tc.src, err, tc.want)
		}
	}
}

func TestTextAccepted(t *testing.T) {
	src := "# café ✓ \ufeff \ufffd \x1b[0m\t\r\n{{x}}\n"
	out, err := Render("t.hbs", src, map[string]any{"x": "ü"})
	if want := "# café ✓ \ufeff \ufffd \x1b[0m\t\r\nü\n"; err != nil || out != want {
		t.Fatalf("got %q, %v; want %q", out, err, want)
	}
}

// cpuTime is the CPU the test process has used, every thread counted:
// raymond lexes in a goroutine of its own.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// parseCost parses src and returns the CPU it took and the error.
func parseCost(t *testing.T, src string) (time.Duration, error) {
	t.Helper()
	runtime.GC() // no collection of the input's garbage in the measurement
	before := cpuTime(t)
	_, err := Parse("hooks/run", src)
	return cpuTime(t) - before, err
}

// program is size bytes that look like an executable with a mustache in
// the middle: its header has a NUL, and nothing in it stops raymond's
// lexer early, which would go through all of it (0.15 s of CPU a MiB,
// 4.5 s under -race).
func program(size int) string {
	var b strings.Builder
	b.WriteString("\x7fELF\x02\x01\x01\x00")
	var block [255]byte
	for i := range block {
		block[i] = byte(i + 1)
		if block[i] == '{' {
			block[i] = 'x'
		}
	}
	for b.Len() < size {
		if b.Len() >= size/2 && b.Len() < size/2+len(block) {
			b.WriteString("\n{{\xfc\xffH\x8b x}}\n")
		}
		b.Write(block[:])
	}
	return b.String()
}

// A program copied in as a hook is refused before raymond's lexer sees a
// byte of it: no CPU spent on it and no goroutine left.
func TestProgramRefusedUnlexed(t *testing.T) {
	cost, err := parseCost(t, program(2*MaxSource))
	if !errors.Is(err, ErrNotText) {
		t.Fatalf("err = %v, want ErrNotText", err)
	}
	if cost > 100*time.Millisecond {
		t.Fatalf("refusing a 512 KiB program took %v of CPU", cost)
	}
	goleak.VerifyNone(t)
}

// A text template with mustaches over MaxSource is refused unlexed; one
// without mustaches is never lexed and may be larger.
func TestSourceSizeLimit(t *testing.T) {
	cost, err := parseCost(t, strings.Repeat("port {{cfg.port}}\n", 2*MaxSource/18))
	if !errors.Is(err, ErrSourceTooLarge) || err.Error() != "hooks/run: 524286 bytes with mustaches, over the limit of 262144 for a template" {
		t.Fatalf("err = %v, want ErrSourceTooLarge", err)
	}
	if cost > 100*time.Millisecond {
		t.Fatalf("refusing a 512 KiB template took %v of CPU", cost)
	}
	lit := strings.Repeat("text/plain txt;\n", MaxSource/16+1)
	if tp, err := Parse("mime.types", lit); err != nil || !tp.Literal() {
		t.Fatalf("literal over the limit: %v", err)
	}
	// The bound itself, with a small limit.
	for _, tc := range []struct {
		src  string
		fail bool
	}{{"{{x}}12345", false}, {"{{x}}123456", true}, {"12345678901", false}} {
		if se := checkSource(tc.src, 10); (se != nil) != tc.fail || (se != nil && (se.Line != 0 || !errors.Is(se, ErrSourceTooLarge))) {
			t.Errorf("checkSource(%q, 10) = %v, want refused %v", tc.src, se, tc.fail)
		}
	}
}
