package httpgw

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"net/http"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// wantsTOML reports whether the request's Accept header lists
// application/toml. Habitat's api.yaml promised TOML here while its code
// answers JSON; tend answers JSON unless TOML is asked for.
func wantsTOML(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err == nil && mt == "application/toml" {
				return true
			}
		}
	}
	return false
}

// configResponse is /config: the merged config as JSON (`{}` when it is not
// known), as TOML when asked, and `null` when redacted whatever was asked,
// since TOML has no null.
func (sc *svcCache) configResponse(asTOML bool) *response {
	if sc.parent.redact {
		return sc.config.get(func() response { return newResponse(ctypeJSON, []byte("null")) })
	}
	if asTOML {
		return sc.configTOML.get(func() response {
			body, err := marshalTOML(sc.svc.Cfg)
			if err != nil {
				sc.parent.log.Error("http gateway: encode config as TOML", "service_group", sc.svc.ServiceGroup, "err", err)
				return failure
			}
			return newResponse(ctypeTOML, body)
		})
	}
	return sc.config.get(func() response {
		body := sc.cfg()
		if bytes.Equal(body, []byte("null")) {
			body = []byte("{}")
		}
		return newResponse(ctypeJSON, body)
	})
}

func marshalTOML(cfg map[string]any) ([]byte, error) {
	if cfg == nil {
		return []byte{}, nil
	}
	// go-toml sorts map keys, so the output is stable.
	b, err := toml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("toml: %w", err)
	}
	return b, nil
}

// marshal encodes v as compact JSON without escaping <, > and & (serde_json,
// behind Habitat's gateway, does not escape them either).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("json: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// marshalConfig encodes a config. TOML allows nan and inf, JSON does not:
// like serde_json, such floats become null.
func marshalConfig(v any) ([]byte, error) {
	b, err := marshal(v)
	if err == nil {
		return b, nil
	}
	return marshal(finite(v))
}

// finite returns v with every non-finite float replaced by nil, copying the
// maps and slices on the way.
func finite(v any) any {
	switch v := v.(type) {
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
	case float32:
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil
		}
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = finite(e)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = finite(e)
		}
		return s
	case []map[string]any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = finite(e)
		}
		return s
	case []float64:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = finite(e)
		}
		return s
	}
	return v
}
