package main

import (
	"fmt"

	"github.com/tend-sh/tend/internal/pkg"
	"github.com/tend-sh/tend/internal/supcfg"
)

// checkStartup refuses a start-up file that lists a package that is not
// there, or two packages that would run as one service, before anything is
// created or started: `sup run` exits non-zero with one line rather than
// coming up ready without a service the file promised. Other faults of a
// package (a template that does not parse, a bind) are still the manager's
// to report when it loads it. Only IDENT files and directory names are
// read, so a long list costs little.
func checkStartup(cfg supcfg.Config) error {
	where := "start-up services"
	if cfg.ConfigFile != "" {
		where = cfg.ConfigFile + ": services"
	}
	first := map[string]string{} // service name -> pkg that named it first
	for _, req := range cfg.Services {
		id, err := pkg.Name(cfg.Root, req.Pkg)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if other, dup := first[id.Name]; dup {
			return fmt.Errorf("%s: %s and %s are both service %s; list it once", where, other, req.Pkg, id.Name)
		}
		first[id.Name] = req.Pkg
	}
	return nil
}
