package census

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tend-sh/tend/internal/httpgw/gwtest"
)

// templateValidator checks template data against render_context_schema.json's
// svc and bind properties (additionalProperties: false throughout).
type templateValidator struct{ svcS, bindS *jsonschema.Schema }

func mustTemplateValidator(t testing.TB) *templateValidator {
	t.Helper()
	c := jsonschema.NewCompiler()
	// render_context_schema.json's sys refers into the services schema.
	for _, name := range []string{"render_context_schema.json", "http_gateway_services_schema.json"} {
		raw, err := os.ReadFile(filepath.Join(gwtest.ReferenceDir(), name))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		// As gwtest does: the services schema's spec_ident points at a
		// definition only render_context_schema.json has.
		if root, ok := doc.(map[string]any); ok {
			items, _ := root["items"].(map[string]any)
			props, _ := items["properties"].(map[string]any)
			if spec, _ := props["spec_ident"].(map[string]any); spec != nil {
				spec["$ref"] = "render_context_schema.json#/definitions/package_identifier"
			}
		}
		if err := c.AddResource(name, doc); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"svc", "bind"} {
		wrap := map[string]any{"$ref": "render_context_schema.json#/properties/" + p}
		if err := c.AddResource(p+".json", wrap); err != nil {
			t.Fatal(err)
		}
	}
	var tv templateValidator
	var err error
	if tv.svcS, err = c.Compile("svc.json"); err != nil {
		t.Fatal(err)
	}
	if tv.bindS, err = c.Compile("bind.json"); err != nil {
		t.Fatal(err)
	}
	return &tv
}

func (tv *templateValidator) svc(t testing.TB, what string, data map[string]any) {
	t.Helper()
	tv.check(t, tv.svcS, "svc "+what, data)
}

func (tv *templateValidator) bind(t testing.TB, what string, data map[string]any) {
	t.Helper()
	tv.check(t, tv.bindS, "bind "+what, data)
}

func (tv *templateValidator) check(t testing.TB, s *jsonschema.Schema, what string, data map[string]any) {
	t.Helper()
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(doc); err != nil {
		t.Errorf("%s: %v", what, err)
	}
}
