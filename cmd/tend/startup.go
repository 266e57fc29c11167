package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tend-sh/tend/internal/ident"
	"github.com/tend-sh/tend/internal/pkg"
	"github.com/tend-sh/tend/internal/supcfg"
)

// checkWorkers look packages up side by side: each lookup waits on the
// file system, and the first service starts only after the last lookup.
const checkWorkers = 4

// checkStartup refuses a start-up file that lists a package that is not
// there, or two packages that would run as one service, before anything is
// created or started: `sup run` exits non-zero with one line rather than
// coming up ready without a service the file promised. Other faults of a
// package (a template that does not parse, a bind) are still the manager's
// to report when it loads it. Only IDENT files and directory names are
// read, so a long list costs little. It returns what each ident (not a
// directory, not a bare name) resolved to, for the manager to load
// without looking again.
func checkStartup(cfg supcfg.Config) (map[string]ident.Ident, error) {
	where := "start-up services"
	if cfg.ConfigFile != "" {
		where = cfg.ConfigFile + ": services"
	}
	type result struct {
		id  ident.Ident
		err error
	}
	res := make([]result, len(cfg.Services))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(len(res), checkWorkers) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(res); i = int(next.Add(1) - 1) {
				res[i].id, res[i].err = pkg.Name(cfg.Root, cfg.Services[i].Pkg)
			}
		})
	}
	wg.Wait()
	found := make(map[string]ident.Ident, len(res))
	first := map[string]string{} // service name -> pkg that named it first
	for i, req := range cfg.Services {
		id, err := res[i].id, res[i].err
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if other, dup := first[id.Name]; dup {
			return nil, fmt.Errorf("%s: %s and %s are both service %s; list it once", where, other, req.Pkg, id.Name)
		}
		first[id.Name] = req.Pkg
		if !filepath.IsAbs(req.Pkg) && strings.Contains(req.Pkg, "/") {
			found[req.Pkg] = id
		}
	}
	return found, nil
}
