package rumor

import (
	"bytes"
	"encoding/base64"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/tend-sh/tend/internal/jsonenc"
)

// fastDecode decodes b when it is byte for byte a rumor's canonical
// encoding (what json.Marshal writes of it, decoded: every rumor a member
// stores, persists and sends), without encoding/json: a restart over 500
// services decoded its persisted rumors for ~9 ms of CPU before its first
// start, 86% of it in encoding/json, then encoded each again to find its
// canonical bytes. Every field is read in the order and spelling Marshal
// writes it, so a rumor fastDecode accepts is one json.Unmarshal decodes
// to the same value and json.Marshal writes as b again: its canonical
// encoding is b (TestFastDecodeIsUnmarshal, FuzzFastDecode). Anything
// else (another key order, spaces, a number or string spelt otherwise, a
// kind it does not know, JSON that is not valid) reports false and is
// left to encoding/json, which says what is wrong.
func fastDecode(b []byte) (Rumor, bool) {
	p := parser{b: b, ok: true}
	r := p.rumor()
	if !p.ok || p.i != len(b) {
		return Rumor{}, false
	}
	return r, true
}

// fastState decodes a document Encode wrote whose rumors fastDecode reads
// all (a supervisor's persisted rumors), in one pass: the rumors are not
// cut out first (splitState: a fifth of the time left once fastDecode
// read them), nor decoded side by side (the pass takes ~1 ms of CPU for
// 500 rumors, and a restart is CPU-bound on every CPU it has). Each is
// validated, as decodeAll does; ok is false when b is another document,
// the caller's then to read.
func fastState(b []byte) (res []decoded, ok bool) {
	if len(b) < len(encodedHead)+len(encodedTail) || !bytes.HasPrefix(b, []byte(encodedHead)) || !bytes.HasSuffix(b, []byte(encodedTail)) {
		return nil, false
	}
	// One copy of the rumors for all their canonical encodings, as the
	// caller's b may be reused (kept until the last of them is replaced:
	// the size of the file).
	body := bytes.Clone(b[len(encodedHead) : len(b)-len(encodedTail)])
	res = make([]decoded, 0, len(body)/256+1)
	p := parser{b: body, ok: true}
	for p.i < len(body) {
		if len(res) > 0 {
			p.lit(",")
		}
		start := p.i
		r := p.rumor()
		if !p.ok {
			return nil, false
		}
		d := decoded{err: r.Validate()}
		if d.err == nil {
			d.key = r.Key()
			d.e = entry{r: r, enc: body[start:p.i:p.i]}
		}
		res = append(res, d)
	}
	return res, true
}

// parser reads b from i; ok turns false at the first byte that is not
// what Marshal would write there, and stays false.
type parser struct {
	b    []byte
	i    int
	ok   bool
	prev repeats
}

// repeats are the strings of the service rumor read before: the next
// rumor of a state (the rumors of a member's services) mostly repeats
// them, and shares them rather than allocating copies.
type repeats struct {
	member, health, ip, hostname, gossipIP, httpIP, ctlIP string
}

func (p *parser) fail() { p.ok = false }

// lit reads s, which Marshal writes verbatim (keys, punctuation).
func (p *parser) lit(s string) {
	if !p.ok || len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		p.fail()
		return
	}
	p.i += len(s)
}

// opt reads s if it comes next, and reports whether it did.
func (p *parser) opt(s string) bool {
	if p.ok && len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return true
	}
	return false
}

func (p *parser) peek() byte {
	if !p.ok || p.i >= len(p.b) {
		p.fail()
		return 0
	}
	return p.b[p.i]
}

