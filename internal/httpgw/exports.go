package httpgw

import (
	"strings"

	"github.com/tend-sh/tend/internal/api"
)

// exportedCfg is the part of a service's config its package exports, as
// Habitat puts it in the service rumor: export name -> value found at the
// export's dotted path in the merged config. Exports whose path is missing
// are left out, as Habitat does.
func exportedCfg(svc *api.Service) map[string]any {
	out := make(map[string]any, len(svc.Pkg.Exports))
	for name, path := range svc.Pkg.Exports {
		if v, ok := lookupPath(svc.Cfg, path); ok && v != nil {
			out[name] = finite(v)
		}
	}
	return out
}

// lookupPath walks "a.b.c" through nested tables.
func lookupPath(cfg map[string]any, path string) (any, bool) {
	var cur any = cfg
	for key := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[key]; !ok {
			return nil, false
		}
	}
	return cur, true
}
