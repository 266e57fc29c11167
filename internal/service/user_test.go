package service

import (
	"strings"
	"testing"
)

// A package's SVC_USER is looked up only under a privileged (root)
// supervisor, which runs the service as that user: Check refuses one that
// names no user of this host then, and passes it otherwise, as the
// service runs as the supervisor's own user.
func TestCheckLooksUpTheServiceUserOnlyWhenPrivileged(t *testing.T) {
	p := testPkg(t, map[string]string{})
	p.SvcUser = "tend-no-such-user"
	if _, err := Check(p, false); err != nil {
		t.Fatalf("Check by an unprivileged supervisor: %v; want the package passed", err)
	}
	if _, err := Check(p, true); err == nil || !strings.Contains(err.Error(), `service user "tend-no-such-user"`) {
		t.Fatalf("Check by a privileged supervisor: %v; want the missing user named", err)
	}
}
