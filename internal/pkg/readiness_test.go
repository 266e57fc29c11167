package pkg

import (
	"errors"
	"path/filepath"
	"testing"
)

func TestReadReadiness(t *testing.T) {
	p, err := Read(newPkg(t, with(minimal(), map[string]string{"NOTIFICATION_FD": "# s6\n3\n"})))
	if err != nil {
		t.Fatal(err)
	}
	if p.NotificationFD != 3 || p.Notify {
		t.Errorf("NOTIFICATION_FD 3: %d %v", p.NotificationFD, p.Notify)
	}
	p, err = Read(newPkg(t, with(minimal(), map[string]string{"NOTIFY": "sd_notify\n"})))
	if err != nil {
		t.Fatal(err)
	}
	if p.NotificationFD != 0 || !p.Notify {
		t.Errorf("NOTIFY: %d %v", p.NotificationFD, p.Notify)
	}
	p, err = Read(newPkg(t, minimal()))
	if err != nil {
		t.Fatal(err)
	}
	if p.NotificationFD != 0 || p.Notify {
		t.Errorf("neither: %d %v", p.NotificationFD, p.Notify)
	}
}

func TestReadReadinessRefused(t *testing.T) {
	for _, tc := range []struct {
		files      map[string]string
		file, want string
	}{
		{map[string]string{"NOTIFICATION_FD": "2\n"}, "NOTIFICATION_FD", `NOTIFICATION_FD:1: expected a descriptor number from 3 to 1023, got "2"`},
		{map[string]string{"NOTIFICATION_FD": "1024\n"}, "NOTIFICATION_FD", `NOTIFICATION_FD:1: expected a descriptor number from 3 to 1023, got "1024"`},
		{map[string]string{"NOTIFICATION_FD": "three\n"}, "NOTIFICATION_FD", `NOTIFICATION_FD:1: expected a descriptor number from 3 to 1023, got "three"`},
		{map[string]string{"NOTIFICATION_FD": "\n"}, "NOTIFICATION_FD", `NOTIFICATION_FD: empty: expected a descriptor number from 3 to 1023`},
		{map[string]string{"NOTIFY": "systemd\n"}, "NOTIFY", `NOTIFY:1: expected "sd_notify", got "systemd"`},
		{map[string]string{"NOTIFY": "sd_notify\n", "NOTIFICATION_FD": "3\n"}, "NOTIFY", `NOTIFY: NOTIFICATION_FD is set too: a service tells it is ready one way`},
	} {
		dir := newPkg(t, with(minimal(), tc.files))
		_, err := Read(dir)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%v: %v, want a malformed package", tc.files, err)
			continue
		}
		if got, want := err.Error(), filepath.Join(dir, tc.want); got != want {
			t.Errorf("%v:\n got %s\nwant %s", tc.files, got, want)
		}
	}
}
