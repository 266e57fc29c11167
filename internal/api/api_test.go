package api

import (
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
