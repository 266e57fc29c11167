package svccfg

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// MaxSize bounds one config document (default.toml, user.toml, an
// environment layer, a gossiped config). A supervisor parses these on every
// change, some of them arriving over the network, so a huge one is refused
// rather than parsed.
const MaxSize = 64 << 10

// ErrTooLarge is wrapped by the error for a document over MaxSize.
var ErrTooLarge = errors.New("config document too large")

// SyntaxError is a TOML document that does not parse. Its message is one
// line, "NAME:LINE:COL: message", the shape editors and CI logs link.
type SyntaxError struct {
	Name      string
	Line, Col int
	Msg       string
	err       error
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.Name, e.Line, e.Col, e.Msg)
}

// Unwrap gives the go-toml error, for callers that want its excerpt.
func (e *SyntaxError) Unwrap() error { return e.err }

// ParseTOML decodes one config document. name only labels errors (a path,
// or an environment variable's name). A document over MaxSize is refused
// with an error wrapping ErrTooLarge; a syntax error is a *SyntaxError.
// An empty document gives an empty, non-nil map.
func ParseTOML(name string, data []byte) (map[string]any, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%s: %d bytes, over the %d-byte limit: %w", name, len(data), MaxSize, ErrTooLarge)
	}
	m := make(map[string]any)
	if err := toml.Unmarshal(data, &m); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, col := de.Position()
			return nil, &SyntaxError{Name: name, Line: line, Col: col, Msg: oneLine(strings.TrimPrefix(de.Error(), "toml: ")), err: err}
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

// oneLine keeps an error message on one line, so a log line stays a log line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
