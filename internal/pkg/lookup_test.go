package pkg

import (
	"errors"
	"path/filepath"
	"testing"
)

func TestName(t *testing.T) {
	root := t.TempDir()
	src := newPkg(t, minimal())
	if _, err := Install(root, src); err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{src, "core/app", "core/app/1.0.0", "core/app/1.0.0/20200101000000"} {
		id, err := Name(root, arg)
		if err != nil || id.String() != "core/app/1.0.0/20200101000000" {
			t.Errorf("Name(%q) = %v, %v", arg, id, err)
		}
	}
	for _, arg := range []string{"core/other", "core/app/2.0.0", filepath.Join(root, "nosuch")} {
		if _, err := Name(root, arg); !errors.Is(err, ErrNotFound) {
			t.Errorf("Name(%q) = %v; want ErrNotFound", arg, err)
		}
	}
	noIdent := newPkg(t, map[string]string{"hooks/run": "#!/bin/sh\n"})
	if _, err := Name(root, noIdent); !errors.Is(err, ErrMalformed) {
		t.Errorf("Name(no IDENT) = %v; want ErrMalformed", err)
	}
}
