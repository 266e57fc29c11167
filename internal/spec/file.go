package spec

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Parse reads a spec file's content, as Habitat or tend wrote it. Missing
// keys take Habitat's defaults; keys tend does not know are kept, as
// Habitat ignores them, and written back by Encode. name is used in errors
// ("specs/redis.spec:3: ...").
func Parse(name string, data []byte) (Spec, error) {
	if s, ok := fastParse(data); ok {
		if err := s.Validate(); err != nil {
			return Spec{}, fmt.Errorf("%s: %w", name, err)
		}
		return s, nil
	}
	return parseTOML(name, data)
}

// parseTOML is Parse by the TOML decoder: any file Habitat or tend wrote,
// or a person.
func parseTOML(name string, data []byte) (Spec, error) {
	// One decode: the spec's keys and health_check_interval, which may be
	// a table or a number and is read here.
	f := struct {
		Spec
		HC any `toml:"health_check_interval"`
	}{Spec: New("")}
	if err := decode(name, data, &f); err != nil {
		return Spec{}, err
	}
	s := f.Spec
	if f.HC != nil {
		d, err := intervalOf(f.HC)
		if err != nil {
			return Spec{}, fmt.Errorf("%s: %w", name, err)
		}
		s.HealthCheckInterval = d
	}
	// Habitat reads the desired state in any case ("Up"), and writes it
	// in lower case.
	s.DesiredState = strings.ToLower(s.DesiredState)
	kept, err := keptOf(data)
	if err != nil {
		return Spec{}, fmt.Errorf("%s: %w", name, err)
	}
	s.kept = kept
	if err := s.Validate(); err != nil {
		return Spec{}, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

// decode decodes data into v; the error names the file and line.
func decode(name string, data []byte, v any) error {
	err := toml.NewDecoder(bytes.NewReader(data)).Decode(v)
	if err == nil {
		return nil
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		return fmt.Errorf("%s:%d: %s", name, row, de.Error())
	}
	return fmt.Errorf("%s: %w", name, err)
}

// intervalOf reads health_check_interval: Habitat's table {secs, nanos}
// (a Rust Duration), or a whole number of seconds.
func intervalOf(v any) (Duration, error) {
	switch v := v.(type) {
	case int64:
		return Duration{Secs: v}, nil
	case map[string]any:
		var d Duration
		for k, x := range v {
			n, ok := x.(int64)
			switch {
			case k != "secs" && k != "nanos":
				return Duration{}, fmt.Errorf("health_check_interval: unknown key %s (only secs and nanos)", k)
			case !ok:
				return Duration{}, fmt.Errorf("health_check_interval %s must be a whole number", k)
			case k == "secs":
				d.Secs = n
			default:
				d.Nanos = n
			}
		}
		return d, nil
	}
	return Duration{}, fmt.Errorf("health_check_interval must be a table of secs and nanos, or seconds")
}

// Encode renders the spec file as Habitat 1.6 writes one (toml 0.8 from
// ServiceSpec): its keys in its order, unset optional keys left out, the
// health_check_interval table last. What tend adds comes after Habitat's
// keys: the keys kept from the file, as written, then tend's own keys;
// tables the file had that tend does not know follow health_check_interval.
func (s Spec) Encode() []byte {
	// Written piece by piece, not with fmt: a restart encodes each of its
	// spec files once more to read it (fastParse).
	var b bytes.Buffer
	b.Grow(512)
	str := func(k, v string) {
		b.WriteString(k)
		b.WriteString(" = ")
		b.WriteString(tomlString(v))
		b.WriteByte('\n')
	}
	num := func(k string, v int64) {
		b.WriteString(k)
		b.WriteString(" = ")
		b.WriteString(strconv.FormatInt(v, 10))
		b.WriteByte('\n')
	}
	str("ident", s.Ident)
	str("group", s.Group)
	str("bldr_url", s.BldrURL)
	str("channel", s.Channel)
	str("topology", s.Topology)
	str("update_strategy", s.UpdateStrategy)
	str("update_condition", s.UpdateCondition)
	binds := make([]string, len(s.Binds))
	for i, bd := range s.Binds {
		binds[i] = tomlString(bd)
	}
	b.WriteString("binds = [")
	b.WriteString(strings.Join(binds, ", "))
	b.WriteString("]\n")
	str("binding_mode", s.BindingMode)
	if s.ConfigFrom != nil {
		str("config_from", *s.ConfigFrom)
	}
	str("desired_state", s.DesiredState)
	if s.ShutdownTimeout != nil {
		num("shutdown_timeout", int64(*s.ShutdownTimeout))
	}
	if s.SvcEncryptedPassword != nil {
		str("svc_encrypted_password", *s.SvcEncryptedPassword)
	}
	for _, k := range s.kept {
		if !k.table {
			b.Write(k.raw)
			b.WriteByte('\n')
		}
	}
	if s.LogMaxBytes != nil {
		b.WriteString("log_max_bytes = " + strconv.FormatUint(*s.LogMaxBytes, 10) + "\n")
	}
	if s.LogBackups != nil {
		num("log_backups", int64(*s.LogBackups))
	}
	if s.HookTimeout != nil {
		num("hook_timeout", int64(*s.HookTimeout))
	}
	if s.HealthCheckGrace != nil {
		num("health_check_grace", int64(*s.HealthCheckGrace))
	}
	b.WriteString("\n[health_check_interval]\n")
	num("secs", s.HealthCheckInterval.Secs)
	num("nanos", s.HealthCheckInterval.Nanos)
	for _, k := range s.kept {
		if k.table {
			b.WriteByte('\n')
			b.Write(k.raw)
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}
