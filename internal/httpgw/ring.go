package httpgw

import (
	"net/http"

	"github.com/tend-sh/tend/internal/api"
)

// notYet is the answer to /census and /butterfly in the moment between the
// supervisor's first snapshot and the ring's first census.
var notYet = response{code: http.StatusServiceUnavailable}

// censusResponse is /census: the ring's census verbatim.
func (c *snapCache) censusResponse() *response {
	return c.census.get(func() response {
		return c.ringDoc("census", func(r *api.Ring) *api.Doc { return r.Census })
	})
}

// butterflyResponse is /butterfly, likewise.
func (c *snapCache) butterflyResponse() *response {
	return c.butterfly.get(func() response {
		return c.ringDoc("butterfly", func(r *api.Ring) *api.Doc { return r.Butterfly })
	})
}

func (c *snapCache) ringDoc(what string, doc func(*api.Ring) *api.Doc) response {
	if c.snap.Ring == nil {
		return notYet
	}
	d := doc(c.snap.Ring)
	if d == nil {
		return notYet
	}
	b, err := d.JSON()
	if err != nil {
		c.log.Error("http gateway: encode "+what, "err", err)
		return failure
	}
	return newResponse(ctypeJSON, b)
}
