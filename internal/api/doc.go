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
	once   sync.Once
	build  func() any
	encode func() ([]byte, error)
	b      []byte
	err    error
}

// NewDoc returns the document build makes; build runs at most once, on the
// first call of JSON, and may run on any goroutine.
func NewDoc(build func() any) *Doc { return &Doc{build: build} }

// NewEncodedDoc returns the document encode writes, compact, without a
// final newline and with <, > and & as they are, as JSON would: for a
// document whose owner encodes it faster than encoding/json does. encode
// runs at most once, like NewDoc's build.
func NewEncodedDoc(encode func() ([]byte, error)) *Doc { return &Doc{encode: encode} }

// JSON returns the document encoded, compact and without a final newline.
func (d *Doc) JSON() ([]byte, error) {
	d.once.Do(func() {
		if d.encode != nil {
			d.b, d.err = d.encode()
			return
		}
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
