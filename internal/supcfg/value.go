package supcfg

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// isList reports whether the option takes several values.
func (o *option) isList() bool {
	switch o.field(&Config{}).(type) {
	case *[]string, *Secrets:
		return true
	}
	return false
}

// typeName is shown in flag help (pflag's Value.Type).
func (o *option) typeName() string {
	switch o.field(&Config{}).(type) {
	case *bool:
		return "bool"
	case *time.Duration:
		return "duration"
	case *uint64:
		if o.size {
			return "size"
		}
		return "uint"
	case *[]string:
		return "strings"
	}
	return "string"
}

// split breaks one flag or environment value into list items. Empty items
// are dropped, so "a,,b" and a trailing comma are harmless.
func (o *option) split(s string) []string {
	if o.envSingle {
		return []string{s}
	}
	sep := func(r rune) bool { return r == ',' }
	if o.spaceSep {
		sep = func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }
	}
	var out []string
	for _, p := range strings.FieldsFunc(s, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// set parses vals (one value, or the items of a list) into the option's
// field of c. Errors name the bad value but never a secret one.
func (o *option) set(c *Config, vals []string) error {
	if len(vals) == 0 && !o.isList() {
		return errors.New("missing value")
	}
	var err error
	switch p := o.field(c).(type) {
	case *string:
		v := vals[len(vals)-1]
		if o.check != nil {
			v, err = o.check(v)
		}
		if err == nil {
			*p = v
		}
	case *bool:
		*p, err = parseBool(vals[len(vals)-1])
	case *time.Duration:
		*p, err = parseDuration(vals[len(vals)-1])
	case *uint64:
		if o.size {
			*p, err = parseBytes(vals[len(vals)-1])
		} else {
			*p, err = parseCount(vals[len(vals)-1])
		}
	case *[]string:
		out := make([]string, 0, len(vals))
		for _, v := range vals {
			if o.check != nil {
				if v, err = o.check(v); err != nil {
					return err
				}
			}
			out = append(out, v)
		}
		*p = out
	case *Secrets:
		out := make(Secrets, 0, len(vals))
		for i, v := range vals {
			if err := checkToken(v); err != nil {
				if len(vals) == 1 {
					return err
				}
				return fmt.Errorf("item %d: %w", i+1, err)
			}
			out = append(out, []byte(v))
		}
		*p = out
	default:
		return fmt.Errorf("option %s has no parser", o.YAML) // a bug in the table
	}
	return err
}

// checkToken refuses tokens no request could present: a header value is
// split on white space, and control characters are not allowed in it.
func checkToken(s string) error {
	if s == "" {
		return errors.New("empty token")
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return errors.New("token contains white space or a control character")
		}
	}
	return nil
}

// format prints the option's value in c the way a user would write it.
func (o *option) format(c *Config) string {
	switch p := o.field(c).(type) {
	case *string:
		if *p == "" {
			return "none"
		}
		return *p
	case *bool:
		return strconv.FormatBool(*p)
	case *time.Duration:
		return formatDuration(*p)
	case *uint64:
		if o.size {
			return formatBytes(*p)
		}
		return strconv.FormatUint(*p, 10)
	case *[]string:
		if len(*p) == 0 {
			return "none"
		}
		return strings.Join(*p, ",")
	case *Secrets:
		if len(*p) == 0 {
			return "none"
		}
		return p.String()
	}
	return ""
}
