package api

import (
	"bytes"
	"encoding/json"
	"sync"
)

// Doc is a JSON document built when first asked for, then kept: the census
// and butterfly documents are large, and most snapshots are never served
// on /census or /butterfly. Its encoding does not escape <, > and &, as
// serde_json behind Habitat's gateway does not.
type Doc struct {
	once  sync.Once
	build func() any
	b     []byte
	err   error
}

// NewDoc returns the document build makes; build runs at most once, on the
// first call of JSON, and may run on any goroutine.
func NewDoc(build func() any) *Doc { return &Doc{build: build} }

// JSON returns the document encoded, compact and without a final newline.
func (d *Doc) JSON() ([]byte, error) {
	d.once.Do(func() {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if d.err = enc.Encode(d.build()); d.err == nil {
			d.b = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		}
	})
	return d.b, d.err
}

// MarshalJSON makes a Doc part of a larger document as itself.
func (d *Doc) MarshalJSON() ([]byte, error) { return d.JSON() }
