package rumor

import (
	"bytes"
	"encoding/json"
)

// UnmarshalJSON keeps whole numbers in Cfg whole: plain encoding/json makes
// every number a float64, and a template rendering a bound member's
// {{cfg.port}} would then print 5432.0 on every member but the one that
// sent it.
func (s *Service) UnmarshalJSON(b []byte) error {
	type plain Service // no methods: no recursion
	var p plain
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return err
	}
	for k, v := range p.Cfg {
		p.Cfg[k] = numbers(v)
	}
	*s = Service(p)
	return nil
}

// numbers turns json.Numbers into int64 when whole, else float64.
func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
		return x
	}
	return v
}