func (p *parser) rumor() Rumor {
	p.lit(`{"kind":`)
	r := Rumor{Kind: p.kind()}
	switch r.Kind {
	case KindService:
		p.lit(`,"service":`)
		r.Service = p.service()
	case KindConfig:
		p.lit(`,"config":{"service_group":`)
		c := &Config{ServiceGroup: p.str()}
		p.lit(`,"incarnation":`)
		c.Incarnation = p.uint()
		p.lit(`,"from_id":`)
		c.FromID = p.str()
		p.lit(`,"config":`)
		c.Config = p.bytes()
		r.Config = c
	case KindFile:
		p.lit(`,"file":{"service_group":`)
		f := &File{ServiceGroup: p.str()}
		p.lit(`,"filename":`)
		f.Filename = p.str()
		p.lit(`,"incarnation":`)
		f.Incarnation = p.uint()
		p.lit(`,"from_id":`)
		f.FromID = p.str()
		p.lit(`,"body":`)
		f.Body = p.bytes()
		r.File = f
	case KindDeparture:
		p.lit(`,"departure":{"member_id":`)
		r.Departure = &Departure{MemberID: p.str()}
	case KindElection, KindElectionUpdate:
		p.lit(`,"election":`)
		r.Election = p.election()
	case KindUpdate:
		p.lit(`,"update":{"service_group":`)
		u := &Update{ServiceGroup: p.str()}
		p.lit(`,"package":`)
		u.Package = p.str()
		p.lit(`,"incarnation":`)
		u.Incarnation = p.uint()
		p.lit(`,"from_id":`)
		u.FromID = p.str()
		r.Update = u
	default:
		p.fail()
	}
	p.lit(`}}`)
	return r
}

// kind reads a rumor's kind as one of the constants, so that 500 rumors
// do not each hold a copy of "service".
func (p *parser) kind() Kind {
	p.lit(`"`)
	start := p.i
	for c := p.peekEnd(); c >= 'a' && c <= 'z' || c == '_'; c = p.peekEnd() {
		p.i++
	}
	k := p.b[start:p.i]
	p.lit(`"`)
	for _, c := range []Kind{KindService, KindConfig, KindFile, KindDeparture, KindElection, KindElectionUpdate, KindUpdate} {
		if string(k) == string(c) {
			return c
		}
	}
	p.fail()
	return ""
}

func (p *parser) service() *Service {
	p.lit(`{"member_id":`)
	s := &Service{MemberID: p.strLike(&p.prev.member)}
	p.lit(`,"service_group":`)
	s.ServiceGroup = p.str()
	p.lit(`,"package":`)
	s.Package = p.str()
	p.lit(`,"incarnation":`)
	s.Incarnation = p.uint()
	p.lit(`,"cfg":`)
	if !p.opt("null") {
		s.Cfg = p.object()
	}
	p.lit(`,"sys":{"ip":`)
	s.Sys.IP = p.strLike(&p.prev.ip)
	p.lit(`,"hostname":`)
	s.Sys.Hostname = p.strLike(&p.prev.hostname)
	p.lit(`,"gossip_ip":`)
	s.Sys.GossipIP = p.strLike(&p.prev.gossipIP)
	p.lit(`,"gossip_port":`)
	s.Sys.GossipPort = p.int()
	p.lit(`,"http_gateway_ip":`)
	s.Sys.HTTPGatewayIP = p.strLike(&p.prev.httpIP)
	p.lit(`,"http_gateway_port":`)
	s.Sys.HTTPGatewayPort = p.int()
	p.lit(`,"ctl_gateway_ip":`)
	s.Sys.CtlGatewayIP = p.strLike(&p.prev.ctlIP)
	p.lit(`,"ctl_gateway_port":`)
	s.Sys.CtlGatewayPort = p.int()
	p.lit(`},"initialized":`)
	s.Initialized = p.bool()
	p.lit(`,"health":`)
	s.Health = p.strLike(&p.prev.health)
	p.lit(`,"up":`)
	s.Up = p.bool()
	// omitempty: written only when true.
	s.NotReady = p.opt(`,"not_ready":true`)
	s.Gone = p.opt(`,"gone":true`)
	return s
}

func (p *parser) election() *Election {
	p.lit(`{"member_id":`)
	e := &Election{MemberID: p.str()}
	p.lit(`,"service_group":`)
	e.ServiceGroup = p.str()
	p.lit(`,"term":`)
	e.Term = p.uint()
	p.lit(`,"suitability":`)
	e.Suitability = p.uint()
	p.lit(`,"status":`)
	e.Status = p.str()
	p.lit(`,"votes":`)
	switch {
	case p.opt("null"):
	case p.opt("[]"):
		e.Votes = []string{}
	default:
		p.lit("[")
		for p.ok {
			e.Votes = append(e.Votes, p.str())
			if !p.opt(",") {
				break
			}
		}
		p.lit("]")
	}
	return e
}

