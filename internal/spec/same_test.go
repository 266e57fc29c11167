package spec

import (
	"bytes"
	"os"
	"reflect"
	"testing"
)

func parseFile(t *testing.T, file string) Spec {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := Parse(file, data)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// A restart compares each start-up service's spec with its file's: when
// nothing changed, that costs no encoding (0 allocations; Encode makes a
// few dozen).
func TestSameUnchangedEncodesNothing(t *testing.T) {
	for _, f := range []string{"testdata/habitat-1.6-redis.spec", "testdata/tend-written.spec"} {
		old := parseFile(t, f)
		sp := old
		if !Same(old, sp) {
			t.Fatalf("%s: a copy is not the same", f)
		}
		if n := testing.AllocsPerRun(100, func() { Same(old, sp) }); n != 0 {
			t.Errorf("%s: Same of a copy allocates %v times; want none (no encoding)", f, n)
		}
	}
}

// Same agrees with comparing the encoded files, field by field: every
// field of Spec changed on its own makes a different file, and Same says
// so. A field added to Spec and not to equalFields fails here.
func TestSameIsEncodingEqual(t *testing.T) {
	base := parseFile(t, "testdata/tend-written.spec")
	if len(base.kept) == 0 {
		t.Fatal("the fixture keeps no unknown key; pick one that does")
	}
	str, one, seven := "x", 1, uint64(7)
	rt := reflect.TypeFor[Spec]()
	for i := range rt.NumField() {
		f := rt.Field(i)
		sp := base
		v := reflect.ValueOf(&sp).Elem().Field(i)
		switch f.Name {
		case "Binds":
			sp.Binds = append(append([]string(nil), base.Binds...), "x:y.default")
		case "HealthCheckInterval":
			sp.HealthCheckInterval.Nanos++
		case "kept":
			other := parseFile(t, "testdata/tend-written.spec")
			sp.kept = other.kept
			if !Same(base, sp) {
				t.Errorf("kept: the same keys parsed twice are not the same")
			}
			sp.kept = nil
		default:
			switch v.Interface().(type) {
			case string:
				v.SetString(v.String() + "x")
			case *string:
				v.Set(reflect.ValueOf(&str))
			case *int:
				if v.IsNil() {
					v.Set(reflect.ValueOf(&one))
				} else {
					n := v.Elem().Int() + 1
					v.Set(reflect.ValueOf(func() *int { m := int(n); return &m }()))
				}
			case *uint64:
				v.Set(reflect.ValueOf(&seven))
			default:
				t.Fatalf("field %s of type %s: teach this test (and equalFields) about it", f.Name, f.Type)
			}
		}
		if bytes.Equal(base.Encode(), sp.Encode()) {
			t.Fatalf("field %s: the change does not show in the file", f.Name)
		}
		if Same(base, sp) || Same(sp, base) {
			t.Errorf("field %s differs, but Same says the specs are the same", f.Name)
		}
	}
	// Differences the file does not show are no difference.
	a, b := base, base
	a.Binds, b.Binds = nil, []string{}
	st1, st2 := 10, 10
	a.ShutdownTimeout, b.ShutdownTimeout = &st1, &st2
	if !Same(a, b) {
		t.Error("nil and empty binds, or pointers to equal values, are not the same")
	}
}
