package tmpl

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mailgun/raymond/v2/lexer"
)

// maxNesting bounds blocks and subexpressions inside each other. Real
// templates nest a few levels; the bound keeps raymond's recursive parser
// and evaluator far from the stack limit, where Go aborts the process.
const maxNesting = 64

// syntaxError is a template mistake found by check, with its line.
type syntaxError struct {
	line int
	msg  string
}

// position is where an expression sits.
type position int

const (
	inMustache position = iota
	inBlock
	inRawBlock
	inSexpr
)

// checker walks raymond's tokens with the same grammar as raymond's parser
// (parser/parser.go), so that raymond's parser is only ever given a
// template it accepts: raymond's parser runs its lexer in a goroutine that
// blocks forever when the parser stops early on an error. The lexer here is
// always drained to its end, so it never leaks; the price is lexing all of
// a source with an early mistake, which MaxSource bounds. The walk is also where
// helper misuse is caught and where the source is rewritten.
type checker struct {
	src  string
	toks []lexer.Token
	i    int

	nesting int
	dialect Dialect

	out  strings.Builder // the rewritten source
	last int             // src[:last] has been copied or replaced into out
}

// check validates src and returns it rewritten so that every mustache
// prints through showHelper without HTML escaping:
//
//	{{x}}  {{&x}}  {{{x}}}   become   {{& _tend_show_ (x)}}  {{{ _tend_show_ (x)}}}
//
// whitespace control (~) is kept. In the Habitat1 dialect an empty comment
// also goes beside each tag that could be standalone (see keepLine). Only
// {{ and }} tokens change and the comments hold no line break, so line
// numbers in raymond's later messages still match the author's file.
func check(src string, d Dialect) (rewritten string, err error) {
	c := &checker{src: src, toks: lex(src), dialect: d}
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(syntaxError)
			if !ok {
				panic(r)
			}
			err = se
		}
	}()
	c.program()
	if end := c.shift(); end.Kind != lexer.TokenEOF {
		c.fail(end, "unexpected %s", describe(end))
	}
	c.out.WriteString(src[c.last:])
	return c.out.String(), nil
}