func (p *parser) bool() bool {
	if p.opt("true") {
		return true
	}
	p.lit("false")
	return false
}

// uint reads a uint64 as Marshal writes one: decimal digits, no leading
// zero. One that overflows is left to encoding/json (an error).
func (p *parser) uint() uint64 {
	n, neg := p.integer()
	if neg {
		p.fail()
	}
	return n
}

// int reads an int as Marshal writes one.
func (p *parser) int() int {
	n, neg := p.integer()
	switch {
	case !neg && n <= math.MaxInt:
		return int(n)
	case neg && n <= -math.MinInt:
		return int(-n) // two's complement: -MinInt wraps to MinInt
	}
	p.fail()
	return 0
}

// integer reads an optional minus and the digits of a whole number as
// Marshal writes it (no leading zero, no -0) into a uint64; it fails on
// what does not fit, and on a fraction or exponent.
func (p *parser) integer() (n uint64, neg bool) {
	start := p.i
	neg = p.opt("-")
	if c := p.peek(); c < '0' || c > '9' || (c == '0' && neg) {
		p.fail()
		return 0, false
	}
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		d := uint64(p.b[p.i] - '0')
		if n > (math.MaxUint64-d)/10 || (n == 0 && p.i > start+btoi(neg)) {
			p.fail() // overflow, or a leading zero
			return 0, false
		}
		n = n*10 + d
		p.i++
	}
	if c := p.peekEnd(); c == '.' || c == 'e' || c == 'E' {
		p.fail()
	}
	return n, neg
}

// peekEnd is the byte at i, or 0 at the end.
func (p *parser) peekEnd() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// bytes reads a []byte as Marshal writes one: null for nil, else standard
// base64 with padding. Strict decoding refuses the spellings that decode
// to the same bytes (set padding bits), so the bytes encode back as read.
func (p *parser) bytes() []byte {
	if p.opt("null") {
		return nil
	}
	p.lit(`"`)
	start := p.i
	for p.i < len(p.b) && p.b[p.i] != '"' && p.b[p.i] != '\\' {
		p.i++
	}
	src := p.b[start:p.i]
	p.lit(`"`)
	if !p.ok {
		return nil
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(src)))
	n, err := base64.StdEncoding.Strict().Decode(out, src)
	if err != nil || base64.StdEncoding.EncodedLen(n) != len(src) {
		p.fail() // the length check refuses \r and \n, which Decode skips
		return nil
	}
	return out[:n]
}

// str reads a string as Marshal writes one (HTML-safe): no raw control
// character, <, >, &, U+2028, U+2029 or invalid UTF-8, and only the
// escapes Marshal writes.
func (p *parser) str() string { return p.strLike(nil) }

// strLike is str returning *prev itself when the string read is the same
// (and setting it when not).
func (p *parser) strLike(prev *string) string {
	p.lit(`"`)
	if !p.ok {
		return ""
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			raw := p.b[start:p.i]
			p.i++
			if prev == nil {
				return string(raw)
			}
			if string(raw) != *prev {
				*prev = string(raw)
			}
			return *prev
		case c == '\\':
			return p.escaped(start)
		case c < utf8.RuneSelf:
			if c < 0x20 || c == '<' || c == '>' || c == '&' {
				p.fail()
				return ""
			}
			p.i++
		default:
			r, size := utf8.DecodeRune(p.b[p.i:])
			if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
				p.fail()
				return ""
			}
			p.i += size
		}
	}
	p.fail()
	return ""
}

// escaped finishes reading a string begun at start that holds an escape
// at i: the rare case, decoded into a buffer of its own.
func (p *parser) escaped(start int) string {
	buf := append([]byte(nil), p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return string(buf)
		case c == '\\':
			r, ok := p.escape()
			if !ok {
				p.fail()
				return ""
			}
			buf = utf8.AppendRune(buf, r)
		case c < utf8.RuneSelf:
			if c < 0x20 || c == '<' || c == '>' || c == '&' {
				p.fail()
				return ""
			}
			buf = append(buf, c)
			p.i++
		default:
			r, size := utf8.DecodeRune(p.b[p.i:])
			if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
				p.fail()
				return ""
			}
			buf = append(buf, p.b[p.i:p.i+size]...)
			p.i += size
		}
	}
	p.fail()
	return ""
}

