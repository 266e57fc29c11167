package gwtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// VolatileKeys are the gateway keys whose numbers change from run to run
// (pids, times, ports bound as port 0, incarnations that follow the clock,
// rumor counters); Normalize sets them to 0 when they are not null.
var VolatileKeys = map[string]bool{
	"pid":                          true,
	"state_entered":                true,
	"terminated_at":                true,
	"next_restart_at":              true,
	"ctl_gateway_port":             true,
	"http_gateway_port":            true,
	"gossip_port":                  true,
	"swim_port":                    true,
	"incarnation":                  true,
	"update_counter":               true,
	"last_service_counter":         true,
	"last_election_counter":        true,
	"last_election_update_counter": true,
	"last_membership_counter":      true,
	"last_service_config_counter":  true,
	"last_service_file_counter":    true,
}

// Indent re-indents a JSON body with its object keys sorted, for golden
// files of fixed (literal) snapshots, where nothing varies.
func Indent(body []byte) ([]byte, error) { return normalize(body, nil, false) }

// Normalize is Indent for the output of a live tend: it also sets
// VolatileKeys to 0 and replaces every occurrence of each key of literal (in
// object keys and string values) with its value, e.g. a member id with
// "MEMBER_ID" or a temporary directory with "/ROOT".
func Normalize(body []byte, literal map[string]string) ([]byte, error) {
	return normalize(body, literal, true)
}

func normalize(body []byte, literal map[string]string, volatile bool) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("normalize: %w", err)
	}
	v = walk(v, literal, volatile)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("normalize: %w", err)
	}
	return buf.Bytes(), nil
}

func walk(v any, literal map[string]string, volatile bool) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			if _, isNum := e.(json.Number); isNum && volatile && VolatileKeys[k] {
				e = json.Number("0")
			}
			out[replace(k, literal)] = walk(e, literal, volatile)
		}
		return out
	case []any:
		for i, e := range v {
			v[i] = walk(e, literal, volatile)
		}
		return v
	case string:
		return replace(v, literal)
	}
	return v
}

func replace(s string, literal map[string]string) string {
	for from, to := range literal {
		if from != "" {
			s = strings.ReplaceAll(s, from, to)
		}
	}
	return s
}

// Golden compares got with the file at path, or rewrites the file when
// update is set (go test -update).
func Golden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the response (go test -update rewrites it), -want +got:\n%s", path, cmp.Diff(string(want), string(got)))
	}
}
