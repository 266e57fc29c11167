package spec

import (
	"bytes"
	"strconv"
	"strings"
)

// fastParse reads a spec file that is byte for byte what Encode writes
// (every spec file tend saved, and the 500 a restart reads before its
// first start) without the TOML decoder: each line is a key this package
// knows, a plain double-quoted string (no escapes), a whole number or a
// list of such strings, and the health_check_interval table. The spec
// read is accepted only if encoding it gives data back, so it is the spec
// Parse reads (Parse(Encode(s)) is s: TestFastParseIsParse); anything else
// (another layout, kept keys, a quote or backslash in a value, an error)
// reports false and is left to Parse, which reports what is wrong.
func fastParse(data []byte) (Spec, bool) {
	s := New("")
	inHC := false
	for line := range bytes.Lines(data) {
		line = bytes.TrimSuffix(line, []byte("\n"))
		if len(line) == 0 {
			continue
		}
		if string(line) == "[health_check_interval]" {
			if inHC {
				return Spec{}, false
			}
			inHC = true
			continue
		}
		k, v, ok := bytes.Cut(line, []byte(" = "))
		if !ok {
			return Spec{}, false
		}
		if inHC {
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return Spec{}, false
			}
			switch string(k) {
			case "secs":
				s.HealthCheckInterval.Secs = n
			case "nanos":
				s.HealthCheckInterval.Nanos = n
			default:
				return Spec{}, false
			}
			continue
		}
		if !fastKey(&s, string(k), v) {
			return Spec{}, false
		}
	}
	s.DesiredState = strings.ToLower(s.DesiredState)
	if !bytes.Equal(s.Encode(), data) {
		return Spec{}, false
	}
	return s, true
}

// fastKey sets the spec's key k from its value v as fastParse reads it.
func fastKey(s *Spec, k string, v []byte) bool {
	var str *string
	var num **int
	switch k {
	case "ident":
		str = &s.Ident
	case "group":
		str = &s.Group
	case "bldr_url":
		str = &s.BldrURL
	case "channel":
		str = &s.Channel
	case "topology":
		str = &s.Topology
	case "update_strategy":
		str = &s.UpdateStrategy
	case "update_condition":
		str = &s.UpdateCondition
	case "binding_mode":
		str = &s.BindingMode
	case "desired_state":
		str = &s.DesiredState
	case "config_from":
		s.ConfigFrom = new(string)
		str = s.ConfigFrom
	case "svc_encrypted_password":
		s.SvcEncryptedPassword = new(string)
		str = s.SvcEncryptedPassword
	case "binds":
		return fastBinds(s, v)
	case "log_max_bytes":
		n, err := strconv.ParseUint(string(v), 10, 64)
		s.LogMaxBytes = &n
		return err == nil
	case "shutdown_timeout":
		num = &s.ShutdownTimeout
	case "log_backups":
		num = &s.LogBackups
	case "hook_timeout":
		num = &s.HookTimeout
	case "health_check_grace":
		num = &s.HealthCheckGrace
	default:
		return false
	}
	if num != nil {
		n, err := strconv.Atoi(string(v))
		*num = &n
		return err == nil
	}
	var ok bool
	*str, ok = plainString(v)
	return ok
}

// fastBinds reads `[]` or `["a", "b"]`.
func fastBinds(s *Spec, v []byte) bool {
	inner, ok := bytes.CutPrefix(v, []byte("["))
	if !ok {
		return false
	}
	if inner, ok = bytes.CutSuffix(inner, []byte("]")); !ok {
		return false
	}
	s.Binds = []string{}
	if len(inner) == 0 {
		return true
	}
	for item := range bytes.SplitSeq(inner, []byte(", ")) {
		b, ok := plainString(item)
		if !ok {
			return false
		}
		s.Binds = append(s.Binds, b)
	}
	return true
}

// plainString reads a double-quoted TOML string with nothing in it that
// TOML would read otherwise than as written: no quote, backslash or
// control character.
func plainString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	v = v[1 : len(v)-1]
	for _, c := range v {
		if c == '"' || c == '\\' || c < 0x20 || c == 0x7f {
			return "", false
		}
	}
	return string(v), true
}
