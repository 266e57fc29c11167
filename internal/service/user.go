package service

import (
	"fmt"
	"os"
	"os/user"

	"github.com/tend-sh/tend/internal/pkg"
)

// checkUser refuses a package whose SVC_USER or SVC_GROUP does not exist
// on this host when the service would run as them (under a root
// supervisor): every start would fail, so the load is refused instead,
// before anything is written. credentials looks them up again at each
// start, as a user may be removed later.
func checkUser(p *pkg.Package) error {
	if os.Geteuid() != 0 || p.SvcUser == "" {
		return nil
	}
	if _, err := user.Lookup(p.SvcUser); err != nil {
		return fmt.Errorf("service user %q: %w", p.SvcUser, err)
	}
	if p.SvcGroup != "" {
		if _, err := user.LookupGroup(p.SvcGroup); err != nil {
			return fmt.Errorf("service group %q: %w", p.SvcGroup, err)
		}
	}
	return nil
}
