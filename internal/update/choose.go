package update

import "github.com/tend-sh/tend/internal/ident"

// Update conditions (the spec's update_condition).
const (
	Latest       = "latest"
	TrackChannel = "track-channel"
)

// Pick is the package a service running `running` moves to, given the
// newest package its update source offers (fromSource) and the newest one
// installed under the root (installed), each satisfying the service's
// ident; found false for either when there is none.
//
//   - latest: the newest of the two, if it is newer than running (an
//     older one is never taken);
//   - track-channel: the source is the channel, and its newest package is
//     the head to track: taken whenever it differs from running, older
//     included (a rollback). What is installed does not count.
func Pick(condition string, running ident.Ident, fromSource ident.Ident, inSource bool, installed ident.Ident, isInstalled bool) (ident.Ident, bool) {
	if condition == TrackChannel {
		if inSource && fromSource != running {
			return fromSource, true
		}
		return ident.Ident{}, false
	}
	best, ok := running, false
	for _, c := range []struct {
		id ident.Ident
		ok bool
	}{{fromSource, inSource}, {installed, isInstalled}} {
		if c.ok && ident.Compare(c.id, best) > 0 {
			best, ok = c.id, true
		}
	}
	return best, ok
}
