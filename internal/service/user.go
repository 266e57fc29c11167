package service

import (
	"fmt"
	"os/user"
	"strconv"

	"github.com/tend-sh/tend/internal/pkg"
)

// checkUser refuses a package whose SVC_USER or SVC_GROUP does not exist
// on this host when the service would run as them (under a privileged,
// root, supervisor): every start would fail, so the load is refused
// instead, before anything is written. credentials looks them up again at
// each start, as a user may be removed later.
func checkUser(p *pkg.Package, privileged bool) error {
	_, _, _, err := serviceIDs(p, privileged)
	return err
}

// serviceIDs looks up the uid and gid a package's service runs as; ok is
// false when it runs as the supervisor's user (not privileged, or no
// SVC_USER).
func serviceIDs(p *pkg.Package, privileged bool) (uid, gid int, ok bool, err error) {
	if !privileged || p.SvcUser == "" {
		return 0, 0, false, nil
	}
	u, err := user.Lookup(p.SvcUser)
	if err != nil {
		return 0, 0, false, fmt.Errorf("service user %q: %w", p.SvcUser, err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	if p.SvcGroup != "" {
		g, err := user.LookupGroup(p.SvcGroup)
		if err != nil {
			return 0, 0, false, fmt.Errorf("service group %q: %w", p.SvcGroup, err)
		}
		gid, _ = strconv.Atoi(g.Gid)
	}
	return uid, gid, true, nil
}
