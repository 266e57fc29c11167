package events

import (
	"math"
	"strconv"
	"time"

	"github.com/tend-sh/tend/internal/jsonenc"
)

// encode appends e as encoding/json writes it (field order, omitempty,
// HTML-safe escapes), without reflection: the stream encodes each event
// under its lock as it is published, and a start of 500 services
// publishes thousands (json.Marshal was ~1 % of such a start's CPU, and
// every publisher waited on it). Strings and numbers are written by
// jsonenc; TestEncodeIsMarshal and FuzzEncode hold the event to
// json.Marshal's bytes.
func (e *Event) encode(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendUint(b, e.ID, 10)
	b = append(b, `,"type":`...)
	b = appendString(b, e.Type)
	b = append(b, `,"at":`...)
	b = appendTime(b, e.At)
	b = appendField(b, "service", e.Service)
	b = appendField(b, "member", e.Member)
	b = appendField(b, "state", e.State)
	b = appendField(b, "from", e.From)
	if e.PID != 0 {
		b = append(b, `,"pid":`...)
		b = strconv.AppendInt(b, int64(e.PID), 10)
	}
	if e.Backoff != nil {
		b = append(b, `,"backoff_s":`...)
		b = appendFloat(b, *e.Backoff)
	}
	if !e.NextStart.IsZero() {
		b = append(b, `,"next_start":`...)
		b = appendTime(b, e.NextStart)
	}
	b = appendField(b, "action", e.Action)
	b = appendField(b, "reason", e.Reason)
	b = appendField(b, "output", e.Output)
	if e.OK != nil {
		b = append(b, `,"ok":`...)
		b = strconv.AppendBool(b, *e.OK)
	}
	b = appendField(b, "error", e.Error)
	b = append(b, `,"text":`...)
	b = appendString(b, e.Text)
	return append(b, '}')
}

// appendField appends ,"name":"v" unless v is empty (omitempty).
func appendField(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

// appendString quotes s as json.Marshal does, HTML escapes included.
func appendString(b []byte, s string) []byte { return jsonenc.AppendString(b, s, true) }

// appendTime writes t as time.Time's MarshalJSON does (RFC 3339 with
// nanoseconds). That refuses years outside 0-9999, which no event's clock
// reads; written anyway, they still make a JSON string.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendFloat writes f as encoding/json does. A backoff is never NaN or
// infinite; were it, null keeps the event valid JSON where encoding/json
// would have refused the whole event.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	return jsonenc.AppendFloat(b, f)
}
