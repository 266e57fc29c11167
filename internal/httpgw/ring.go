package httpgw

// censusResponse is /census: the ring's census verbatim once the ring
// exists, this member alone before.
func (c *snapCache) censusResponse() *response {
	return c.census.get(func() response {
		var v any
		if r := c.snap.Ring; r != nil && r.Census != nil {
			v = r.Census
		} else {
			v = localCensus(c.snap)
		}
		return c.encode("census", v)
	})
}

// butterflyResponse is /butterfly, likewise.
func (c *snapCache) butterflyResponse() *response {
	return c.butterfly.get(func() response {
		var v any
		if r := c.snap.Ring; r != nil && r.Butterfly != nil {
			v = r.Butterfly
		} else {
			v = localButterfly(c.snap)
		}
		return c.encode("butterfly", v)
	})
}

func (c *snapCache) encode(what string, v any) response {
	b, err := marshal(v)
	if err != nil {
		c.log.Error("http gateway: encode "+what, "err", err)
		return failure
	}
	return newResponse(ctypeJSON, b)
}
