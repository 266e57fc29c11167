package httpgw

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/tend-sh/tend/internal/api"
	"github.com/tend-sh/tend/internal/httpgw/gwtest"
)

// referenceDir holds Habitat's schemas; CI clones the repository with
// shared/ beside it, as here.
const referenceDir = "../../../shared/habitat-reference"

func validator(t *testing.T) *gwtest.Validator {
	t.Helper()
	v, err := gwtest.NewValidator(referenceDir)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOutputValidatesAgainstHabitatSchemas(t *testing.T) {
	v := validator(t)
	empty := withRing(&api.Snapshot{Ready: true, Sup: fixtureSup("")})
	snaps := map[string]*api.Snapshot{
		"plain":   fixtureSnapshot(""),
		"org":     fixtureSnapshot("acme"),
		"empty":   empty,
		"100":     manyServices(100),
		"minimal": withRing(&api.Snapshot{Ready: true, Services: []*api.Service{{Name: "x", Group: "y", ServiceGroup: "x.y"}}}),
	}
	for name, s := range snaps {
		for _, redact := range []bool{false, true} {
			h := serve(s, redact)
			check := func(path string, schema gwtest.Schema) {
				t.Helper()
				r := do(t, h, "GET", path)
				if redact && schema != gwtest.Services {
					return // 404
				}
				if r.code != 200 {
					t.Fatalf("%s redact=%v GET %s: %d", name, redact, path, r.code)
				}
				if err := v.Validate(schema, r.body); err != nil {
					t.Errorf("%s redact=%v GET %s: %v", name, redact, path, err)
				}
			}
			check("/services", gwtest.Services)
			check("/census", gwtest.Census)
			check("/butterfly", gwtest.Butterfly)
			// A single service is one element of the /services array.
			for _, svc := range s.Services {
				r := do(t, h, "GET", servicePath(svc))
				if err := v.Validate(gwtest.Services, append(append([]byte("["), r.body...), ']')); err != nil {
					t.Errorf("%s redact=%v %s: %v", name, redact, svc.ServiceGroup, err)
				}
			}
		}
	}
}

func servicePath(svc *api.Service) string {
	p := "/services/" + svc.Name + "/" + svc.Group
	if svc.Org != "" {
		p += "/" + svc.Org
	}
	return p
}

func TestRedactedServicesHaveNoCfg(t *testing.T) {
	for _, redact := range []bool{false, true} {
		r := do(t, serve(fixtureSnapshot(""), redact), "GET", "/services")
		var objs []map[string]json.RawMessage
		if err := json.Unmarshal(r.body, &objs); err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if _, has := o["cfg"]; has == redact {
				t.Errorf("redact=%v: %s has cfg=%v", redact, o["service_group"], has)
			}
		}
		c := do(t, serve(fixtureSnapshot(""), redact), "GET", "/services/redis/default/config")
		if got := string(c.body); redact && got != "null" {
			t.Errorf("redacted /config = %s, want null", got)
		}
	}
}

// Once the ring exists, /census and /butterfly are its documents verbatim.
func TestRingDocumentsVerbatim(t *testing.T) {
	v := validator(t)
	s := fixtureSnapshot("")
	census, butterfly := loadSample(t, "sample-census-output.json"), loadSample(t, "sample-butterfly-output.json")
	s.Ring = &api.Ring{
		Census:    api.NewDoc(func() any { return census }),
		Butterfly: api.NewDoc(func() any { return butterfly }),
	}
	h := serve(s, false)
	for path, want := range map[string]any{"/census": census, "/butterfly": butterfly} {
		r := do(t, h, "GET", path)
		wantJSON, err := marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if r.code != 200 || string(r.body) != string(wantJSON) {
			t.Errorf("%s: %d, not the ring's document verbatim", path, r.code)
		}
	}
	if err := v.Validate(gwtest.Census, do(t, h, "GET", "/census").body); err != nil {
		t.Error(err)
	}
	if err := v.Validate(gwtest.Butterfly, do(t, h, "GET", "/butterfly").body); err != nil {
		t.Error(err)
	}
	// A ring document that cannot be encoded is a 500, not a panic.
	s2 := fixtureSnapshot("")
	s2.Ring = &api.Ring{Census: api.NewDoc(func() any { return map[string]any{"bad": func() {}} })}
	if r := do(t, serve(s2, false), "GET", "/census"); r.code != 500 || len(r.body) != 0 {
		t.Errorf("unencodable census: %d %q", r.code, r.body)
	}
}

func loadSample(t *testing.T, name string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(referenceDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}