// escape reads the escape at i if it is one Marshal writes: \" \\ \b \f
// \n \r \t, \u00xx (lower-case hex) for the other control characters and
// for <, > and &, and \u2028 and \u2029.
func (p *parser) escape() (rune, bool) {
	if len(p.b)-p.i < 2 {
		return 0, false
	}
	c := p.b[p.i+1]
	p.i += 2
	switch c {
	case '"', '\\':
		return rune(c), true
	case 'b':
		return '\b', true
	case 'f':
		return '\f', true
	case 'n':
		return '\n', true
	case 'r':
		return '\r', true
	case 't':
		return '\t', true
	case 'u':
	default:
		return 0, false
	}
	if len(p.b)-p.i < 4 {
		return 0, false
	}
	var r rune
	for _, h := range p.b[p.i : p.i+4] {
		switch {
		case h >= '0' && h <= '9':
			r = r<<4 | rune(h-'0')
		case h >= 'a' && h <= 'f':
			r = r<<4 | rune(h-'a'+10)
		default:
			return 0, false
		}
	}
	p.i += 4
	switch {
	case r == '\b' || r == '\f' || r == '\n' || r == '\r' || r == '\t':
		return 0, false // Marshal writes these short
	case r < 0x20 || r == '<' || r == '>' || r == '&' || r == '\u2028' || r == '\u2029':
		return r, true
	}
	return 0, false
}

// object reads an exported config map as Marshal writes one: its keys
// sorted, no key twice. Values decode as Service.UnmarshalJSON makes them.
func (p *parser) object() map[string]any {
	p.lit("{")
	m := map[string]any{}
	if p.opt("}") {
		return m
	}
	prev := ""
	for p.ok {
		k := p.str()
		if len(m) > 0 && k <= prev {
			p.fail() // Marshal sorts the keys; a repeated key decodes once
			return nil
		}
		p.lit(":")
		m[k] = p.value()
		prev = k
		if !p.opt(",") {
			break
		}
	}
	p.lit("}")
	return m
}

// value reads one value of an exported config.
func (p *parser) value() any {
	switch c := p.peek(); {
	case c == '{':
		return p.object()
	case c == '[':
		p.i++
		l := []any{}
		if p.opt("]") {
			return l
		}
		for p.ok {
			l = append(l, p.value())
			if !p.opt(",") {
				break
			}
		}
		p.lit("]")
		return l
	case c == '"':
		return p.str()
	case c == 't' || c == 'f':
		return p.bool()
	case c == 'n':
		p.lit("null")
		return nil
	}
	return p.number()
}

// number reads a number of an exported config: int64 when it is whole and
// fits (json.Number.Int64 succeeds), else float64 (numbers.go), written as
// Marshal writes that value.
func (p *parser) number() any {
	if !p.ok {
		return nil
	}
	start := p.i
	n, neg := p.integer()
	switch {
	case p.ok && !neg && n <= math.MaxInt64:
		return int64(n)
	case p.ok && neg && n <= -math.MinInt64:
		return int64(-n)
	case p.ok:
		// An integer outside int64: a float64 if written as Marshal
		// writes that float (1e21 and more it writes with an exponent).
	default:
		// A fraction or an exponent: scan the JSON number afresh.
		p.i, p.ok = start, true
		p.opt("-")
		for p.i < len(p.b) && (p.b[p.i] >= '0' && p.b[p.i] <= '9' || p.b[p.i] == '.' ||
			p.b[p.i] == 'e' || p.b[p.i] == 'E' || p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
	}
	tok := p.b[start:p.i]
	if string(tok) == "-0" {
		p.fail() // json.Number.Int64 reads it as 0, which Marshal writes "0"
		return nil
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	var buf [32]byte
	if err != nil || string(jsonenc.AppendFloat(buf[:0], f)) != string(tok) {
		p.fail()
		return nil
	}
	return f
}