func (e syntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// lex collects every token, up to and including EOF or the first error,
// which is when raymond's lexer goroutine returns.
func lex(src string) []lexer.Token {
	l := lexer.Scan(src)
	var toks []lexer.Token
	for {
		t := l.NextToken()
		toks = append(toks, t)
		if t.Kind == lexer.TokenEOF || t.Kind == lexer.TokenError {
			return toks
		}
	}
}

func (c *checker) fail(at lexer.Token, format string, args ...any) {
	panic(syntaxError{line: at.Line, msg: fmt.Sprintf(format, args...)})
}

// peek returns the token n ahead; past the end it returns the last token
// (EOF or an error), as raymond's parser sees nothing beyond it either.
func (c *checker) peek(n int) lexer.Token {
	if c.i+n < len(c.toks) {
		return c.toks[c.i+n]
	}
	return c.toks[len(c.toks)-1]
}

func (c *checker) shift() lexer.Token {
	t := c.peek(0)
	if t.Kind == lexer.TokenError {
		c.fail(t, "%s", t.Val)
	}
	if c.i < len(c.toks) {
		c.i++
	}
	return t
}

func (c *checker) expect(kind lexer.TokenKind, what string) lexer.Token {
	t := c.shift()
	if t.Kind != kind {
		c.fail(t, "expected %s, found %s", what, describe(t))
	}
	return t
}

func (c *checker) enter(at lexer.Token) {
	c.nesting++
	if c.nesting > maxNesting {
		c.fail(at, "blocks and subexpressions nested more than %d deep", maxNesting)
	}
}

func (c *checker) leave() { c.nesting-- }

// replace swaps token t's text for s in the rewritten source.
func (c *checker) replace(t lexer.Token, s string) {
	c.out.WriteString(c.src[c.last:t.Pos])
	c.out.WriteString(s)
	c.last = t.Pos + len(t.Val)
}

func (c *checker) program() {
	for {
		switch t := c.peek(0); t.Kind {
		case lexer.TokenOpen, lexer.TokenOpenUnescaped:
			c.mustache()
		case lexer.TokenOpenBlock, lexer.TokenOpenInverse:
			c.block()
		case lexer.TokenOpenRawBlock:
			c.rawBlock()
		case lexer.TokenOpenPartial:
			c.fail(t, "partials ({{> name}}) are not supported")
		case lexer.TokenContent:
			c.shift()
		case lexer.TokenComment:
			c.shift()
			c.keepLine(tagEnds{t, t})
		default:
			return
		}
	}
}

func (c *checker) mustache() {
	open := c.shift()
	closeKind, closeWhat := lexer.TokenClose, "}}"
	if open.Kind == lexer.TokenOpenUnescaped {
		closeKind, closeWhat = lexer.TokenCloseUnescaped, "}}}"
		c.replace(open, open.Val+" "+showHelper+" (")
	} else {
		c.replace(open, strings.TrimSuffix(open.Val, "&")+"& "+showHelper+" (")
	}
	c.expression(inMustache)
	end := c.expect(closeKind, closeWhat)
	c.replace(end, ")"+end.Val)
}

// blockHead parses the part of an opening block tag after {{# (or {{^,
// {{else) up to and including }}, and returns the helper's canonical name
// and the }}.
func (c *checker) blockHead() (string, lexer.Token) {
	name, spec := c.expression(inBlock)
	if c.peek(0).Kind == lexer.TokenOpenBlockParams {
		bp := c.shift()
		n := 0
		for c.peek(0).Kind == lexer.TokenID {
			c.shift()
			n++
		}
		if n == 0 {
			c.fail(bp, "empty block parameters")
		}
		c.expect(lexer.TokenCloseBlockParams, "| closing the block parameters")
		if n > spec.blockParams {
			switch {
			case spec.blockParams == 0:
				c.fail(bp, "%s takes no block parameters", name)
			case name == "each" || name == "eachAlive":
				c.fail(bp, "%s fills one block parameter (the item); use @key or @index for the key", name)
			default:
				c.fail(bp, "%s fills only %d block parameter", name, spec.blockParams)
			}
		}
	}
	return name, c.expect(lexer.TokenClose, "}}")
}

func (c *checker) block() {
	open := c.shift()
	c.enter(open)
	defer c.leave()
	name, end := c.blockHead()
	c.keepLine(tagEnds{open, end})
	c.program()
	if open.Kind == lexer.TokenOpenBlock {
		c.inverseChain()
	} else if t := c.peek(0); t.Kind == lexer.TokenInverse {
		c.shift()
		c.keepLine(tagEnds{t, t})
		c.program()
	}
	c.closeBlock(open, name)
}

// inverseChain parses {{else}}… or {{else if x}}… (any number of them).
// raymond nests each {{else if}} inside the previous one, so they count
// towards maxNesting.
func (c *checker) inverseChain() {
	chained := 0
	defer func() { c.nesting -= chained }()
	for {
		switch t := c.peek(0); t.Kind {
		case lexer.TokenInverse:
			c.shift()
			c.keepLine(tagEnds{t, t})
			c.program()
			return
		case lexer.TokenOpenInverseChain:
			c.shift()
			c.enter(t)
			chained++
			_, end := c.blockHead()
			c.keepLine(tagEnds{t, end})
			c.program()
		default:
			return
		}
	}
}

func (c *checker) closeBlock(open lexer.Token, name string) {
	t := c.shift()
	if t.Kind != lexer.TokenOpenEndBlock {
		if t.Kind == lexer.TokenEOF {
			c.fail(open, "{{#%s}} is never closed", name)
		}
		c.fail(t, "expected {{/%s}}, found %s", name, describe(t))
	}
	if closeName := c.helperName(); closeName.canonical != name {
		c.fail(t, "{{/%s}} does not close {{#%s}} (line %d)", closeName.canonical, name, open.Line)
	}
	c.keepLine(tagEnds{t, c.expect(lexer.TokenClose, "}}")})
}

func (c *checker) rawBlock() {
	c.keepRawBefore(c.shift())
	name, _ := c.expression(inRawBlock)
	c.expect(lexer.TokenCloseRawBlock, "}}}}")
	c.expect(lexer.TokenContent, "raw block content")
	end := c.expect(lexer.TokenOpenEndRawBlock, "{{{{/"+name+"}}}}")
	if closeName := c.helperName(); closeName.canonical != name {
		c.fail(end, "{{{{/%s}}}} does not close {{{{%s}}}}", closeName.canonical, name)
	}
	c.keepRawAfter(c.expect(lexer.TokenCloseRawBlock, "}}}}"))
}

// expression parses "name params… hash…" and checks the helper call. It
// returns the canonical name (the helper's name for a helper call).
func (c *checker) expression(pos position) (string, helperSpec) {
	head := c.peek(0)
	hn := c.helperName()
	params := 0
	for c.isParam() {
		c.param()
		params++
	}
	hash := false
	for c.isHashSegment() {
		c.shift()
		c.shift()
		c.param()
		hash = true
	}

	spec, isHelper := helperSpecs[hn.helper]
	if !isHelper {
		switch {
		case pos == inBlock || pos == inRawBlock:
			c.fail(head, "%q is not a block helper (tend knows if, unless, with, each, eachAlive and raw)", hn.canonical)
		case params > 0 || hash:
			c.fail(head, "%q is not a helper", hn.canonical)
		}
		return hn.canonical, spec
	}
	name := hn.helper
	switch {
	case spec.use == field && (params > 0 || hash || pos == inBlock || pos == inRawBlock):
		c.fail(head, "%s is not a Habitat helper", name)
	case spec.use == block && pos != inBlock:
		c.fail(head, "%s is a block helper: write {{#%s …}}…{{/%s}}", name, name, name)
	case spec.use == rawBlock && pos != inRawBlock:
		c.fail(head, "%s is a raw block helper: write {{{{%s}}}}…{{{{/%s}}}}", name, name, name)
	case spec.use == inline && (pos == inBlock || pos == inRawBlock):
		c.fail(head, "%s is not a block helper", name)
	case spec.use != field && (params < spec.min || spec.max >= 0 && params > spec.max):
		c.fail(head, "%s takes %s, got %d", name, arity(spec), params)
	}
	return name, spec
}

func arity(s helperSpec) string {
	switch {
	case s.max < 0:
		return fmt.Sprintf("at least %d argument(s)", s.min)
	case s.min == s.max:
		return fmt.Sprintf("%d argument(s)", s.min)
	default:
		return fmt.Sprintf("%d to %d arguments", s.min, s.max)
	}
}

func (c *checker) isParam() bool {
	switch c.peek(0).Kind {
	case lexer.TokenOpenSexpr, lexer.TokenBoolean, lexer.TokenNumber, lexer.TokenString, lexer.TokenData, lexer.TokenID:
		return !c.isHashSegment()
	}
	return false
}

func (c *checker) isHashSegment() bool {
	return c.peek(0).Kind == lexer.TokenID && c.peek(1).Kind == lexer.TokenEquals
}

func (c *checker) param() {
	if t := c.peek(0); t.Kind == lexer.TokenOpenSexpr {
		c.shift()
		c.enter(t)
		c.expression(inSexpr)
		c.expect(lexer.TokenCloseSexpr, ")")
		c.leave()
		return
	}
	c.helperName()
}

// name is what a helperName position holds: helper is set when it is a
// plain one-segment path (what raymond would look up as a helper), and
// canonical is raymond's Canonical() string, used to match {{/…}}.
type name struct {
	helper, canonical string
}

func (c *checker) helperName() name {
	t := c.peek(0)
	switch t.Kind {
	case lexer.TokenBoolean, lexer.TokenString:
		c.shift()
		return name{canonical: t.Val}
	case lexer.TokenNumber:
		c.shift()
		if i, err := strconv.Atoi(t.Val); err == nil {
			return name{canonical: strconv.FormatFloat(float64(i), 'f', 0, 64)}
		}
		f, err := strconv.ParseFloat(t.Val, 64)
		if err != nil {
			c.fail(t, "bad number %s", t.Val)
		}
		return name{canonical: strconv.FormatFloat(f, 'f', -1, 64)}
	case lexer.TokenData:
		c.shift()
		segments, original := c.pathSegments()
		if segments == 0 {
			// raymond indexes the first name of a data path unchecked and
			// panics at render time on @., @this or @..
			c.fail(t, "invalid data variable @%s", original)
		}
		return name{canonical: unbracket(original)}
	default:
		single, original := c.path()
		n := name{canonical: unbracket(original)}
		if single {
			n.helper = original
		}
		return n
	}
}

// path parses ID (sep ID)*. single reports a one-segment path that is not
// ., .. or this: the only shape raymond treats as a helper name.
func (c *checker) path() (single bool, original string) {
	start := c.i
	segments, original := c.pathSegments()
	return segments == 1 && c.i == start+1, original
}

// pathSegments parses a path and counts its named segments (not ., .. or
// this), rejecting a scoped segment after a named one as raymond does.
func (c *checker) pathSegments() (segments int, original string) {
	first := c.expect(lexer.TokenID, "a name")
	original = first.Val
	if !scopedSegment(first.Val) {
		segments++
	}
	for c.peek(0).Kind == lexer.TokenSep {
		sep := c.shift()
		t := c.expect(lexer.TokenID, "a name after "+sep.Val)
		original += sep.Val + t.Val
		if scopedSegment(t.Val) {
			if segments > 0 {
				c.fail(t, "invalid path %s", original)
			}
			continue
		}
		segments++
	}
	return segments, original
}

func scopedSegment(s string) bool { return s == ".." || s == "." || s == "this" }

func unbracket(s string) string {
	if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' {
		return s[1 : len(s)-1]
	}
	return s
}

func describe(t lexer.Token) string {
	switch t.Kind {
	case lexer.TokenEOF:
		return "end of template"
	case lexer.TokenInverse:
		return "{{else}} outside a block"
	case lexer.TokenOpenInverseChain:
		return "{{else …}} outside a block"
	case lexer.TokenOpenEndBlock:
		return "a {{/…}} with no open block"
	}
	v := t.Val
	if len(v) > 20 {
		v = v[:20] + "…"
	}
	return strconv.Quote(v)
}
