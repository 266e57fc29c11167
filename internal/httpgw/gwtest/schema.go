// Package gwtest holds test helpers for the HTTP gateway's output: JSON
// Schema validation against Habitat's schemas, normalisation of volatile
// values and golden files. Tests of a live tend reuse them.
package gwtest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schema names a Habitat gateway schema.
type Schema string

const (
	Services  Schema = "http_gateway_services_schema.json"
	Census    Schema = "http_gateway_census_schema.json"
	Butterfly Schema = "http_gateway_butterfly_schema.json"
	// renderContext is only $ref'd by the others.
	renderContext Schema = "render_context_schema.json"
)

// ReferenceDir is shared/habitat-reference, found beside the repository
// (CI clones the repository with shared/ next to it, as on a developer's
// machine). It is resolved from this file so any package's test can use it.
func ReferenceDir() string {
	_, file, _, _ := runtime.Caller(0)
	// file is REPO/internal/httpgw/gwtest/schema.go.
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "shared", "habitat-reference")
}

// Validator checks documents against Habitat's gateway schemas.
type Validator struct {
	schemas map[Schema]*jsonschema.Schema
}

// NewValidator compiles the schemas found in dir (see ReferenceDir).
func NewValidator(dir string) (*Validator, error) {
	c := jsonschema.NewCompiler()
	for _, name := range []Schema{Services, Census, Butterfly, renderContext} {
		doc, err := loadJSON(filepath.Join(dir, string(name)))
		if err != nil {
			return nil, err
		}
		if name == Services {
			patchServices(doc)
		}
		if err := c.AddResource(string(name), doc); err != nil {
			return nil, fmt.Errorf("add schema %s: %w", name, err)
		}
	}
	v := &Validator{schemas: map[Schema]*jsonschema.Schema{}}
	for _, name := range []Schema{Services, Census, Butterfly} {
		s, err := c.Compile(string(name))
		if err != nil {
			return nil, fmt.Errorf("compile schema %s: %w", name, err)
		}
		v.schemas[name] = s
	}
	return v, nil
}

// patchServices repairs one dangling reference of Habitat's services schema:
// spec_ident points at "#/definitions/package_identifier", which only
// render_context_schema.json defines. It is pointed there, which is what the
// schema means (pkg.deps already refers to it that way).
func patchServices(doc any) {
	root, ok := doc.(map[string]any)
	if !ok {
		return
	}
	items, _ := root["items"].(map[string]any)
	props, _ := items["properties"].(map[string]any)
	spec, _ := props["spec_ident"].(map[string]any)
	if spec != nil && spec["$ref"] == "#/definitions/package_identifier" {
		spec["$ref"] = string(renderContext) + "#/definitions/package_identifier"
	}
}

func loadJSON(path string) (any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return doc, nil
}

// Validate checks body against schema.
func (v *Validator) Validate(schema Schema, body []byte) error {
	s, ok := v.schemas[schema]
	if !ok {
		return fmt.Errorf("unknown schema %q", schema)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("response is not JSON: %w", err)
	}
	if err := s.Validate(doc); err != nil {
		return fmt.Errorf("%s: %w", schema, err)
	}
	return nil
}

// MustValidator is NewValidator(ReferenceDir()) for tests.
func MustValidator(t testing.TB) *Validator {
	t.Helper()
	v, err := NewValidator(ReferenceDir())
	if err != nil {
		t.Fatal(err)
	}
	return v
}
