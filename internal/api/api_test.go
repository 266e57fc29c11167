package api

import (
	"errors"
	"strings"
	"testing"
)

func TestDocBuildsOnceWithoutEscaping(t *testing.T) {
	n := 0
	d := NewDoc(func() any { n++; return map[string]string{"a": "<b>&"} })
	if n != 0 {
		t.Fatal("built before it was asked for")
	}
	for range 3 {
		b, err := d.JSON()
		if err != nil || string(b) != `{"a":"<b>&"}` {
			t.Fatalf("JSON = %s, %v", b, err)
		}
	}
	if n != 1 {
		t.Errorf("built %d times", n)
	}
	if _, err := NewDoc(func() any { return func() {} }).JSON(); err == nil {
		t.Error("an unencodable document encoded")
	}
}

// TestEncodedDocEncodesOnce: a document its owner encodes is encoded
// when first asked for, once, and its error is the document's.
func TestEncodedDocEncodesOnce(t *testing.T) {
	n := 0
	d := NewEncodedDoc(func() ([]byte, error) { n++; return []byte(`{"a":"<b>&"}`), nil })
	if n != 0 {
		t.Fatal("encoded before it was asked for")
	}
	for range 3 {
		if b, err := d.JSON(); err != nil || string(b) != `{"a":"<b>&"}` {
			t.Fatalf("JSON = %s, %v", b, err)
		}
	}
	if n != 1 {
		t.Errorf("encoded %d times", n)
	}
	if _, err := NewEncodedDoc(func() ([]byte, error) { return nil, errors.New("no") }).JSON(); err == nil {
		t.Error("a failed encode gave a document")
	}
}

func TestLoadRequestCheck(t *testing.T) {
	ok, big, neg := int(MaxSeconds), int(MaxSeconds)+1, -1
	if err := (LoadRequest{HealthCheckInterval: &ok, ShutdownTimeout: &ok}).Check(); err != nil {
		t.Error(err)
	}
	for _, r := range []LoadRequest{{HealthCheckInterval: &big}, {ShutdownTimeout: &big}, {ShutdownTimeout: &neg}} {
		if err := r.Check(); err == nil || !strings.Contains(err.Error(), "_") {
			t.Errorf("%+v: %v", r, err)
		}
	}
}
