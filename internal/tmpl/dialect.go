package tmpl

import (
	"fmt"
	"strings"

	"github.com/mailgun/raymond/v2/lexer"
)

// Dialect is the set of whitespace rules a template is written for. The
// two dialects differ only there; every other rule is the same.
type Dialect uint8

const (
	// Habitat1 is how the Habitat 1.x Supervisor rendered templates (the
	// Rust handlebars crate before 4.0, which Habitat used from 2018 to
	// 2024): "~" strips the whitespace on its side of the tag, and nothing
	// else disappears. A block tag, {{else}} or comment alone on its line
	// keeps the line break after it, as handlebars-rust added Handlebars'
	// "standalone" rule only in 4.0. The zero value: packages get it unless
	// they ask for another.
	Habitat1 Dialect = iota
	// Handlebars is the Handlebars specification, as handlebars.js and
	// newer Habitat Supervisors render: in addition to "~", a block tag,
	// {{else}} or comment alone on its line takes that whole line with it.
	Handlebars
)

// dialectNames are the names LookupDialect takes, by Dialect.
var dialectNames = [...]string{Habitat1: "habitat1", Handlebars: "handlebars"}

func (d Dialect) String() string {
	if int(d) < len(dialectNames) {
		return dialectNames[d]
	}
	return fmt.Sprintf("Dialect(%d)", d)
}

// LookupDialect returns the dialect with the given name ("habitat1" or
// "handlebars").
func LookupDialect(name string) (Dialect, error) {
	for d, n := range dialectNames {
		if n == name {
			return Dialect(d), nil
		}
	}
	return 0, fmt.Errorf("unknown template dialect %q: expected %s", name, strings.Join(dialectNames[:], " or "))
}

// noStandalone is the empty comment check puts beside a tag to keep
// raymond from treating it as standalone in the Habitat1 dialect. raymond
// applies the standalone rule unconditionally in its parser (parser/
// whitespace.go), and only to a tag whose neighbour on both sides is text
// that reaches a line break: with a comment beside it, the tag no longer
// is. The comment itself is never standalone (one neighbour is the tag),
// prints nothing, and holds no line break, so line numbers stay right.
//
// It goes on a side of the tag without "~": "~" strips only text right
// next to the tag, which a comment there would shield. A tag with "~" on
// both sides needs none: what the standalone rule would strip, "~" has
// stripped already.
const noStandalone = "{{!}}"

// tagEnds are the open and close delimiters of a tag, for its "~" marks.
type tagEnds struct {
	open, close lexer.Token
}

// keepLine stops the standalone rule for the tag from open to close
// (both the same token for {{else}} and comments), in the Habitat1
// dialect. It runs once the walk has shifted close, and only writes at or
// after open.Pos, so the rewritten source stays in order.
func (c *checker) keepLine(t tagEnds) {
	if c.dialect != Habitat1 {
		return
	}
	stripsBefore := strings.HasPrefix(t.open.Val, "{{~")
	stripsAfter := strings.HasSuffix(t.close.Val, "~}}")
	switch {
	case !stripsAfter:
		c.insert(t.close.Pos+len(t.close.Val), noStandalone)
	case !stripsBefore:
		c.insert(t.open.Pos, noStandalone)
	}
}

// keepRawBefore and keepRawAfter do keepLine for a raw block,
// {{{{name}}}}…{{{{/name}}}}, which raymond treats as a block too. Its
// content is printed as it stands and its tags take no "~", so the
// comments go outside: before the opening tag and after the closing one.
func (c *checker) keepRawBefore(open lexer.Token) {
	if c.dialect == Habitat1 {
		c.insert(open.Pos, noStandalone)
	}
}

func (c *checker) keepRawAfter(close lexer.Token) {
	if c.dialect == Habitat1 {
		c.insert(close.Pos+len(close.Val), noStandalone)
	}
}

// insert adds s to the rewritten source at pos, which must not be before
// what has been copied already.
func (c *checker) insert(pos int, s string) {
	c.out.WriteString(c.src[c.last:pos])
	c.out.WriteString(s)
	c.last = pos
}
