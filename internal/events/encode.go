package events

import (
	"encoding/json"
	"strconv"
	"time"
)

// appendJSON appends e as encoding/json encodes it, byte for byte, without
// reflection: every state change of every service is encoded once as it is
// published, 1,500 events and more while 500 services start, on the cores
// they start on. ok is false for what this does not encode itself (a time
// outside years 0-9999, which json refuses); JSON then falls back to
// json.Marshal.
func (e *Event) appendJSON(b []byte) ([]byte, bool) {
	if !jsonTime(e.At) || (!e.NextStart.IsZero() && !jsonTime(e.NextStart)) {
		return b, false
	}
	b = append(b, `{"id":`...)
	b = strconv.AppendUint(b, e.ID, 10)
	b = append(b, `,"type":`...)
	b = appendString(b, e.Type)
	b = append(b, `,"at":"`...)
	b = e.At.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	b = appendField(b, `,"service":`, e.Service)
	b = appendField(b, `,"member":`, e.Member)
	b = appendField(b, `,"state":`, e.State)
	b = appendField(b, `,"from":`, e.From)
	if e.PID != 0 {
		b = append(b, `,"pid":`...)
		b = strconv.AppendInt(b, int64(e.PID), 10)
	}
	if e.Backoff != nil {
		f, err := json.Marshal(*e.Backoff) // rare (service.restart); json's float format
		if err != nil {
			return b, false
		}
		b = append(b, `,"backoff_s":`...)
		b = append(b, f...)
	}
	if !e.NextStart.IsZero() {
		b = append(b, `,"next_start":"`...)
		b = e.NextStart.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	b = appendField(b, `,"action":`, e.Action)
	b = appendField(b, `,"reason":`, e.Reason)
	b = appendField(b, `,"output":`, e.Output)
	if e.OK != nil {
		b = append(b, `,"ok":`...)
		b = strconv.AppendBool(b, *e.OK)
	}
	b = appendField(b, `,"error":`, e.Error)
	b = append(b, `,"text":`...)
	b = appendString(b, e.Text)
	return append(b, '}'), true
}

// jsonTime reports whether json encodes t (time.Time.MarshalJSON refuses
// years outside 0-9999).
func jsonTime(t time.Time) bool {
	y := t.Year()
	return y >= 0 && y <= 9999
}

// appendField appends an omitempty string field.
func appendField(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	return appendString(append(b, key...), v)
}

// appendString appends s quoted. Printable ASCII other than the characters
// json escapes (", \, and <, > and & for HTML) is copied; a string with
// anything else is rare (an error or a health check's output) and left
// to encoding/json, whose escapes it must match.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
