package monitor

import (
	"time"

	"github.com/tend-sh/tend/internal/api"
)

// The health-check duration histogram is a real, cumulative histogram per
// service group, fed at scrape time with the results that appeared in
// HealthHistory since the previous scrape.
//
// A const histogram rebuilt from HealthHistory on every scrape would be
// simpler but wrong: the history is a bounded window, so its counts would
// shrink as old results fall out, and Prometheus reads any decrease of a
// histogram's _count or _bucket as a counter reset, which turns rate() and
// histogram_quantile() into noise. Folding new results into running totals
// keeps every series monotonic. Results are lost only if no scrape happens
// for longer than the history window (a few dozen checks per service).

// numHealthBuckets is the size of healthBounds.
const numHealthBuckets = 11

// healthBounds are the bucket upper bounds in seconds: Prometheus' default
// buckets, which span what a health-check hook takes (a fork and exec costs a
// millisecond or two; a stuck check runs into its timeout).
func healthBounds() [numHealthBuckets]float64 {
	return [numHealthBuckets]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
}

// healthHist is the running histogram of one service group.
type healthHist struct {
	last  time.Time // At of the newest result folded in
	seen  uint64    // scrape generation that last saw the service
	count uint64
	sum   float64
	cum   [numHealthBuckets]uint64 // cumulative counts, as exposed
}

// fold adds the results of res (oldest first) newer than the last one seen.
func (h *healthHist) fold(res []api.HealthResult, bounds *[numHealthBuckets]float64) {
	start := len(res)
	for start > 0 && res[start-1].At.After(h.last) {
		start--
	}
	for _, r := range res[start:] {
		v := r.Duration.Seconds()
		h.count++
		h.sum += v
		for j, b := range bounds {
			if v <= b {
				h.cum[j]++
			}
		}
		h.last = r.At
	}
}
