package tmpl

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// toYAML renders normalised data as YAML. It builds the node tree itself so
// that floats keep their serde form (1.0 stays 1.0, where yaml.v3 would
// write 1) and keys come out sorted. The layout is libyaml's, which
// Habitat's serde_yaml uses: two-space indent, a sequence in a mapping not
// indented. Quoting choices for odd strings may still differ; the document
// means the same.
func toYAML(v any) (string, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	enc.CompactSeqIndent()
	if err := enc.Encode(yamlNode(v)); err != nil {
		return "", fmt.Errorf("toYaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return "", fmt.Errorf("toYaml: %w", err)
	}
	return buf.String(), nil
}

func yamlNode(v any) *yaml.Node {
	scalar := func(tag, value string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
	}
	switch v := v.(type) {
	case nil:
		return scalar("!!null", "null")
	case string:
		// yaml.v3's own string encoding quotes what a YAML 1.1 reader would
		// take for something else ("on", "no", "1:20"), not just what
		// YAML 1.2 would.
		n := &yaml.Node{}
		if err := n.Encode(v); err != nil {
			return scalar("!!str", v)
		}
		return n
	case bool:
		return scalar("!!bool", strconv.FormatBool(v))
	case int64:
		return scalar("!!int", strconv.FormatInt(v, 10))
	case int:
		return scalar("!!int", strconv.Itoa(v))
	case uint64:
		return scalar("!!int", strconv.FormatUint(v, 10))
	case float64:
		if s := formatFloat(v); s != "" {
			return scalar("!!float", s)
		}
		return scalar("!!null", "null")
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, e := range v {
			n.Content = append(n.Content, yamlNode(e))
		}
		return n
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, k := range keys {
			n.Content = append(n.Content, yamlNode(k), yamlNode(v[k]))
		}
		return n
	default:
		norm, err := normal(v)
		if err != nil {
			return scalar("!!null", "null")
		}
		return yamlNode(norm)
	}
}
