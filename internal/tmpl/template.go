package tmpl

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mailgun/raymond/v2"
)

// MaxOutput bounds what one Render may produce. A config file or hook is
// kilobytes; a loop over loops that runs away is refused at this size
// instead of growing until the supervisor runs out of memory.
const MaxOutput = 16 << 20

// maxSteps bounds the work of one Render: loop iterations plus printed
// values. Real templates take thousands; a loop nest over large arrays that
// prints nothing would otherwise spin a supervisor core for hours.
const maxSteps = 4 << 20

var (
	// ErrOutputTooLarge is wrapped by a Render error when output passed
	// MaxOutput.
	ErrOutputTooLarge = errors.New("output larger than 16 MiB")
	// ErrTooMuchWork is wrapped by a Render error when a template ran more
	// loop iterations and substitutions than any real one needs.
	ErrTooMuchWork = errors.New("too many loop iterations and substitutions")
)

// Error is a Parse or Render failure. Its message is one line naming the
// template, "NAME:LINE: message" when the line is known, else
// "NAME: message".
type Error struct {
	Name string
	Line int // 0 when unknown
	Msg  string
	Err  error // the cause, if any
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Name, e.Line, e.Msg)
	}
	return e.Name + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Template is a parsed template. It is safe for concurrent Render calls.
type Template struct {
	name string
	tpl  *raymond.Template // nil: the source has no mustache and is literal
	lit  string
	lim  limits
}

// limits are MaxOutput and maxSteps; tests lower them to stay fast.
type limits struct {
	output, steps int
}

// Parse checks and compiles src, written in the default dialect
// (Habitat1). name labels errors (usually the file's path). The error is a
// one-line *Error. A source that CheckSource refuses is refused first,
// unlexed.
func Parse(name, src string) (*Template, error) {
	return ParseWith(name, src, Habitat1)
}

// ParseWith is Parse for a template written in dialect d.
func ParseWith(name, src string, d Dialect) (t *Template, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, &Error{Name: name, Msg: "template parser failed: " + oneLine(fmt.Sprint(r))}
		}
	}()
	if se := CheckSource(src); se != nil {
		// Before the lexer, which would go through all of it.
		return nil, &Error{Name: name, Line: se.Line, Msg: se.Msg, Err: se}
	}
	if !strings.Contains(src, "{{") {
		// Most hooks and many config files are plain text: no parse tree,
		// no helper table and no data normalisation per render for them
		// (a supervisor with 500 such services keeps 500 of each).
		return &Template{name: name, lit: src, lim: limits{output: MaxOutput, steps: maxSteps}}, nil
	}
	rewritten, err := check(closeUpSigils(src), d)
	if err != nil {
		var se syntaxError
		if errors.As(err, &se) {
			return nil, &Error{Name: name, Line: se.line, Msg: se.msg}
		}
		return nil, &Error{Name: name, Msg: oneLine(err.Error()), Err: err}
	}
	tpl, err := raymond.Parse(rewritten)
	if err != nil {
		// check accepts only what raymond accepts, so this is a tend bug.
		return nil, &Error{Name: name, Msg: "internal: checked template rejected by raymond: " + oneLine(err.Error()), Err: err}
	}
	registerHelpers(tpl)
	return &Template{name: name, tpl: tpl, lim: limits{output: MaxOutput, steps: maxSteps}}, nil
}

// Render fills the template with data, which is normalised into a private
// copy first (see normalizeRoot) and never modified. It never panics: a
// failure anywhere in raymond or a helper comes back as an *Error naming
// the template.
func (t *Template) Render(data map[string]any) (out string, err error) {
	defer func() {
		if r := recover(); r != nil {
			e := &Error{Name: t.name, Msg: "render failed: " + oneLine(fmt.Sprint(r))}
			e.Err, _ = r.(error)
			out, err = "", e
		}
	}()
	if t.tpl == nil {
		return t.lit, nil
	}
	root, err := normalizeRoot(data)
	if err != nil {
		return "", &Error{Name: t.name, Msg: err.Error(), Err: err}
	}
	st := &renderState{root: root, lim: t.lim}
	frame := raymond.NewDataFrame()
	frame.Set(stateKey, st)
	out, err = t.tpl.ExecWith(root, frame)
	if err != nil {
		return "", &Error{Name: t.name, Msg: oneLine(strings.TrimPrefix(err.Error(), "Evaluation error: ")), Err: err}
	}
	if len(out) > t.lim.output {
		return "", &Error{Name: t.name, Msg: ErrOutputTooLarge.Error(), Err: ErrOutputTooLarge}
	}
	return out, nil
}

// Render parses and renders src in one go.
func Render(name, src string, data map[string]any) (string, error) {
	t, err := Parse(name, src)
	if err != nil {
		return "", err
	}
	return t.Render(data)
}

// Literal reports that the template has no mustache: it renders as its
// source, whatever the data.
func (t *Template) Literal() bool { return t.tpl == nil }

// Name is the name the template was parsed with.
func (t *Template) Name() string { return t.name }

// oneLine folds raymond's multi-line messages ("...\nCurrent node:\n\t...")
// into one log line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
