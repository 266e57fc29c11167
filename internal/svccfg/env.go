package svccfg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// envVars are the environment variables that carry a package's env layer,
// in precedence order: TEND_<PKGNAME> first, then Habitat's HAB_<PKGNAME>
// so plans and run scripts written for Habitat keep working. PKGNAME is the
// package name in upper case with '-' turned into '_'.
func envVars(pkgName string) [2]string {
	b := make([]byte, 0, len(pkgName))
	for i := 0; i < len(pkgName); i++ {
		c := pkgName[i]
		switch {
		case c == '-':
			c = '_'
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		b = append(b, c)
	}
	return [2]string{"TEND_" + string(b), "HAB_" + string(b)}
}

// EnvLayer reads a package's environment layer: a TOML document or, failing
// that, a JSON object, as Habitat accepts. When both TEND_<PKGNAME> and
// HAB_<PKGNAME> are set only TEND_ is read: the two are never merged, so
// what a service sees never depends on a variable an operator forgot about.
// It returns nil, nil when neither is set (or both are empty). Errors name
// the variable.
func EnvLayer(pkgName string, getenv func(string) string) (map[string]any, error) {
	if pkgName == "" {
		return nil, errors.New("env layer: empty package name")
	}
	for _, name := range envVars(pkgName) {
		raw := getenv(name)
		if raw == "" {
			continue
		}
		return parseEnv(name, raw)
	}
	return nil, nil
}

func parseEnv(name, raw string) (map[string]any, error) {
	m, tomlErr := ParseTOML(name, []byte(raw))
	if tomlErr == nil {
		return m, nil
	}
	if errors.Is(tomlErr, ErrTooLarge) {
		return nil, tomlErr
	}
	m, jsonErr := parseJSONObject([]byte(raw))
	if jsonErr == nil {
		return m, nil
	}
	return nil, fmt.Errorf("%s is neither TOML (%w) nor a JSON object (%w)", name, tomlErr, jsonErr)
}

// parseJSONObject decodes a JSON object into the same types TOML decodes
// to, so the merge and templates cannot tell the two apart.
func parseJSONObject(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("json: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("json: data after the top-level object")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("json: top level is %s, not an object", jsonKind(v))
	}
	if err := fromJSON(obj, ""); err != nil {
		return nil, err
	}
	return obj, nil
}

// fromJSON turns json.Number into int64 or float64 in place and refuses
// null, which TOML (and so every other layer) cannot express.
func fromJSON(v any, path string) error {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if n, ok := e.(json.Number); ok {
				x, err := jsonNumber(n, p)
				if err != nil {
					return err
				}
				v[k] = x
				continue
			}
			if err := fromJSON(e, p); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range v {
			p := path + "[" + strconv.Itoa(i) + "]"
			if n, ok := e.(json.Number); ok {
				x, err := jsonNumber(n, p)
				if err != nil {
					return err
				}
				v[i] = x
				continue
			}
			if err := fromJSON(e, p); err != nil {
				return err
			}
		}
	case nil:
		return fmt.Errorf("json: null at %s: config values cannot be null", path)
	}
	return nil
}

// jsonNumber keeps integers as int64, like TOML, and everything else as
// float64.
func jsonNumber(n json.Number, path string) (any, error) {
	if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
		return i, nil
	}
	f, err := strconv.ParseFloat(n.String(), 64)
	if err != nil {
		return nil, fmt.Errorf("json: number %s at %s: %w", n, path, err)
	}
	return f, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a bool"
	default:
		return "a number"
	}
}
