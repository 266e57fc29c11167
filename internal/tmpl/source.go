package tmpl

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxSource bounds a template that has mustaches. raymond cannot stop its
// lexer part way (see check), so Parse lexes such a source in full even
// when its mistake is on line 1, and a good one is lexed twice and parsed:
// up to 0.9 s and 2.9 s of CPU a MiB, for templates dense with mustaches.
// The largest template among the Habitat plans in research is 4 KB, a
// whole Debian redis.conf 104 KiB. A source without mustaches is never
// lexed and has no bound.
const MaxSource = 256 << 10

var (
	// ErrNotText is wrapped by the error for a source with a NUL byte or
	// bytes that are not UTF-8: a program or data file, not a template.
	ErrNotText = errors.New("not a text template")
	// ErrSourceTooLarge is wrapped by the error for a source with
	// mustaches that is over MaxSource.
	ErrSourceTooLarge = errors.New("template with mustaches larger than 256 KiB")
)

// SourceError says why a source cannot be a template at all.
type SourceError struct {
	Line int // 1-based line of the first fault; 0 when the whole source is at fault
	Msg  string
	Err  error // ErrNotText or ErrSourceTooLarge
}

func (e *SourceError) Error() string { return e.Msg }

func (e *SourceError) Unwrap() error { return e.Err }

// CheckSource refuses a source that no template can be, before any lexing:
// one that is not text (a NUL byte or bytes that are not UTF-8, as in a
// program copied in as a hook), or one with mustaches over MaxSource. It
// reads src once at memory speed, so the package reader calls it on every
// hook and config file, and Parse calls it again for whatever else it is
// given. Habitat reads templates into Rust strings, which refuse bytes that
// are not UTF-8.
func CheckSource(src string) *SourceError {
	return checkSource(src, MaxSource)
}

func checkSource(src string, maxSize int) *SourceError {
	if off, what := firstNotText(src); off >= 0 {
		msg := fmt.Sprintf("%v (%s at offset %d)", ErrNotText, what, off)
		if strings.HasPrefix(src, "\x7fELF") {
			msg += ": it is an ELF executable; put it in the package and exec it from a script hook"
		}
		return &SourceError{Line: 1 + strings.Count(src[:off], "\n"), Msg: msg, Err: ErrNotText}
	}
	if len(src) > maxSize && strings.Contains(src, "{{") {
		return &SourceError{
			Msg: fmt.Sprintf("%d bytes with mustaches, over the limit of %d for a template", len(src), maxSize),
			Err: ErrSourceTooLarge,
		}
	}
	return nil
}

// firstNotText returns the offset of the first byte that stops src being
// text, and what it is; -1 when src is text.
func firstNotText(src string) (int, string) {
	head := src
	nul := strings.IndexByte(src, 0)
	if nul >= 0 {
		head = src[:nul]
	}
	if !utf8.ValidString(head) {
		for i := 0; i < len(head); {
			r, n := utf8.DecodeRuneInString(head[i:])
			if r == utf8.RuneError && n == 1 {
				return i, "invalid UTF-8"
			}
			i += n
		}
	}
	if nul >= 0 {
		return nul, "NUL byte"
	}
	return -1, ""
}
