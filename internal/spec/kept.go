package spec

import (
	"bytes"
	"reflect"
	"strings"
	"sync"

	"github.com/pelletier/go-toml/v2/unstable"
)

// keptEntry is a key tend does not know, kept from the file as written:
// a top-level "key = value", or a whole table (its header to the next
// one). Habitat ignores keys it does not know and so does tend, but a
// spec tend rewrites (svc stop, svc start) must not lose what another
// writer, or a later Habitat, put there.
type keptEntry struct {
	key   string
	raw   []byte
	table bool
}

// KeptKeys names the keys kept from the file that tend does not use.
func (s Spec) KeptKeys() []string {
	keys := make([]string, len(s.kept))
	for i, k := range s.kept {
		keys[i] = k.key
	}
	return keys
}

// knownKeys are the top-level keys Spec reads: its toml tags and
// health_check_interval, which Parse reads itself. Worked out once: a
// restart parses every spec file.
var knownKeys = sync.OnceValue(func() map[string]bool {
	known := map[string]bool{"health_check_interval": true}
	t := reflect.TypeFor[Spec]()
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ","); tag != "" && tag != "-" {
			known[tag] = true
		}
	}
	return known
})

// keptOf finds, in a document that decoded, the top-level keys and the
// tables that are not Spec's, each with its text as written.
func keptOf(data []byte) ([]keptEntry, error) {
	known := knownKeys()
	var kept []keptEntry
	p := unstable.Parser{}
	p.Reset(data)
	inRoot := true
	blockStart, blockKey := -1, ""
	closeBlock := func(end int) {
		if blockStart >= 0 {
			kept = append(kept, keptEntry{key: blockKey, raw: bytes.TrimRight(data[blockStart:end], " \t\r\n"), table: true})
			blockStart = -1
		}
	}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.KeyValue:
			if !inRoot {
				continue // inside a known table, or part of a kept block
			}
			it := e.Key()
			it.Next()
			if key := string(it.Node().Data); !known[key] {
				kept = append(kept, keptEntry{key: key, raw: bytes.Clone(p.Raw(e.Raw))})
			}
		case unstable.Table, unstable.ArrayTable:
			inRoot = false
			it := e.Key()
			it.Next()
			first := it.Node()
			// The header's line starts after the newline before its key.
			start := bytes.LastIndexByte(data[:first.Raw.Offset], '\n') + 1
			closeBlock(start)
			if key := string(first.Data); !known[key] {
				blockStart, blockKey = start, key
			}
		}
	}
	if err := p.Error(); err != nil {
		return nil, err
	}
	closeBlock(len(data))
	for i := range kept {
		if kept[i].table {
			kept[i].raw = bytes.Clone(kept[i].raw)
		}
	}
	return kept, nil
}
