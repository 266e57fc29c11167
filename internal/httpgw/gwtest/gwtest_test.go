package gwtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Habitat's own sample outputs must pass, or the validator is wrong.
func TestSamplesValidate(t *testing.T) {
	v := MustValidator(t)
	for file, schema := range map[string]Schema{
		"sample-services-with-cfg-output.json":    Services,
		"sample-services-without-cfg-output.json": Services,
		"sample-census-output.json":               Census,
		"sample-butterfly-output.json":            Butterfly,
	} {
		b, err := os.ReadFile(filepath.Join(ReferenceDir(), file))
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Validate(schema, b); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
}

func TestValidatorRejects(t *testing.T) {
	v := MustValidator(t)
	for _, c := range []struct {
		schema Schema
		body   string
	}{
		{Services, `[{"surprise": true}]`},
		{Services, `{}`},
		{Census, `{"census_groups": {}}`},
		{Butterfly, `{"member": {"members": {}}}`},
		{Services, `not json`},
	} {
		if err := v.Validate(c.schema, []byte(c.body)); err == nil {
			t.Errorf("%s accepted %s", c.schema, c.body)
		}
	}
}

func TestNormalize(t *testing.T) {
	in := `{"process":{"pid":123,"state_entered":1700000000},"next_restart_at":null,` +
		`"population":{"abc123":{"member_id":"abc123","path":"/tmp/x/svc"}}}`
	got, err := Normalize([]byte(in), map[string]string{"abc123": "MEMBER_ID", "/tmp/x": "/ROOT"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"pid": 0`, `"state_entered": 0`, `"next_restart_at": null`,
		`"MEMBER_ID": {`, `"member_id": "MEMBER_ID"`, `"path": "/ROOT/svc"`} {
		if !strings.Contains(string(got), want) {
			t.Errorf("missing %s in\n%s", want, got)
		}
	}
}
